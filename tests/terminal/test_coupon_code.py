from __future__ import annotations

import base64
import io
import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import segno
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes

from terminal import coupon_code as cc
from terminal import offline_code
from terminal.paycode import looks_like_payment_code

NOW = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))
# The server's id shapes: a prefix, "_" and 16 URL-safe characters.
MERCHANT_ID = "m_Ab3dEf6hIj9kLm0n"
WALLET_ID = "w_Zy8xWv7uTs6rQp5o"


def _key_id(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return offline_code.issuer_key_id(raw)


ISSUER_KEYS = {_key_id(ISSUER_KEY): ISSUER_KEY.public_key()}


def _terms(**changes: object) -> cc.CouponTerms:
    terms = cc.CouponTerms(
        issuer_key_id=_key_id(ISSUER_KEY),
        coupon_id="c_Qw3rTy7uIo9p",
        campaign_id="wakamatsu-aki",
        wallet_id=WALLET_ID,
        discount_kind=cc.DiscountKind.YEN,
        discount_value=100,
        minimum_spend_yen=500,
        max_discount_yen=0,
        valid_from=NOW - timedelta(days=1),
        valid_until=NOW + timedelta(days=30),
        merchant_ids=(MERCHANT_ID,),
        title="コーヒー100円引き",
    )
    return replace(terms, **changes)  # type: ignore[arg-type]


def _code(**changes: object) -> str:
    return cc.make_coupon_code(_terms(**changes), ISSUER_KEY)


def test_code_round_trips_every_field() -> None:
    terms = _terms(discount_kind=cc.DiscountKind.PERCENT, discount_value=15,
                   max_discount_yen=300, merchant_ids=("m_1", "m_2", "m_3"))
    parsed = cc.parse_coupon_code(cc.make_coupon_code(terms, ISSUER_KEY))

    assert cc.encode_terms(parsed) == cc.encode_terms(terms)
    assert parsed.coupon_id == "c_Qw3rTy7uIo9p"
    assert parsed.campaign_id == "wakamatsu-aki"
    assert parsed.wallet_id == WALLET_ID
    assert parsed.discount_kind is cc.DiscountKind.PERCENT
    assert parsed.discount_value == 15
    assert parsed.minimum_spend_yen == 500
    assert parsed.max_discount_yen == 300
    assert parsed.valid_from == NOW - timedelta(days=1)
    assert parsed.valid_until == NOW + timedelta(days=30)
    assert parsed.merchant_ids == ("m_1", "m_2", "m_3")
    assert parsed.title == "コーヒー100円引き"


def test_code_uses_only_wedge_safe_characters() -> None:
    text = _code()

    assert text.startswith("CKC1")
    assert set(text) <= set(string.ascii_uppercase + string.digits)


def test_code_length_for_one_shop_is_measured() -> None:
    # One shop, the server's id shapes and an 8-character Japanese title (24 UTF-8 bytes).
    text = _code(title="秋のコーヒー割引")

    assert len(text) == 302
    assert len(text) < 336  # shorter than the 336 characters of an offline payment code


def test_code_length_worst_case_is_bounded() -> None:
    terms = _terms(
        coupon_id="c" * cc.MAX_COUPON_ID_LENGTH,
        campaign_id="k" * cc.MAX_CAMPAIGN_ID_LENGTH,
        wallet_id="w" * cc.MAX_WALLET_ID_LENGTH,
        merchant_ids=tuple(f"m{i}" * 12 for i in range(cc.MAX_SHOPS)),
        title="あ" * (cc.MAX_TITLE_BYTES // 3),
    )
    text = cc.make_coupon_code(terms, ISSUER_KEY)

    assert len(base64.b32decode(text[4:] + "=" * (-len(text[4:]) % 8))) == cc.MAX_CODE_BYTES
    assert cc.MAX_CODE_BYTES == 275
    assert len(text) == 444


def test_code_for_campaign_shops_is_shorter() -> None:
    assert len(_code(merchant_ids=())) == len(_code()) - 30  # 19 bytes fewer


def test_code_decodes_from_qr_image() -> None:
    text = _code()
    qr = segno.make_qr(text, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=4)
    buffer.seek(0)

    decoded = decode_barcodes(Image.open(buffer))

    assert qr.mode == "alphanumeric"
    assert [result.data.decode("ascii") for result in decoded] == [text]


def test_looks_like_coupon_code_tells_kinds_apart() -> None:
    text = _code()

    assert cc.looks_like_coupon_code(text)
    assert cc.looks_like_coupon_code(text.lower())
    assert not offline_code.looks_like_offline_code(text)
    assert not looks_like_payment_code(text)
    assert not cc.looks_like_coupon_code("CKO1" + text[4:])
    assert not cc.looks_like_coupon_code("CKC1")
    assert not cc.looks_like_coupon_code("91234567890123456789")


def test_parse_reads_lower_case_and_whitespace() -> None:
    text = _code()

    assert cc.parse_coupon_code(f"  {text.lower()}\n").coupon_id == "c_Qw3rTy7uIo9p"


@pytest.mark.parametrize("damage", [
    lambda text: text[:-1],
    lambda text: text[:60] + ("A" if text[60] != "A" else "B") + text[61:],
    lambda text: text + "A",
    lambda text: "CKX1" + text[4:],
    lambda text: text[:10] + "1" + text[11:],
    lambda text: "CKC1",
])
def test_parse_rejects_damaged_scan(damage: object) -> None:
    with pytest.raises(cc.MalformedCouponCode) as caught:
        cc.parse_coupon_code(damage(_code()))  # type: ignore[operator]

    assert caught.value.reason is cc.CouponRejection.MALFORMED


def test_parse_names_the_failed_check() -> None:
    text = _code()
    damaged = text[:60] + ("A" if text[60] != "A" else "B") + text[61:]

    with pytest.raises(cc.MalformedCouponCode, match="scan it again"):
        cc.parse_coupon_code(damaged)


def test_verify_accepts_signed_code_in_window() -> None:
    code = cc.parse_coupon_code(_code())

    cc.verify(code, ISSUER_KEYS, NOW)
    cc.verify(code, ISSUER_KEYS, code.valid_from)


def test_verify_rejects_unknown_issuer() -> None:
    code = cc.parse_coupon_code(_code())

    with pytest.raises(cc.UnknownIssuer) as caught:
        cc.verify(code, {}, NOW)

    assert caught.value.reason is cc.CouponRejection.UNKNOWN_ISSUER


def test_verify_rejects_changed_terms() -> None:
    # Re-signing with another key under the real key id stands for a forged discount.
    terms = _terms(discount_value=5000)
    forged_part = cc.encode_terms(terms)
    signature = OTHER_KEY.sign(cc.COUPON_DOMAIN + forged_part)
    forged = cc.CouponCode(**{**terms.__dict__, "signature": signature})

    with pytest.raises(cc.BadSignature) as caught:
        cc.verify(forged, ISSUER_KEYS, NOW)

    assert caught.value.reason is cc.CouponRejection.BAD_SIGNATURE


def test_verify_rejects_before_and_after_window() -> None:
    code = cc.parse_coupon_code(_code())

    with pytest.raises(cc.NotYetValid):
        cc.verify(code, ISSUER_KEYS, code.valid_from - timedelta(seconds=1))
    with pytest.raises(cc.CouponExpired) as caught:
        cc.verify(code, ISSUER_KEYS, code.valid_until)

    assert caught.value.reason is cc.CouponRejection.EXPIRED


def test_make_rejects_key_that_is_not_named() -> None:
    with pytest.raises(ValueError, match="not issuer key"):
        cc.make_coupon_code(_terms(), OTHER_KEY)


@pytest.mark.parametrize(("changes", "message"), [
    ({"discount_kind": cc.DiscountKind.PERCENT, "discount_value": 101}, "percent"),
    ({"discount_value": 0}, "yen"),
    ({"merchant_ids": ("a", "b", "c", "d")}, "name the campaign"),
    ({"title": "あ" * 11}, "title"),
    ({"title": "two\nlines"}, "title"),
    ({"wallet_id": "ｗ1"}, "wallet_id"),
    ({"valid_until": NOW - timedelta(days=2)}, "not after"),
    ({"valid_from": NOW.replace(tzinfo=None)}, "time zone"),
])
def test_terms_reject_invalid_values(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _terms(**changes)


def test_check_shop_for_named_merchants() -> None:
    code = cc.parse_coupon_code(_code())

    cc.check_shop(code, MERCHANT_ID, campaign_ids=())
    with pytest.raises(cc.WrongShop) as caught:
        cc.check_shop(code, "m_other", campaign_ids=("wakamatsu-aki",))

    assert caught.value.reason is cc.CouponRejection.WRONG_SHOP


def test_check_shop_for_campaign_participants() -> None:
    code = cc.parse_coupon_code(_code(merchant_ids=()))

    assert code.for_all_campaign_shops
    cc.check_shop(code, "m_any", campaign_ids=("wakamatsu-aki",))
    with pytest.raises(cc.WrongShop, match="does not participate"):
        cc.check_shop(code, "m_any", campaign_ids=("other",))


def test_check_wallet_rejects_other_wallet() -> None:
    code = cc.parse_coupon_code(_code())

    cc.check_wallet(code, WALLET_ID)
    with pytest.raises(cc.WrongWallet):
        cc.check_wallet(code, "w_someone_else")


@pytest.mark.parametrize(("kind", "value", "minimum", "maximum", "total", "expected"), [
    (cc.DiscountKind.YEN, 100, 500, 0, 499, 0),
    (cc.DiscountKind.YEN, 100, 500, 0, 500, 100),
    (cc.DiscountKind.YEN, 1000, 0, 0, 300, 299),
    (cc.DiscountKind.YEN, 1000, 0, 0, 1, 0),
    (cc.DiscountKind.PERCENT, 10, 0, 0, 999, 99),
    (cc.DiscountKind.PERCENT, 15, 0, 0, 1, 0),
    (cc.DiscountKind.PERCENT, 100, 0, 0, 777, 776),
    (cc.DiscountKind.PERCENT, 5, 1000, 0, 999, 0),
    (cc.DiscountKind.PERCENT, 5, 1000, 0, 1000, 50),
    (cc.DiscountKind.PERCENT, 10, 0, 500, 8000, 500),
    (cc.DiscountKind.PERCENT, 10, 0, 500, 3000, 300),
])
def test_discount_yen_rounds_down_and_caps(
    kind: cc.DiscountKind, value: int, minimum: int, maximum: int, total: int, expected: int
) -> None:
    terms = _terms(discount_kind=kind, discount_value=value, minimum_spend_yen=minimum,
                   max_discount_yen=maximum)

    assert cc.discount_yen(terms, total) == expected


def test_mask_keeps_prefix_tail_and_length() -> None:
    text = _code()

    assert cc.mask_coupon_code(text) == f"CKC1...{text[-4:]} ({len(text)} chars)"


def test_mask_shows_short_text_whole() -> None:
    assert cc.mask_coupon_code(" garbage ") == "'garbage' (7 chars)"
    assert cc.mask_coupon_code("CKC1ABCD") == "'CKC1ABCD' (8 chars)"
    assert cc.mask_coupon_code("CKC1ABCDE") == "CKC1...BCDE (9 chars)"
