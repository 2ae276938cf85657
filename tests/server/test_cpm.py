from __future__ import annotations

import logging

import httpx
import pytest
from settle_helpers import Server, TerminalClient, WalletClient

from server import payments
from terminal import paycode
from terminal.protocol import CpmRedeem


def _code(wallet: WalletClient) -> str:
    response = wallet.post("/v1/wallet/payment-codes")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


def _redeem(terminal: TerminalClient, code: str, amount_yen: int = 700,
            key: str = "scan-00001") -> httpx.Response:
    return terminal.post("/v1/payments/cpm",
                         {"code": code, "amount_yen": amount_yen, "idempotency_key": key})


def _error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])


def test_cpm_charges_wallet(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)

    response = _redeem(terminal, _code(wallet))

    assert response.status_code == 200
    payment = response.json()
    assert payment["method"] == "cpm"
    assert payment["amount_yen"] == 700
    assert payment["terminal_id"] == terminal.terminal_id
    assert wallet.balance_yen() == 300
    assert server.merchant_balance_yen(terminal.merchant_id) == 700


def test_payment_code_well_formed(server: Server) -> None:
    wallet = server.new_wallet()

    code = _code(wallet)

    assert paycode.validate_payment_code(code) == code


def test_second_scan_not_charged(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(2000)
    code = _code(wallet)
    _redeem(terminal, code)

    second = _redeem(terminal, code, key="scan-00002")
    other_shop = _redeem(server.new_terminal(), code, key="scan-00003")

    assert second.status_code == 409
    assert _error_code(second) == "code_used"
    assert _error_code(other_shop) == "code_used"
    assert wallet.balance_yen() == 1300


def test_repeated_key_same_payment(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(2000)
    code = _code(wallet)

    first = _redeem(terminal, code).json()
    again = _redeem(terminal, code)

    assert again.status_code == 200
    assert again.json()["payment_id"] == first["payment_id"]
    assert wallet.balance_yen() == 1300


def test_repeated_key_other_amount(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(2000)
    code = _code(wallet)
    _redeem(terminal, code)

    response = _redeem(terminal, code, amount_yen=800)

    assert _error_code(response) == "idempotency_conflict"
    assert wallet.balance_yen() == 1300


def test_expired_code_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    code = _code(wallet)

    server.clock.advance(server.settings.payment_code_ttl_s)
    response = _redeem(terminal, code)

    assert response.status_code == 410
    assert _error_code(response) == "code_expired"
    assert wallet.balance_yen() == 1000


def test_malformed_codes_invalid(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)
    code = _code(wallet)
    one_digit_off = code[:-1] + str((int(code[-1]) + 1) % 10)

    for bad in ("hello", code[:-1], one_digit_off, "１" * 20):
        response = _redeem(terminal, bad)
        assert response.status_code == 422, bad
        assert _error_code(response) == "code_invalid"
    assert wallet.balance_yen() == 1000


def test_unknown_code_invalid(server: Server) -> None:
    terminal = server.new_terminal()

    response = _redeem(terminal, paycode.new_payment_code())

    assert _error_code(response) == "code_invalid"
    assert "not known" in response.json()["error"]["message"]


def test_cpm_insufficient_funds(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(100)
    code = _code(wallet)

    response = _redeem(terminal, code)
    retry = _redeem(terminal, code, amount_yen=100, key="scan-00002")

    assert _error_code(response) == "insufficient_funds"
    assert retry.status_code == 200
    assert wallet.balance_yen() == 0


def test_codes_stored_hashed(server: Server) -> None:
    wallet = server.new_wallet()
    code = _code(wallet)

    with server.state.db.read() as session:
        from sqlalchemy import text

        stored = session.execute(text("SELECT code_hash FROM payment_codes")).scalars().all()

    assert len(stored) == 1
    assert code not in stored[0]
    assert len(stored[0]) == 64


def test_concurrent_scans_charge_once(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(2000)
    code = _code(wallet)
    terminal_row = server.terminal_row(terminal.terminal_id)

    outcomes = server.write_concurrently(6, lambda session, i: payments.redeem_code(
        session, terminal_row,
        CpmRedeem(code=code, amount_yen=700, idempotency_key=f"scan-{i:05d}"), server.settings))

    assert outcomes.count("ok") == 1
    assert outcomes.count("code_used") == 5
    assert wallet.balance_yen() == 1300
    assert server.merchant_balance_yen(terminal.merchant_id) == 700


def test_insufficient_funds_hides_balance(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(700)
    code = _code(wallet)

    with caplog.at_level(logging.INFO, logger="server"):
        response = _redeem(terminal, code, amount_yen=999_999)

    message = response.json()["error"]["message"]
    assert response.status_code == 402
    assert message == ("the customer's balance does not cover 999999 yen;"
                       " ask the customer to pay another way")
    assert wallet.wallet_id not in message
    assert "700" not in message
    assert any(wallet.wallet_id in line and "700 yen" in line for line in caplog.messages)
    assert not any(code in line for line in caplog.messages)


def test_reused_key_hides_other_wallet(server: Server) -> None:
    terminal = server.new_terminal()
    first_wallet = server.new_wallet(1000)
    second_wallet = server.new_wallet(1000)
    _redeem(terminal, _code(first_wallet))

    response = _redeem(terminal, _code(second_wallet))

    message = response.json()["error"]["message"]
    assert response.status_code == 409
    assert _error_code(response) == "idempotency_conflict"
    assert message.startswith("idempotency_key scan-00001 was already used for a different payment")
    assert first_wallet.wallet_id not in message
    assert second_wallet.wallet_id not in message
    assert second_wallet.balance_yen() == 1000


def test_logs_mask_payment_code(server: Server, caplog: pytest.LogCaptureFixture) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)

    with caplog.at_level(logging.INFO, logger="server"):
        code = _code(wallet)
        server.clock.advance(server.settings.payment_code_ttl_s)
        expired = _redeem(terminal, code)
        unknown_code = paycode.new_payment_code()
        unknown = _redeem(terminal, unknown_code, key="scan-00002")

    masked = paycode.mask_payment_code(code)
    assert masked == "*" * 16 + code[-4:]
    assert any(masked in line for line in caplog.messages)
    assert masked in expired.json()["error"]["message"]
    assert paycode.mask_payment_code(unknown_code) in unknown.json()["error"]["message"]
    for line in caplog.messages + [expired.text, unknown.text]:
        assert code[:4] + "..." not in line
        assert code[:8] not in line
        assert unknown_code[:8] not in line


@pytest.mark.parametrize("amount", [True, "700", 7e2, " 700 ", "7_00"])
def test_redeem_amount_strict(server: Server, amount: object) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1000)

    response = _redeem(terminal, _code(wallet), amount_yen=amount)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert _error_code(response) == "invalid_request"
    assert "amount_yen = " in response.json()["error"]["message"]
    assert "expected a whole number of yen" in response.json()["error"]["message"]
    assert wallet.balance_yen() == 1000
