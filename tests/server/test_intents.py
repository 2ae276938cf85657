from __future__ import annotations

from typing import Any

import httpx
import pytest

from server import payments
from terminal import emv, protocol
from terminal.protocol import IntentPay

from long_poll_helpers import poll_during_pay
from settle_helpers import Server, TerminalClient, WalletClient


def _create(terminal: TerminalClient, amount_yen: int = 500, key: str = "sale-0001",
            **extra: Any) -> httpx.Response:
    return terminal.post("/v1/intents", {"amount_yen": amount_yen, "idempotency_key": key, **extra})


def _pay(wallet: WalletClient, intent_id: str, amount_yen: int = 500,
         key: str = "wallet-pay-1") -> httpx.Response:
    return wallet.post(f"/v1/intents/{intent_id}/pay",
                       {"amount_yen": amount_yen, "idempotency_key": key})


def _error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_intent_created_pending(server: Server) -> None:
    terminal = server.new_terminal()

    response = _create(terminal, 1980)

    assert response.status_code == 200
    intent = response.json()
    assert intent["status"] == "pending"
    assert intent["amount_yen"] == 1980
    assert len(intent["intent_id"]) <= 25
    request = emv.read_payment_request(intent["payload"])
    assert request.amount_yen == 1980
    assert request.intent_id == intent["intent_id"]
    assert request.terminal_label == "REGI-1"


def test_intent_same_key_same_intent(server: Server) -> None:
    terminal = server.new_terminal()

    first = _create(terminal).json()
    second = _create(terminal).json()

    assert second["intent_id"] == first["intent_id"]


def test_intent_same_key_other_amount(server: Server) -> None:
    terminal = server.new_terminal()
    _create(terminal, 500)

    response = _create(terminal, 600)

    assert response.status_code == 409
    assert _error_code(response) == "idempotency_conflict"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (0, "amount_yen = 0 is invalid: input should be greater than or equal to 1"),
        (-5, "amount_yen = -5 is invalid: input should be greater than or equal to 1"),
        (12.5, 'amount_yen = 12.5 is invalid: expected a whole number of yen'),
        ("abc", 'amount_yen = "abc" is invalid: expected a whole number of yen'),
        (True, "amount_yen = true is invalid: expected a whole number of yen"),
        ("100", 'amount_yen = "100" is invalid: expected a whole number of yen'),
        (1e3, "amount_yen = 1000.0 is invalid: expected a whole number of yen"),
        (" 100 ", 'amount_yen = " 100 " is invalid: expected a whole number of yen'),
        ("1_000", 'amount_yen = "1_000" is invalid: expected a whole number of yen'),
        (1_000_001, "amount_yen 1000001 is out of range; allowed: 1 to 1000000 yen"),
    ],
)
def test_intent_bad_amount_422(server: Server, amount: object, expected: str) -> None:
    terminal = server.new_terminal()

    response = _create(terminal, amount)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert _error_code(response) == "invalid_request"
    assert expected in response.json()["error"]["message"]


def test_intent_missing_field_named(server: Server) -> None:
    terminal = server.new_terminal()

    response = terminal.post("/v1/intents", {"amount_yen": 100})

    assert response.status_code == 422
    assert response.json()["error"]["message"] == "idempotency_key is missing"


def test_tax_lines_must_sum(server: Server) -> None:
    terminal = server.new_terminal()
    lines = [{"rate_percent": 10, "amount_yen": 300}, {"rate_percent": 8, "amount_yen": 100}]

    bad = _create(terminal, 500, tax_lines=lines)
    good = _create(terminal, 400, key="sale-0002", tax_lines=lines)

    assert bad.status_code == 422
    assert "tax_lines add up to 400 yen but amount_yen is 500" in bad.json()["error"]["message"]
    assert good.status_code == 200


def test_mpm_payment_approves_intent(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    lines = [{"rate_percent": 8, "amount_yen": 500}]
    intent_id = _create(terminal, 500, tax_lines=lines).json()["intent_id"]

    paid = _pay(wallet, intent_id)
    state = terminal.get(f"/v1/intents/{intent_id}").json()

    assert paid.status_code == 200
    payment = paid.json()
    assert payment["method"] == "mpm"
    assert payment["kinds"] == {"coin": 500}
    assert payment["tax_lines"] == lines
    assert state["status"] == "approved"
    assert state["payment"]["payment_id"] == payment["payment_id"]
    assert wallet.balance_yen() == 500
    assert server.merchant_balance_yen(terminal.merchant_id) == 500


def test_pay_same_key_returns_same(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]

    first = _pay(wallet, intent_id).json()
    second = _pay(wallet, intent_id)

    assert second.status_code == 200
    assert second.json()["payment_id"] == first["payment_id"]
    assert wallet.balance_yen() == 500


def test_pay_paid_intent_other_key(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    other = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]
    _pay(wallet, intent_id)

    again = _pay(wallet, intent_id, key="wallet-pay-2")
    by_other = _pay(other, intent_id)

    assert _error_code(again) == "intent_already_paid"
    assert _error_code(by_other) == "intent_already_paid"
    assert by_other.status_code == 409
    assert wallet.balance_yen() == 500
    assert other.balance_yen() == 1000


def test_pay_amount_mismatch(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal, 500).json()["intent_id"]

    response = _pay(wallet, intent_id, amount_yen=50)

    assert response.status_code == 422
    assert _error_code(response) == "amount_mismatch"
    assert wallet.balance_yen() == 1000


def test_pay_insufficient_funds(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(499)
    intent_id = _create(terminal, 500).json()["intent_id"]

    response = _pay(wallet, intent_id)

    assert response.status_code == 402
    assert _error_code(response) == "insufficient_funds"
    assert terminal.get(f"/v1/intents/{intent_id}").json()["status"] == "pending"
    assert wallet.balance_yen() == 499


def test_intent_expires(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]

    server.clock.advance(server.settings.intent_ttl_s)
    state = terminal.get(f"/v1/intents/{intent_id}?wait=5").json()
    response = _pay(wallet, intent_id)

    assert state["status"] == "expired"
    assert response.status_code == 410
    assert _error_code(response) == "intent_expired"
    assert wallet.balance_yen() == 1000


def test_intent_payable_before_expiry(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]

    server.clock.advance(server.settings.intent_ttl_s - 1)

    assert _pay(wallet, intent_id).status_code == 200


def test_cancel_intent(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]

    cancelled = terminal.post(f"/v1/intents/{intent_id}/cancel")
    response = _pay(wallet, intent_id)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert _error_code(response) == "intent_cancelled"
    assert wallet.balance_yen() == 1000


def test_cancel_paid_intent_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]
    _pay(wallet, intent_id)

    response = terminal.post(f"/v1/intents/{intent_id}/cancel")

    assert response.status_code == 409
    assert _error_code(response) == "intent_already_paid"
    assert terminal.get(f"/v1/intents/{intent_id}").json()["status"] == "approved"


def test_intent_hidden_from_other_merchant(server: Server) -> None:
    terminal = server.new_terminal()
    stranger = server.new_terminal()
    intent_id = _create(terminal).json()["intent_id"]

    response = stranger.get(f"/v1/intents/{intent_id}")

    assert response.status_code == 404
    assert _error_code(response) == "not_found"


def test_long_poll_wakes_on_payment(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal).json()["intent_id"]

    polled, paid_status = poll_during_pay(server, terminal, wallet, intent_id, 500,
                                          key="wallet-pay-1")

    assert paid_status == 200
    assert polled["status"] == "approved"
    assert polled["payment"]["amount_yen"] == 500


def test_long_poll_returns_when_wait_ends(server: Server) -> None:
    terminal = server.new_terminal()
    intent_id = _create(terminal).json()["intent_id"]

    response = terminal.get(f"/v1/intents/{intent_id}?wait=0.3")

    assert response.status_code == 200
    assert response.json()["status"] == "pending"


def test_negative_wait_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    intent_id = _create(terminal).json()["intent_id"]

    response = terminal.get(f"/v1/intents/{intent_id}?wait=-1")

    assert response.status_code == 422
    assert 'wait = "-1" is invalid' in response.json()["error"]["message"]


def test_events_stream_reports_settled(server: Server) -> None:
    terminal = server.new_terminal()
    intent_id = _create(terminal).json()["intent_id"]
    terminal.post(f"/v1/intents/{intent_id}/cancel")

    response = terminal.get(f"/v1/intents/{intent_id}/events")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.text.startswith("event: intent\ndata: {")
    assert '"status":"cancelled"' in response.text


def test_concurrent_pays_approve_once(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(2000)
    intent_id = _create(terminal).json()["intent_id"]
    wallet_row = server.wallet_row(wallet.wallet_id)

    outcomes = server.write_concurrently(6, lambda session, i: payments.pay_intent(
        session, wallet_row, intent_id,
        IntentPay(amount_yen=500, idempotency_key=f"wallet-pay-{i}"), server.settings))

    assert outcomes.count("ok") == 1
    assert outcomes.count("intent_already_paid") == 5
    assert terminal.get(f"/v1/intents/{intent_id}").json()["status"] == "approved"
    assert wallet.balance_yen() == 1500


def test_concurrent_pays_never_overdraw(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_ids = [_create(terminal, 300, key=f"sale-{i:04d}").json()["intent_id"]
                  for i in range(5)]
    wallet_row = server.wallet_row(wallet.wallet_id)

    outcomes = server.write_concurrently(5, lambda session, i: payments.pay_intent(
        session, wallet_row, intent_ids[i],
        IntentPay(amount_yen=300, idempotency_key=f"wallet-pay-{i}"), server.settings))

    assert outcomes.count("ok") == 3
    assert outcomes.count("insufficient_funds") == 2
    assert wallet.balance_yen() == 100
    assert server.merchant_balance_yen(terminal.merchant_id) == 900


def test_intent_same_key_other_tax_lines(server: Server) -> None:
    terminal = server.new_terminal()
    first_lines = [{"rate_percent": 10, "amount_yen": 300}]
    other_lines = [{"rate_percent": 8, "amount_yen": 300}]
    _create(terminal, 300, tax_lines=first_lines)

    response = _create(terminal, 300, tax_lines=other_lines)

    assert response.status_code == 409
    message = response.json()["error"]["message"]
    assert "with tax_lines [10%: 300 yen], not [8%: 300 yen]" in message
    assert "use a new key" in message


def test_intent_same_key_amount_named(server: Server) -> None:
    terminal = server.new_terminal()
    _create(terminal, 500)

    response = _create(terminal, 600)

    assert "with amount_yen 500, not 600" in response.json()["error"]["message"]


def test_tax_lines_capped(server: Server) -> None:
    terminal = server.new_terminal()
    at_limit = [{"rate_percent": 10, "amount_yen": 1}] * protocol.MAX_TAX_LINES
    over_limit = at_limit + [{"rate_percent": 10, "amount_yen": 1}]

    accepted = _create(terminal, len(at_limit), tax_lines=at_limit)
    rejected = _create(terminal, len(over_limit), key="sale-0002", tax_lines=over_limit)

    assert accepted.status_code == 200
    assert rejected.status_code == 422
    assert _error_code(rejected) == "invalid_request"
    assert "expected at most 50 entries, got 51" in rejected.json()["error"]["message"]


@pytest.mark.parametrize(
    "body",
    [
        {"rate_percent": 10, "amount_yen": True},
        {"rate_percent": 10, "amount_yen": "300"},
        {"rate_percent": 10, "amount_yen": 300.0},
    ],
)
def test_tax_line_amount_strict(server: Server, body: dict[str, Any]) -> None:
    terminal = server.new_terminal()

    response = _create(terminal, 300, tax_lines=[body])

    assert response.status_code == 422
    assert "tax_lines.0.amount_yen = " in response.json()["error"]["message"]
    assert "expected a whole number of yen" in response.json()["error"]["message"]


@pytest.mark.parametrize("amount", [True, "500", 5e2])
def test_pay_amount_strict(server: Server, amount: object) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    intent_id = _create(terminal, 500).json()["intent_id"]

    response = _pay(wallet, intent_id, amount_yen=amount)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert "expected a whole number of yen" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 1000


@pytest.mark.parametrize("wait", ["nan", "inf", "-inf"])
def test_non_finite_wait_rejected(server: Server, wait: str) -> None:
    terminal = server.new_terminal()
    intent_id = _create(terminal).json()["intent_id"]

    response = terminal.get(f"/v1/intents/{intent_id}?wait={wait}")

    assert response.status_code == 422
    assert f'wait = "{wait}" is invalid: expected a finite number' in (
        response.json()["error"]["message"])


def test_long_intent_id_shortened(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet()
    intent_id = "i" * 5000

    lookup = terminal.get(f"/v1/intents/{intent_id}")
    payment = _pay(wallet, intent_id)

    for response in (lookup, payment):
        assert response.status_code == 404
        message = response.json()["error"]["message"]
        assert f"intent {'i' * 40}… does not exist" in message
        assert len(message) < 200
