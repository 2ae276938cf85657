from __future__ import annotations

import threading

import httpx
import pytest
from money_helpers import cash_out, sell, shop
from settle_helpers import Server, TerminalClient, WalletClient

from server import payments
from terminal.protocol import RefundCreate


def _paid(server: Server, amount_yen: int = 1000) -> tuple[TerminalClient, WalletClient, str]:
    terminal = server.new_terminal()
    wallet = server.new_wallet(amount_yen)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    payment = terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": amount_yen, "idempotency_key": "scan-00001",
    }).json()
    return terminal, wallet, str(payment["payment_id"])


def _refund(terminal: TerminalClient, payment_id: str, amount_yen: int,
            key: str = "refund-0001") -> httpx.Response:
    return terminal.post(f"/v1/payments/{payment_id}/refunds",
                         {"amount_yen": amount_yen, "idempotency_key": key})


def test_partial_then_full_refund(server: Server) -> None:
    terminal, wallet, payment_id = _paid(server)

    first = _refund(terminal, payment_id, 300)
    second = _refund(terminal, payment_id, 700, key="refund-0002")

    assert first.status_code == 200
    assert first.json()["payment"]["refunded_yen"] == 300
    assert second.json()["payment"]["refunded_yen"] == 1000
    assert wallet.balance_yen() == 1000
    assert server.merchant_balance_yen(terminal.merchant_id) == 0


def test_refund_over_payment_rejected(server: Server) -> None:
    terminal, wallet, payment_id = _paid(server)
    _refund(terminal, payment_id, 600)

    response = _refund(terminal, payment_id, 401, key="refund-0002")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "refund_exceeds_payment"
    assert "400 yen not yet refunded" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 600


def test_refund_same_key_once(server: Server) -> None:
    terminal, wallet, payment_id = _paid(server)

    first = _refund(terminal, payment_id, 300).json()
    again = _refund(terminal, payment_id, 300)
    conflict = _refund(terminal, payment_id, 200)

    assert again.json()["refund_id"] == first["refund_id"]
    assert conflict.json()["error"]["code"] == "idempotency_conflict"
    assert wallet.balance_yen() == 300


def test_refund_other_merchant_not_found(server: Server) -> None:
    _, wallet, payment_id = _paid(server)
    stranger = server.new_terminal()

    response = _refund(stranger, payment_id, 100)
    lookup = stranger.get(f"/v1/payments/{payment_id}")
    missing = _refund(stranger, "p_doesnotexist", 100)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.json()["error"]["message"] == lookup.json()["error"]["message"]
    assert missing.json()["error"]["message"] == lookup.json()["error"]["message"].replace(
        payment_id, "p_doesnotexist")
    assert wallet.balance_yen() == 0


def test_refund_by_sibling_terminal(server: Server) -> None:
    terminal, wallet, payment_id = _paid(server)
    sibling = server.new_terminal(terminal.merchant_id)

    response = _refund(sibling, payment_id, 100)

    assert response.status_code == 200
    assert wallet.balance_yen() == 100


def test_payments_listed_newest_first(server: Server) -> None:
    terminal, _, first_id = _paid(server)
    wallet = server.new_wallet(50)
    server.clock.advance(1)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    second_id = terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": 50, "idempotency_key": "scan-00002",
    }).json()["payment_id"]

    listed = terminal.get("/v1/payments?limit=50").json()["payments"]
    fetched = terminal.get(f"/v1/payments/{first_id}").json()
    hidden = server.new_terminal().get(f"/v1/payments/{first_id}")

    assert [p["payment_id"] for p in listed] == [second_id, first_id]
    assert fetched["amount_yen"] == 1000
    assert hidden.status_code == 404


def test_concurrent_refunds_capped(server: Server) -> None:
    terminal, wallet, payment_id = _paid(server)
    state = server.state
    with state.db.read() as session:
        from server.models import Terminal

        terminal_row = session.get(Terminal, terminal.terminal_id)
    assert terminal_row is not None
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def refund(index: int) -> None:
        barrier.wait()
        request = RefundCreate(amount_yen=300, idempotency_key=f"refund-{index:04d}")
        try:
            state.write(lambda session: payments.refund_payment(
                session, terminal_row, payment_id, request, server.settings))
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - each failure is checked below
            outcomes.append(getattr(exc, "code", repr(exc)))

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert outcomes.count("ok") == 3
    assert outcomes.count("refund_exceeds_payment") == 5
    assert terminal.get(f"/v1/payments/{payment_id}").json()["refunded_yen"] == 900
    assert wallet.balance_yen() == 900


@pytest.mark.parametrize("amount", [True, "100", 1e2])
def test_refund_amount_strict(server: Server, amount: object) -> None:
    terminal, wallet, payment_id = _paid(server)

    response = _refund(terminal, payment_id, amount)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert "expected a whole number of yen" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 0


def test_refund_after_cash_out(server: Server) -> None:
    terminal = shop(server)
    first_sale = sell(server, terminal, 1_000)
    sell(server, terminal, 1_000)
    assert cash_out(terminal, 1_500).status_code == 200
    left_yen = server.merchant_balance_yen(terminal.merchant_id)

    response = _refund(terminal, first_sale, 300)

    assert response.status_code == 200, response.text
    assert response.json()["payment"]["refunded_yen"] == 300
    assert server.merchant_balance_yen(terminal.merchant_id) == left_yen - 300
    server.assert_conserved()


def test_refund_beyond_held_value_rejected(server: Server) -> None:
    terminal = shop(server)
    sale = sell(server, terminal, 1_000)
    assert cash_out(terminal, 1_000).status_code == 200

    response = _refund(terminal, sale, 300)

    assert response.status_code == 402, response.text
    assert response.json()["error"]["code"] == "insufficient_funds"
    server.assert_conserved()
