"""Shops with a fee plan, a bank account and a balance, for the cash-out tests."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from settle_helpers import Server, TerminalClient, WalletClient

from server import bank_accounts, fees
from server.bank_accounts import BankAccountDetails
from server.zengin import Sender

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

# The operator's sending account for Zengin transfer files, as a Sender and as a senders file.
MIZUHO_SENDER = Sender(consignor_code="1234567890", name="ﾁｲｷｺｲﾝｷﾖｳｷﾞｶｲ", bank_code="0001",
                       branch_code="001", account_type=1, account_number="1111111")
SENDERS_TOML = """
[[senders]]
consignor_code = "1234567890"
name = "ﾁｲｷｺｲﾝｷﾖｳｷﾞｶｲ"
bank_code = "0001"
branch_code = "001"
account_type = 1
account_number = "1111111"
"""
RECORD = 122   # a Zengin record: 120 bytes and CR LF


def data_records(data: bytes) -> list[bytes]:
    """Return the data records (record type 2) of a Zengin transfer file, without CR LF."""
    records = [data[start:start + 120] for start in range(0, len(data), RECORD)]
    return [record for record in records if record[:1] == b"2"]


def load_plans(server: Server, text: str = PLAN_TOML) -> None:
    with server.state.db.write() as session:
        fees.save_plans(session, fees.parse_plans(text), now=server.clock())


def set_bank(server: Server, merchant_id: str, details: BankAccountDetails = MIZUHO_TOKYO) -> None:
    with server.state.db.write() as session:
        bank_accounts.set_bank_account(session, merchant_id, details, now=server.clock())


def pay_from_new_wallet(server: Server, terminal: TerminalClient,
                        amount_yen: int) -> tuple[dict[str, Any], WalletClient]:
    """Take a consumer-presented payment of ``amount_yen`` from a new wallet holding exactly
    that; return the Payment JSON and the wallet."""
    wallet = server.new_wallet(amount_yen)
    code = wallet.post("/v1/wallet/payment-codes").json()["code"]
    response = terminal.post("/v1/payments/cpm", {
        "code": code, "amount_yen": amount_yen, "idempotency_key": f"sale-{uuid.uuid4().hex}",
    })
    assert response.status_code == 200, response.text
    payment: dict[str, Any] = response.json()
    return payment, wallet


def sell(server: Server, terminal: TerminalClient, amount_yen: int) -> str:
    """Take a consumer-presented payment of ``amount_yen`` from a new wallet; return its id."""
    payment, _wallet = pay_from_new_wallet(server, terminal, amount_yen)
    return str(payment["payment_id"])


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
