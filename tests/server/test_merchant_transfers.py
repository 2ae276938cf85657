"""Coin payments from one merchant to another over the terminal API."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from money_helpers import sell
from settle_helpers import Server, TerminalClient

from server import ledger
from server.models import ISSUANCE_ACCOUNT_ID
from terminal.protocol import ValueKind


def _pay(terminal: TerminalClient, recipient_id: str, amount_yen: int,
         key: str = "mtransfer-0001", note: str = "") -> httpx.Response:
    return terminal.post("/v1/merchant-transfers", {
        "recipient_merchant_id": recipient_id, "amount_yen": amount_yen,
        "idempotency_key": key, "note": note,
    })


def _shops(server: Server, sales_yen: int = 10_000) -> tuple[TerminalClient, TerminalClient]:
    payer = server.new_terminal()
    supplier = server.new_terminal()
    if sales_yen:
        sell(server, payer, sales_yen)
    return payer, supplier


def test_merchant_pays_supplier(server: Server) -> None:
    payer, supplier = _shops(server)

    response = _pay(payer, supplier.merchant_id, 3_000, note="11月分 野菜")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["merchant_id"] == payer.merchant_id
    assert body["recipient_merchant_id"] == supplier.merchant_id
    assert body["recipient_name"] == "会津コイン商店"
    assert (body["amount_yen"], body["balance_yen"], body["note"]) == (3_000, 7_000, "11月分 野菜")
    assert server.merchant_balance_yen(payer.merchant_id) == 7_000
    assert server.merchant_balance_yen(supplier.merchant_id) == 3_000
    assert supplier.get("/v1/merchant/balance").json()["total_yen"] == 3_000


def test_merchant_transfer_same_key_once(server: Server) -> None:
    payer, supplier = _shops(server)

    first = _pay(payer, supplier.merchant_id, 3_000).json()
    again = _pay(payer, supplier.merchant_id, 3_000).json()
    conflict = _pay(payer, supplier.merchant_id, 2_000)

    assert again["transfer_id"] == first["transfer_id"]
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert f"already paid 3000 yen to merchant {supplier.merchant_id}" in (
        conflict.json()["error"]["message"])
    assert server.merchant_balance_yen(supplier.merchant_id) == 3_000


def test_merchant_transfer_over_balance(server: Server) -> None:
    payer, supplier = _shops(server)

    response = _pay(payer, supplier.merchant_id, 10_001)

    assert response.status_code == 402
    assert response.json()["error"]["message"] == (
        "transfer of 10001 yen exceeds the balance of 10000 yen; send at most 10000 yen")
    assert server.merchant_balance_yen(payer.merchant_id) == 10_000


def test_merchant_transfer_unknown_recipient(server: Server) -> None:
    payer, _ = _shops(server)

    response = _pay(payer, "m_doesnotexist", 100)

    assert response.status_code == 404
    assert response.json()["error"]["message"].startswith(
        "recipient_merchant_id 'm_doesnotexist' is not a merchant")


def test_merchant_transfer_to_self_rejected(server: Server) -> None:
    payer, _ = _shops(server)

    response = _pay(payer, payer.merchant_id, 100)

    assert response.status_code == 422
    assert "is this shop itself" in response.json()["error"]["message"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("amount_yen", "500", 'amount_yen = "500" is invalid: expected a whole number of yen'),
    ("amount_yen", -5, "amount_yen = -5 is invalid"),
    ("note", "x" * 41, "note = "),
    ("recipient_merchant_id", "", 'recipient_merchant_id = "" is invalid'),
])
def test_merchant_transfer_bad_body_named(
    server: Server, field: str, value: object, message: str
) -> None:
    payer, supplier = _shops(server)
    body = {"recipient_merchant_id": supplier.merchant_id, "amount_yen": 500,
            "idempotency_key": "mtransfer-0001", field: value}

    response = payer.post("/v1/merchant-transfers", body)

    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_expired_premium_points_passed_on(server: Server) -> None:
    payer, supplier = _shops(server, 0)
    wallet = server.new_wallet()
    with server.state.db.write() as session:
        ledger.issue(session, transfer_id=f"premium-{uuid.uuid4().hex}",
                     issuer_id=ISSUANCE_ACCOUNT_ID, destination_id=wallet.wallet_id,
                     amount_yen=2_000, now=server.clock(), kind=ValueKind.PREMIUM_ALL,
                     expires_at=server.clock() + timedelta(hours=1))
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    assert payer.post("/v1/payments/cpm", {
        "code": code, "amount_yen": 2_000, "idempotency_key": "sale-premium"}).status_code == 200
    server.clock.advance(2 * 3600)

    response = _pay(payer, supplier.merchant_id, 2_000)

    assert response.status_code == 200, response.text
    with server.state.db.read() as session:
        held = ledger.held_balance(session, supplier.merchant_id)
    assert held == {ValueKind.PREMIUM_ALL: 2_000}


@pytest.mark.parametrize(("field", "value", "shown", "code_point", "position"), [
    ("note", "a\u0000b", '"a\\u0000b"', "0000", 1),
    ("note", "11月分\n野菜", '"11月分\\n野菜"', "000A", 4),
    ("note", "abc\u202eexe.txt", '"abc\u202eexe.txt"', "202E", 3),
    ("note", "\u2066x", '"\u2066x"', "2066", 0),
    ("recipient_merchant_id", "m_\u0000x", '"m_\\u0000x"', "0000", 2),
])
def test_merchant_transfer_control_character_rejected(
    server: Server, field: str, value: str, shown: str, code_point: str, position: int
) -> None:
    payer, supplier = _shops(server)
    body = {"recipient_merchant_id": supplier.merchant_id, "amount_yen": 500,
            "idempotency_key": "mtransfer-0001", field: value}

    response = payer.post("/v1/merchant-transfers", body)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["message"] == (
        f"{field} = {shown} is invalid: control character U+{code_point} at position {position}"
        " is not allowed; send printable text only")
    assert server.merchant_balance_yen(payer.merchant_id) == 10_000
    assert server.merchant_balance_yen(supplier.merchant_id) == 0


def test_merchant_transfer_note_keeps_japanese_spaces(server: Server) -> None:
    payer, supplier = _shops(server)

    response = _pay(payer, supplier.merchant_id, 500, note="11月分　野菜 (卸)")

    assert response.status_code == 200, response.text
    assert response.json()["note"] == "11月分　野菜 (卸)"


@pytest.mark.parametrize("amount_yen", [1_000_001, 99999999999999999999999])
def test_merchant_transfer_above_max_amount_out_of_range(server: Server, amount_yen: int) -> None:
    payer, supplier = _shops(server)

    response = _pay(payer, supplier.merchant_id, amount_yen)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": f"amount_yen {amount_yen} is out of range; allowed: 1 to 1000000 yen",
    }
    assert server.merchant_balance_yen(payer.merchant_id) == 10_000
