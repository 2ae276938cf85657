"""The paired code: a payment code and a coupon code in one scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.scanner.base import normalize_scan
from drivers.scanner.wedge import MAX_BURST_LENGTH
from terminal import coupon_pairing, messages
from terminal import offline_code as oc
from terminal.coupon_code import (
    MAX_CAMPAIGN_ID_LENGTH,
    MAX_COUPON_ID_LENGTH,
    MAX_MERCHANT_ID_LENGTH,
    MAX_SHOPS,
    MAX_WALLET_ID_LENGTH,
    CouponTerms,
    DiscountKind,
    make_coupon_code,
)
from terminal.coupon_pairing import PairedCodeError
from terminal.paycode import CODE_PREFIX, RANDOM_DIGITS, new_payment_code
from terminal.scan_check import ScanCheckFailed, ScanKind, classify_scan

ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WALLET_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
ISSUER_KEY_ID = oc.issuer_key_id(ISSUER_KEY.public_key().public_bytes_raw())
SIGNED_AT = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
ID_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def coupon_text(coupon_id: str = "cp_a1", *, merchant_ids: tuple[str, ...] = ("m_1",),
                wallet_id: str = "w_Ab3dEf6hIj9kLm0n", campaign_id: str = "aki",
                title: str = "秋の市") -> str:
    terms = CouponTerms(
        issuer_key_id=ISSUER_KEY_ID, coupon_id=coupon_id, campaign_id=campaign_id,
        wallet_id=wallet_id, discount_kind=DiscountKind.YEN, discount_value=100,
        minimum_spend_yen=0, max_discount_yen=0, valid_from=SIGNED_AT - timedelta(days=1),
        valid_until=SIGNED_AT + timedelta(days=30), merchant_ids=merchant_ids, title=title,
    )
    return make_coupon_code(terms, ISSUER_KEY)


def offline_text(wallet_id: str = "w_Ab3dEf6hIj9kLm0n") -> str:
    body = oc.CertificateBody(
        serial=7, issuer_key_id=ISSUER_KEY_ID, wallet_id=wallet_id,
        wallet_public_key=WALLET_KEY.public_key().public_bytes_raw(), allowance_yen=30_000,
        valid_until=SIGNED_AT + timedelta(days=7),
    )
    return oc.make_offline_code(oc.sign_certificate(body, ISSUER_KEY), WALLET_KEY, 1, SIGNED_AT)


def payment_code_from(digits: str) -> str:
    body = CODE_PREFIX + digits
    return body + f"{98 - int(body + '00') % 97:02d}"


def drop(text: str, index: int) -> str:
    return text[:index] + text[index + 1 :]


def test_join_puts_slash_between_parts() -> None:
    payment = new_payment_code()
    coupon = coupon_text()

    assert coupon_pairing.join(payment, coupon) == f"{payment}/{coupon}"


def test_split_returns_both_parts() -> None:
    payment = offline_text()
    coupon = coupon_text()

    assert coupon_pairing.split(f"{payment}/{coupon}") == (payment, coupon)


@settings(max_examples=40, deadline=None)
@given(
    digits=st.text("0123456789", min_size=RANDOM_DIGITS, max_size=RANDOM_DIGITS),
    coupon_id=st.text(ID_ALPHABET, min_size=1, max_size=MAX_COUPON_ID_LENGTH),
    lower=st.booleans(),
)
def test_round_trip_online(digits: str, coupon_id: str, lower: bool) -> None:
    payment = payment_code_from(digits)
    coupon = coupon_text(coupon_id)
    joined = coupon_pairing.join(payment, coupon)
    scanned = joined.lower() if lower else joined

    paired = coupon_pairing.check(scanned)

    assert paired.payment_code == payment
    assert paired.coupon_code == coupon
    assert not paired.offline
    assert classify_scan(scanned) is ScanKind.PAYMENT_WITH_COUPON


@settings(max_examples=15, deadline=None)
@given(
    wallet_id=st.text(ID_ALPHABET, min_size=1, max_size=MAX_WALLET_ID_LENGTH),
    title=st.text(st.characters(codec="utf-8", categories=["L", "N"]), min_size=1, max_size=10)
    .filter(lambda text: len(text.encode()) <= 30),
)
def test_round_trip_offline(wallet_id: str, title: str) -> None:
    payment = offline_text(wallet_id)
    coupon = coupon_text(wallet_id=wallet_id, title=title)

    paired = coupon_pairing.check(coupon_pairing.join(payment.lower(), coupon.lower()))

    assert paired == coupon_pairing.PairedCode(payment, coupon)
    assert paired.offline


def test_full_width_slash_folds_to_paired() -> None:
    payment = new_payment_code()
    coupon = coupon_text()
    typed = normalize_scan(f"{payment}／{coupon}", "us_on_jis")

    assert coupon_pairing.check(typed).payment_code == payment


@pytest.mark.parametrize("layout", ["same", "us_on_jis", "jis_on_us"])
def test_layout_repair_keeps_slash(layout: str) -> None:
    text = coupon_pairing.join(offline_text(), coupon_text())

    assert normalize_scan(text, layout) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "4901234567894",
        "https://example.jp/coupon",
        "12345/HELLO",
        "CKC1ABCD/CKC1ABCD",
        "91/",
        "",
    ],
)
def test_other_texts_are_not_paired(text: str) -> None:
    assert coupon_pairing.split(text) is None
    assert not coupon_pairing.looks_like_paired_code(text)


def test_two_slashes_are_not_paired() -> None:
    text = f"{new_payment_code()}/{coupon_text()}/"

    assert coupon_pairing.split(text) is None


@pytest.mark.parametrize("index", [0, 9, 19])
def test_damaged_online_part_rejected(index: int) -> None:
    text = f"{drop(new_payment_code(), index)}/{coupon_text()}"

    with pytest.raises(PairedCodeError, match="payment part") as caught:
        coupon_pairing.check(text)

    assert caught.value.part == "payment"
    assert caught.value.message_key == messages.CODE_MALFORMED


def test_damaged_offline_part_rejected() -> None:
    text = f"{drop(offline_text(), 100)}/{coupon_text()}"

    with pytest.raises(PairedCodeError, match="payment part"):
        coupon_pairing.check(text)


@pytest.mark.parametrize("index", [5, 120, -1])
def test_damaged_coupon_part_rejected(index: int) -> None:
    coupon = coupon_text()
    text = f"{new_payment_code()}/{drop(coupon, index % len(coupon))}"

    with pytest.raises(PairedCodeError, match="coupon part") as caught:
        coupon_pairing.check(text)

    assert caught.value.part == "coupon"


def test_swapped_coupon_character_rejected() -> None:
    coupon = coupon_text()
    changed = "A" if coupon[60] != "A" else "B"
    text = f"{new_payment_code()}/{coupon[:60]}{changed}{coupon[61:]}"

    with pytest.raises(ScanCheckFailed) as caught:
        classify_scan(text)

    assert caught.value.kind is ScanKind.PAYMENT_WITH_COUPON
    assert caught.value.message_key == messages.CODE_MALFORMED


def test_join_rejects_damaged_part() -> None:
    with pytest.raises(PairedCodeError, match="coupon part"):
        coupon_pairing.join(new_payment_code(), coupon_text()[:-2])


def test_check_rejects_unpaired_text() -> None:
    with pytest.raises(PairedCodeError, match="expected <payment code>/<coupon code>"):
        coupon_pairing.check(new_payment_code())


def test_longest_pair_fits_scanner_and_qr() -> None:
    longest_coupon = coupon_text(
        "c" * MAX_COUPON_ID_LENGTH,
        merchant_ids=tuple(f"{index}" * MAX_MERCHANT_ID_LENGTH for index in range(MAX_SHOPS)),
        wallet_id="w" * MAX_WALLET_ID_LENGTH, campaign_id="k" * MAX_CAMPAIGN_ID_LENGTH,
        title="秋" * 10,
    )
    text = coupon_pairing.join(offline_text("w" * oc.MAX_WALLET_ID_LENGTH), longest_coupon)

    assert len(text) == 803
    assert len(text) <= MAX_BURST_LENGTH
    assert segno.make(text, mode="alphanumeric", error="m", micro=False).mode == "alphanumeric"


def test_mask_hides_both_parts() -> None:
    payment = new_payment_code()
    coupon = coupon_text()

    masked = coupon_pairing.mask_paired_code(f"{payment}/{coupon}")

    assert payment not in masked
    assert coupon not in masked
    assert masked.startswith(f"...{payment[-4:]} (20 digits)/CKC1...")
