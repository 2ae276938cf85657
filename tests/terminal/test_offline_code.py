from __future__ import annotations

import io
import math
from datetime import UTC, datetime, timedelta

import pytest
import segno
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from pyzbar.pyzbar import decode as decode_barcodes

from terminal import offline_code as oc
from terminal.paycode import looks_like_payment_code, new_payment_code, validate_payment_code

NOW = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=24)
WALLET_ID = "w_Ab3dEf6hIj9kLm0n"  # the server's shape: "w_" and 16 URL-safe characters

ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WALLET_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(64, 96)))


def _raw(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


ISSUER_KEY_ID = oc.issuer_key_id(_raw(ISSUER_KEY))
ISSUER_KEYS = {ISSUER_KEY_ID: ISSUER_KEY.public_key()}


def _body(
    *,
    wallet_key: Ed25519PrivateKey = WALLET_KEY,
    valid_until: datetime = NOW + timedelta(days=7),
    wallet_id: str = WALLET_ID,
    key_id: str = ISSUER_KEY_ID,
) -> oc.CertificateBody:
    return oc.CertificateBody(
        serial=4242,
        issuer_key_id=key_id,
        wallet_id=wallet_id,
        wallet_public_key=_raw(wallet_key),
        allowance_yen=30_000,
        valid_until=valid_until,
    )


def _certificate(**changes: object) -> bytes:
    return oc.sign_certificate(_body(**changes), ISSUER_KEY)  # type: ignore[arg-type]


def _code(counter: int = 1, signed_at: datetime = NOW, certificate: bytes | None = None) -> str:
    return oc.make_offline_code(certificate or _certificate(), WALLET_KEY, counter, signed_at)


def _verify(text: str, now: datetime = NOW) -> oc.OfflineCode:
    return oc.verify_offline_code(text, ISSUER_KEYS, now=now, max_age=MAX_AGE)


def test_round_trip_returns_fields() -> None:
    code = _verify(_code(counter=7, signed_at=NOW - timedelta(minutes=3)))

    assert code.certificate == _body()
    assert code.counter == 7
    assert code.signed_at == NOW - timedelta(minutes=3)
    assert len(code.fingerprint) == 64


def test_certificate_read_back() -> None:
    raw = _certificate()
    body, signed_part, signature = oc.read_certificate(raw)

    assert body == _body()
    assert signed_part + signature == raw
    assert len(signature) == 64
    assert oc.verify_certificate(raw, ISSUER_KEYS) == _body()


def test_parse_splits_code() -> None:
    certificate = _certificate()
    text = _code(counter=9, certificate=certificate)

    parsed_certificate, counter, signed_at, signature, code_body = oc.parse_offline_code(text)

    assert parsed_certificate == certificate
    assert counter == 9
    assert signed_at == NOW
    WALLET_KEY.public_key().verify(signature, oc.CODE_DOMAIN + code_body)
    assert code_body.startswith(certificate)


def test_fingerprint_differs_per_counter() -> None:
    assert _verify(_code(counter=1)).fingerprint != _verify(_code(counter=2)).fingerprint


def test_signed_at_cut_to_seconds() -> None:
    code = _verify(_code(signed_at=NOW + timedelta(microseconds=999_999)))
    assert code.signed_at == NOW


def test_lower_case_accepted() -> None:
    text = _code()
    assert _verify(text.lower()) == _verify(text)
    assert _verify(f"  {text.lower()}\r\n").counter == 1


def test_text_is_upper_alphanumeric() -> None:
    text = _code()
    assert text.startswith("CKO1")
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@pytest.mark.parametrize("wallet_id", ["w", WALLET_ID, "w" * 32])
def test_code_length_follows_layout(wallet_id: str) -> None:
    code_bytes = 189 + len(wallet_id)
    base32_chars = math.ceil(code_bytes * 8 / 5)
    assert len(_code(certificate=_certificate(wallet_id=wallet_id))) == 4 + base32_chars


def test_server_wallet_code_length() -> None:
    assert len(_code()) == 336


def test_qr_alphanumeric_and_decodable() -> None:
    text = _code()
    qr = segno.make(text, error="m", micro=False)
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=4, border=4)
    buffer.seek(0)

    decoded = decode_barcodes(Image.open(buffer))

    assert qr.mode == "alphanumeric"
    assert [symbol.data.decode("ascii") for symbol in decoded] == [text]


def test_unknown_issuer_rejected() -> None:
    text = _code(certificate=_certificate(key_id="00000000"))
    with pytest.raises(oc.UnknownIssuer):
        _verify(text)


def test_forged_certificate_rejected() -> None:
    forged = oc.sign_certificate(_body(), OTHER_KEY)
    with pytest.raises(oc.BadCertificateSignature):
        _verify(_code(certificate=forged))


def test_other_wallet_key_rejected() -> None:
    # A code that names this wallet's certificate but was signed with another key: the
    # signature is spliced in, since make_offline_code refuses a mismatched key.
    certificate = _certificate()
    genuine = _code(certificate=certificate)
    _, _, _, _, code_body = oc.parse_offline_code(genuine)
    forged = oc.make_offline_code(
        oc.sign_certificate(_body(wallet_key=OTHER_KEY), ISSUER_KEY), OTHER_KEY, 1, NOW
    )
    _, _, _, other_signature, _ = oc.parse_offline_code(forged)
    text = _encode(code_body + other_signature)

    with pytest.raises(oc.BadCodeSignature):
        _verify(text)


def test_make_refuses_other_wallet_key() -> None:
    with pytest.raises(ValueError, match="does not match certificate 4242"):
        oc.make_offline_code(_certificate(), OTHER_KEY, 1, NOW)


def test_expired_certificate_rejected() -> None:
    certificate = _certificate(valid_until=NOW - timedelta(hours=1))
    with pytest.raises(oc.CertificateExpired):
        _verify(_code(certificate=certificate, signed_at=NOW - timedelta(minutes=30)))


def test_code_at_valid_until_accepted() -> None:
    certificate = _certificate(valid_until=NOW)
    assert _verify(_code(certificate=certificate, signed_at=NOW)).signed_at == NOW


def test_too_old_code_rejected() -> None:
    text = _code(signed_at=NOW - MAX_AGE - timedelta(seconds=1))
    with pytest.raises(oc.CodeTooOld):
        _verify(text)
    assert _verify(_code(signed_at=NOW - MAX_AGE)).counter == 1


def test_future_code_rejected() -> None:
    text = _code(signed_at=NOW + timedelta(minutes=5, seconds=1))
    with pytest.raises(oc.CodeFromFuture):
        _verify(text)
    assert _verify(_code(signed_at=NOW + timedelta(minutes=5))).counter == 1


def test_future_skew_configurable() -> None:
    text = _code(signed_at=NOW + timedelta(minutes=1))
    with pytest.raises(oc.CodeFromFuture):
        oc.verify_offline_code(
            text, ISSUER_KEYS, now=NOW, max_age=MAX_AGE, max_future_skew=timedelta(seconds=30)
        )


def test_errors_are_value_errors() -> None:
    for error in (
        oc.MalformedCode,
        oc.UnknownIssuer,
        oc.BadCertificateSignature,
        oc.BadCodeSignature,
        oc.CertificateExpired,
        oc.CodeTooOld,
        oc.CodeFromFuture,
    ):
        assert issubclass(error, oc.OfflineCodeError)
    assert issubclass(oc.OfflineCodeError, ValueError)


def _encode(signed: bytes) -> str:
    import base64
    import zlib

    checked = signed + zlib.crc32(signed).to_bytes(4, "big")
    return "CKO1" + base64.b32encode(checked).decode("ascii").rstrip("=")


ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


@settings(max_examples=300, deadline=None)
@given(
    wallet_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-0123456789", min_size=1, max_size=32),
    counter=st.integers(min_value=0, max_value=2**32 - 1),
    data=st.data(),
)
def test_any_single_change_malformed(wallet_id: str, counter: int, data: st.DataObject) -> None:
    text = _code(counter=counter, certificate=_certificate(wallet_id=wallet_id))
    position = data.draw(st.integers(min_value=0, max_value=len(text) - 1), label="position")
    replacement = data.draw(
        st.sampled_from([c for c in ALPHANUMERIC if c != text[position]]), label="replacement"
    )
    changed = text[:position] + replacement + text[position + 1 :]

    with pytest.raises(oc.MalformedCode):
        _verify(changed)


def test_every_change_of_one_code_malformed() -> None:
    text = _code(counter=123_456)
    outcomes: dict[str, int] = {}
    for position, original in enumerate(text):
        for replacement in ALPHANUMERIC.replace(original, ""):
            changed = text[:position] + replacement + text[position + 1 :]
            try:
                _verify(changed)
            except oc.OfflineCodeError as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1

    assert outcomes == {"MalformedCode": len(text) * (len(ALPHANUMERIC) - 1)}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "CKO1",
        "CKO2" + "A" * 332,
        "XKO1" + "A" * 332,
        "CKO1" + "A" * 331,
        "CKO1" + "A" * 332,
        "CKO1" + "8" * 332,
    ],
)
def test_malformed_texts_rejected(text: str) -> None:
    with pytest.raises(oc.MalformedCode):
        _verify(text)


def test_truncated_and_extended_rejected() -> None:
    text = _code()
    for changed in (text[:-1], text[:-8], text + "A", text + "AAAAAAAA", text[:100]):
        with pytest.raises(oc.MalformedCode):
            _verify(changed)


def test_online_code_not_offline() -> None:
    online = new_payment_code()

    assert not oc.looks_like_offline_code(online)
    with pytest.raises(oc.MalformedCode):
        oc.parse_offline_code(online)


def test_offline_code_not_online() -> None:
    text = _code()

    assert oc.looks_like_offline_code(text)
    assert oc.looks_like_offline_code(text.lower())
    assert not looks_like_payment_code(text)
    with pytest.raises(ValueError):
        validate_payment_code(text)


@pytest.mark.parametrize("text", ["CKO1", "CKO1-ABC", "CKO1ＡＢＣ", "9112345678901234567890"])
def test_looks_like_rejects_shapes(text: str) -> None:
    assert not oc.looks_like_offline_code(text)


def test_mask_hides_body() -> None:
    text = _code()
    masked = oc.mask_offline_code(text)

    assert masked == f"CKO1...{text[-4:]} (336 chars)"
    assert text[4:-4] not in masked


def test_issuer_key_id_is_hash_prefix() -> None:
    import hashlib

    raw = _raw(ISSUER_KEY)
    assert oc.issuer_key_id(raw) == hashlib.sha256(raw).hexdigest()[:8]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"wallet_id": ""}, "wallet_id"),
        ({"wallet_id": "w" * 33}, "wallet_id"),
        ({"wallet_id": "ｗ"}, "wallet_id"),
        ({"key_id": "ABCDEF01"}, "issuer_key_id"),
        ({"valid_until": datetime(2024, 5, 8)}, "time zone"),
        ({"valid_until": NOW + timedelta(milliseconds=1)}, "whole second"),
    ],
)
def test_body_checks_fields(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _body(**changes)  # type: ignore[arg-type]


def test_body_normalises_to_utc() -> None:
    tokyo = datetime(2024, 5, 8, 9, 0, tzinfo=UTC).astimezone(
        datetime.now(UTC).astimezone().tzinfo
    )
    body = _body(valid_until=tokyo)
    assert body.valid_until.tzinfo is UTC
    assert body.valid_until == datetime(2024, 5, 8, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize("counter", [-1, 2**32])
def test_counter_range_checked(counter: int) -> None:
    with pytest.raises(ValueError, match="counter"):
        _code(counter=counter)


def test_certificate_length_checked() -> None:
    raw = _certificate()
    for changed in (raw[:-1], raw + b"\x00", raw[:10]):
        with pytest.raises(oc.MalformedCode):
            oc.read_certificate(changed)
