from __future__ import annotations

from dataclasses import replace

import pytest
from settle_helpers import Server, TerminalKey

from server.demo import DEMO_MERCHANT
from server.errors import ServerError
from server.invoice import InvoiceNumberError, corporate_check_digit, validate_invoice_number
from server.merchants import create_merchant


def test_check_digit_known_number() -> None:
    assert corporate_check_digit("000012050002") == 7
    assert validate_invoice_number("T7000012050002") == "T7000012050002"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("7000012050002", "expected T followed by 13 digits"),
        ("T700001205000", "expected T followed by 13 digits"),
        ("t7000012050002", "expected T followed by 13 digits"),
        ("T70000120500０2", "expected T followed by 13 digits"),
        ("T6000012050002", "has check digit 6, but its other 12 digits give 7"),
    ],
)
def test_invoice_number_rejected(number: str, reason: str) -> None:
    with pytest.raises(InvoiceNumberError, match=reason):
        validate_invoice_number(number)


def test_demo_invoice_number_valid() -> None:
    assert validate_invoice_number(DEMO_MERCHANT.invoice_registration_number)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"invoice_registration_number": "T1234567890123"}, "check digit"),
        ({"name_ascii": "A" * 26}, "name_ascii"),
        ({"name_ascii": "会津"}, "printable ASCII"),
        ({"city_ascii": "AIZUWAKAMATSU-SHI"}, "city_ascii"),
        ({"merchant_category_code": "54"}, "merchant_category_code"),
        ({"address": " "}, "address is empty"),
        ({"phone": "call me"}, "phone"),
    ],
)
def test_merchant_fields_validated(server: Server, changes: dict[str, str], message: str) -> None:
    with pytest.raises(ServerError, match=message), server.state.db.write() as session:
        create_merchant(session, replace(DEMO_MERCHANT, **changes), now=server.clock())


def test_activation_code_single_use(server: Server) -> None:
    merchant_id = server.new_merchant()
    code = server.activation_code(merchant_id)

    first = server.client.post("/v1/terminals/enrol", json={
        "activation_code": code.lower().replace("-", " "), "public_key": TerminalKey().public_key_b64,
    })
    second = server.client.post("/v1/terminals/enrol", json={
        "activation_code": code, "public_key": TerminalKey().public_key_b64,
    })

    assert first.status_code == 200
    assert first.json()["merchant"]["merchant_id"] == merchant_id
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "activation_invalid"
    assert "already used" in second.json()["error"]["message"]


def test_activation_code_expires(server: Server) -> None:
    code = server.activation_code(server.new_merchant())

    server.clock.advance(server.settings.activation_ttl_s)
    response = server.client.post("/v1/terminals/enrol", json={
        "activation_code": code, "public_key": TerminalKey().public_key_b64,
    })

    assert response.json()["error"]["code"] == "activation_invalid"


def test_enrol_rejects_bad_key(server: Server) -> None:
    code = server.activation_code(server.new_merchant())

    response = server.client.post("/v1/terminals/enrol", json={
        "activation_code": code, "public_key": "c2hvcnQ",
    })
    retry = server.client.post("/v1/terminals/enrol", json={
        "activation_code": code, "public_key": TerminalKey().public_key_b64,
    })

    assert response.status_code == 422
    assert "not a raw 32-byte Ed25519 key" in response.json()["error"]["message"]
    assert retry.status_code == 200


def test_unknown_activation_code(server: Server) -> None:
    response = server.client.post("/v1/terminals/enrol", json={
        "activation_code": "AAAA-BBBB-CCCC", "public_key": TerminalKey().public_key_b64,
    })

    assert response.json()["error"]["code"] == "activation_invalid"
