"""Shops with a fee plan, a bank account and a balance, for the cash-out tests."""

from __future__ import annotations

import uuid

import httpx
from settle_helpers import Server, TerminalClient

from server import bank_accounts, fees
from server.bank_accounts import BankAccountDetails

# The metered rate is 3 % up to 100,000 yen a month, 2 % up to 1,000,000 yen and 1 % above,
# capped at 25,000 yen a month. The fixed part is 500 yen a month.
PLAN_TOML = """
[plans.default]
fixed_monthly_yen = 500
monthly_cap_yen = 25000
tiers = [
  { from_yen = 0, rate_bp = 300 },
  { from_yen = 100000, rate_bp = 200 },
  { from_yen = 1000000, rate_bp = 100 },
]

[plans.flat]
fixed_monthly_yen = 0
tiers = [{ from_yen = 0, rate_bp = 100 }]
"""

MIZUHO_TOKYO = BankAccountDetails("0001", "001", 1, "1234567", "アイヅコインショウテン")
MUFG_HEAD_OFFICE = BankAccountDetails("0005", "001", 1, "7654321", "ｷﾀｶﾀﾗｰﾒﾝ")


def load_plans(server: Server, text: str = PLAN_TOML) -> None:
    with server.state.db.write() as session:
        fees.save_plans(session, fees.parse_plans(text), now=server.clock())


def set_bank(server: Server, merchant_id: str, details: BankAccountDetails = MIZUHO_TOKYO) -> None:
    with server.state.db.write() as session:
        bank_accounts.set_bank_account(session, merchant_id, details, now=server.clock())


def sell(server: Server, terminal: TerminalClient, amount_yen: int) -> str:
    """Take a consumer-presented payment of ``amount_yen`` from a new wallet; return its id."""
    wallet = server.new_wallet(amount_yen)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    response = terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": amount_yen, "idempotency_key": f"sale-{uuid.uuid4().hex}",
    })
    assert response.status_code == 200, response.text
    return str(response.json()["payment_id"])


def shop(server: Server, sales_yen: int = 0, *,
         details: BankAccountDetails = MIZUHO_TOKYO) -> TerminalClient:
    """Make a shop with the test plans loaded, a bank account and ``sales_yen`` of sales."""
    load_plans(server)
    terminal = server.new_terminal()
    set_bank(server, terminal.merchant_id, details)
    if sales_yen:
        sell(server, terminal, sales_yen)
    return terminal


def cash_out(terminal: TerminalClient, amount_yen: int, key: str = "cashout-0001"
             ) -> httpx.Response:
    return terminal.post("/v1/cash-outs", {"amount_yen": amount_yen, "idempotency_key": key})
