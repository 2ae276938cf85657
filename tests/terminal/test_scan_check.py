from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from terminal import emv, messages
from terminal import offline_code as oc
from terminal.api_client import ApiClient
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode
from terminal.sale import Sale, SaleState
from terminal.scan_check import ScanCheckFailed, ScanKind, classify_scan

ISSUER_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
WALLET_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32, 64)))
SIGNED_AT = datetime(2024, 5, 1, 3, 0, tzinfo=UTC)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def offline_text() -> str:
    body = oc.CertificateBody(
        serial=7,
        issuer_key_id=oc.issuer_key_id(raw_public(ISSUER_KEY)),
        wallet_id="w_Ab3dEf6hIj9kLm0n",
        wallet_public_key=raw_public(WALLET_KEY),
        allowance_yen=30_000,
        valid_until=SIGNED_AT + timedelta(days=7),
    )
    certificate = oc.sign_certificate(body, ISSUER_KEY)
    return oc.make_offline_code(certificate, WALLET_KEY, 1, SIGNED_AT)


def emv_payload() -> str:
    return emv.build_mpm_payload(
        merchant_name="TEST SHOP",
        merchant_city="AIZU",
        merchant_name_ja="テスト商店",
        amount_yen=1990,
        reference_label="int-1",
        terminal_label="REGI-1",
        merchant_category_code="5411",
    )


def drop(text: str, index: int) -> str:
    return text[:index] + text[index + 1 :]


def test_payment_code_classified() -> None:
    assert classify_scan(new_payment_code()) is ScanKind.PAYMENT


@pytest.mark.parametrize("index", [0, 7, 19])
def test_payment_code_dropped_digit_fails(index: int) -> None:
    with pytest.raises(ScanCheckFailed) as caught:
        classify_scan(drop(new_payment_code(), index))

    assert caught.value.kind is ScanKind.PAYMENT
    assert caught.value.message_key == messages.CODE_MALFORMED


@pytest.mark.parametrize("index", [2, 10, 20])
def test_payment_code_extra_digit_fails(index: int) -> None:
    code = new_payment_code()

    with pytest.raises(ScanCheckFailed, match="21 digits"):
        classify_scan(code[:index] + "5" + code[index:])


def test_payment_code_every_single_digit_error_fails() -> None:
    code = new_payment_code()
    for index in range(len(code)):
        for digit in "0123456789":
            if digit == code[index]:
                continue
            mangled = code[:index] + digit + code[index + 1 :]
            with pytest.raises(ScanCheckFailed):
                classify_scan(mangled)


def test_offline_code_classified_in_any_case() -> None:
    text = offline_text()

    assert classify_scan(text) is ScanKind.OFFLINE
    assert classify_scan(text.lower()) is ScanKind.OFFLINE


@pytest.mark.parametrize("index", [10, 100, -1])
def test_offline_code_dropped_character_fails(index: int) -> None:
    text = offline_text()

    with pytest.raises(ScanCheckFailed) as caught:
        classify_scan(drop(text, index % len(text)))

    assert caught.value.kind is ScanKind.OFFLINE


def test_offline_code_extra_character_fails() -> None:
    text = offline_text()

    with pytest.raises(ScanCheckFailed):
        classify_scan(text[:50] + "Q" + text[50:])


def test_emv_payload_classified() -> None:
    assert classify_scan(emv_payload()) is ScanKind.EMV


@pytest.mark.parametrize("index", [8, 40, -3])
def test_emv_dropped_character_fails(index: int) -> None:
    payload = emv_payload()

    with pytest.raises(ScanCheckFailed) as caught:
        classify_scan(drop(payload, index % len(payload)))

    assert caught.value.kind is ScanKind.EMV


def test_emv_changed_symbol_fails() -> None:
    payload = emv_payload()
    assert "." in payload
    swapped = payload.replace(".", ">", 1)  # same length, so only the CRC notices

    with pytest.raises(ScanCheckFailed, match="CRC"):
        classify_scan(swapped)


@pytest.mark.parametrize("text", ["4901234567894", "hello world", "12345678"])
def test_other_barcodes_are_other(text: str) -> None:
    assert classify_scan(text) is ScanKind.OTHER


class RecordingApi:
    """Records every method called on it; any call at all is a failure of these tests."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        def record(*args: object, **kwargs: object) -> None:
            self.calls.append(name)
            raise AssertionError(f"{name} must not be called for a damaged scan")

        return record


def waiting_sale() -> Sale:
    sale = Sale(100_000)
    for key in ("5", "0", "0", "10%"):
        sale.press(key)
    sale.start_cpm()
    return sale


@pytest.mark.parametrize(
    "damaged",
    [
        drop(new_payment_code(), 5),
        new_payment_code() + "3",
        drop(offline_text(), 30),
        drop(emv_payload(), 12),
    ],
    ids=["payment-dropped", "payment-extra", "offline-dropped", "emv-dropped"],
)
def test_damaged_scan_never_reaches_api(damaged: str) -> None:
    sale = waiting_sale()
    api = RecordingApi()

    notice = sale.submit_code(cast(ApiClient, api), damaged)

    assert notice == messages.CODE_MALFORMED
    assert api.calls == []
    assert sale.state is SaleState.CPM_WAITING
    assert sale.codes_sent == set()


def test_merchant_qr_scanned_as_payment_is_invalid() -> None:
    sale = waiting_sale()
    api = RecordingApi()

    notice = sale.submit_code(cast(ApiClient, api), emv_payload())

    assert notice == ErrorCode.CODE_INVALID
    assert api.calls == []


def test_offline_code_without_acceptor_not_sent() -> None:
    sale = waiting_sale()
    api = RecordingApi()

    notice = sale.submit_code(cast(ApiClient, api), offline_text())

    assert notice == messages.OFFLINE_NO_ISSUER_KEYS
    assert api.calls == []


def test_malformed_message_says_scan_again() -> None:
    assert "もう一度読み取って" in messages.message_for(messages.CODE_MALFORMED, "ja")
    assert "Scan it again" in messages.message_for(messages.CODE_MALFORMED, "en")
