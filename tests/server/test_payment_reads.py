"""A payment reads the shop and the wallet's receipt setting with the rows it already locks.

The statements are recorded on the engine for the whole HTTP request, so the counts include
the request's authentication as well as the payment itself.
"""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from settle_helpers import Server, TerminalClient, WalletClient
from test_payment_list_batch import counted_statements

from server import ledger
from server.models import Merchant
from terminal.protocol import ValueKind

# A statement whose FROM clause names the merchants table, alone or in a join.
_FROM_MERCHANTS = re.compile(r"\bFROM\b[^()]*?\bmerchants\b", re.IGNORECASE | re.DOTALL)
# The grouped read of a wallet's lots that the receipt balance needs.
_REMAINING_BY_KIND = re.compile(r"\bFROM lots\b.*\bGROUP BY\b", re.IGNORECASE | re.DOTALL)


def _merchant_reads(statements: list[str]) -> list[str]:
    return [statement for statement in statements if _FROM_MERCHANTS.search(statement)]


def _receipt_setting_reads(statements: list[str]) -> list[str]:
    """Return the statements that read the receipt setting from the wallets table alone.

    Reading it by wallet id, apart from the payment code lock or the token lookup, is the
    statement a payment no longer needs.
    """
    return [
        statement for statement in statements
        if "show_balance_on_receipt" in statement
        and re.search(r"\bFROM wallets\s+WHERE wallets\.id\b", statement)
    ]


def _remaining_reads(statements: list[str]) -> list[str]:
    return [statement for statement in statements if _REMAINING_BY_KIND.search(statement)]


def _set_receipt_balance(wallet: WalletClient, enabled: bool) -> None:
    response = wallet.client.put("/v1/wallet/preferences", headers=wallet.headers,
                                 json={"show_balance_on_receipt": enabled})
    assert response.status_code == 200, response.text


def _payment_code(wallet: WalletClient) -> str:
    response = wallet.post("/v1/wallet/payment-codes")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


def _redeem(terminal: TerminalClient, wallet: WalletClient, amount_yen: int) -> httpx.Response:
    return _redeem_code(terminal, _payment_code(wallet), amount_yen)


def _redeem_code(terminal: TerminalClient, code: str, amount_yen: int) -> httpx.Response:
    return terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": amount_yen, "idempotency_key": f"cpm-{uuid.uuid4().hex}",
    })


def _new_intent(terminal: TerminalClient, amount_yen: int) -> str:
    response = terminal.post("/v1/intents", {
        "amount_yen": amount_yen, "idempotency_key": f"sale-{uuid.uuid4().hex}",
    })
    assert response.status_code == 200, response.text
    return str(response.json()["intent_id"])


def _pay_intent(wallet: WalletClient, intent_id: str, amount_yen: int) -> httpx.Response:
    return wallet.post(f"/v1/intents/{intent_id}/pay", {
        "amount_yen": amount_yen, "idempotency_key": f"pay-{uuid.uuid4().hex}",
    })


def assert_paid_with_one_merchant_read(response: httpx.Response, statements: list[str]) -> None:
    """Check that a payment succeeded with one read of its merchant, and read neither the
    receipt setting nor the wallet's balance."""
    assert response.status_code == 200, response.text
    assert response.json()["remaining"] is None
    assert len(_merchant_reads(statements)) == 1, _merchant_reads(statements)
    assert _receipt_setting_reads(statements) == []
    assert _remaining_reads(statements) == []


def test_cpm_reads_merchant_once(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    _redeem(terminal, wallet, 100)

    code = _payment_code(wallet)

    with counted_statements(server) as statements:
        response = _redeem_code(terminal, code, 300)

    assert_paid_with_one_merchant_read(response, statements)


def test_cpm_with_receipt_balance_reads_lots(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    _set_receipt_balance(wallet, True)

    code = _payment_code(wallet)

    with counted_statements(server) as statements:
        response = _redeem_code(terminal, code, 300)

    assert response.status_code == 200, response.text
    remaining = response.json()["remaining"]
    assert [(item["kind"], item["amount_yen"]) for item in remaining] == [("coin", 700)]
    assert len(_merchant_reads(statements)) == 1, _merchant_reads(statements)
    assert _receipt_setting_reads(statements) == []
    assert len(_remaining_reads(statements)) == 1


def test_mpm_reads_merchant_once(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    intent_id = _new_intent(terminal, 400)

    with counted_statements(server) as statements:
        response = _pay_intent(wallet, intent_id, 400)

    assert_paid_with_one_merchant_read(response, statements)


@pytest.mark.parametrize("enabled", [True, False])
def test_receipt_setting_applies_to_next_payment(server: Server, enabled: bool) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(1_000)
    _set_receipt_balance(wallet, not enabled)
    assert _redeem(terminal, wallet, 100).status_code == 200

    _set_receipt_balance(wallet, enabled)
    by_code = _redeem(terminal, wallet, 200)
    by_intent = _pay_intent(wallet, _new_intent(terminal, 300), 300)

    assert by_code.status_code == 200, by_code.text
    assert by_intent.status_code == 200, by_intent.text
    expected_code = [{"kind": "coin", "amount_yen": 700, "expires_at": None}]
    expected_intent = [{"kind": "coin", "amount_yen": 400, "expires_at": None}]
    assert by_code.json()["remaining"] == (expected_code if enabled else None)
    assert by_intent.json()["remaining"] == (expected_intent if enabled else None)


def _issue_local_points(server: Server, wallet: WalletClient, amount_yen: int) -> None:
    with server.state.db.write() as session:
        ledger.open_account(session, "points-fund", "campaign", now=server.clock(),
                            is_issuing=True)
        ledger.issue(session, transfer_id=f"points-{uuid.uuid4().hex}", issuer_id="points-fund",
                     destination_id=wallet.wallet_id, amount_yen=amount_yen,
                     now=server.clock(), kind=ValueKind.PREMIUM_LOCAL)


def _set_local(server: Server, merchant_id: str, is_local: bool) -> None:
    with server.state.db.write() as session:
        merchant = session.get(Merchant, merchant_id)
        assert merchant is not None
        merchant.is_local = is_local


def test_shop_locality_applies_to_next_payment(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(0)
    _issue_local_points(server, wallet, 1_000)
    first = _redeem(terminal, wallet, 100)
    assert first.status_code == 200, first.text
    assert first.json()["kinds"] == {"premium_local": 100}

    _set_local(server, terminal.merchant_id, False)
    by_code = _redeem(terminal, wallet, 100)
    by_intent = _pay_intent(wallet, _new_intent(terminal, 100), 100)

    assert by_code.status_code == 402, by_code.text
    assert by_code.json()["error"]["code"] == "insufficient_funds"
    assert by_intent.status_code == 402, by_intent.text
    assert by_intent.json()["error"]["code"] == "insufficient_funds"
