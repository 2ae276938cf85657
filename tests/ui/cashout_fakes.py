"""A scripted money API for the cash-out and export screens: balance, previews, cash-outs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from terminal import protocol
from terminal.api_client import Declined, Unreachable
from terminal.protocol import ErrorCode
from tests.ui.conftest import FakeApi, iso

ACCOUNT = protocol.BankAccountSummary(
    bank_code="0126", branch_code="401", account_type=1, account_number_last4="4567",
    holder_name="ｱｲﾂﾞｺｲﾝｼﾖｳﾃﾝ", bank_name="東邦", branch_name="会津営業部",
)
FIXED_FEE_YEN = 300
# 2 % metered, rounded down, as the demo plan's first tier.
METERED_RATE_BP = 200
STATEMENT_CSV = (
    "recorded_at,type,type_ja,reference,amount_yen,detail\r\n"
    "2026-12-01T10:00:00+09:00,sale,売上,pay-1,1200,支払方法 method cpm\r\n"
    "2026-12-02T11:00:00+09:00,cash_out,出金,co-1,-870,受付 requested\r\n"
    "2026-12-02T11:00:00+09:00,fee,手数料,co-1,-330,プラン plan demo\r\n"
)


def fee_yen(amount_yen: int) -> int:
    return FIXED_FEE_YEN + amount_yen * METERED_RATE_BP // 10_000


@dataclass
class FakeMoneyApi(FakeApi):
    """FakeApi plus the money calls, with the server's rules on balance and fee."""

    balance_yen: int = 12_000
    payout_date: date = date(2026, 12, 7)
    bank_account_missing: bool = False
    unreachable: bool = False
    # Requests whose response is lost after the server booked them.
    lose_responses: int = 0
    cash_outs: list[protocol.CashOut] = field(default_factory=list)
    keys: dict[str, protocol.CashOut] = field(default_factory=dict)
    statement_csv_text: str = STATEMENT_CSV

    def merchant_balance(self) -> protocol.MerchantBalance:
        self._record("merchant_balance")
        self._check_reachable()
        return protocol.MerchantBalance(
            merchant_id="m-1", total_yen=self.balance_yen,
            kinds={protocol.ValueKind.COIN: self.balance_yen}, pending_payout_yen=0,
        )

    def preview_cash_out(self, amount_yen: int) -> protocol.CashOutPreview:
        self._record("preview_cash_out", amount_yen)
        self._check(amount_yen)
        fee = fee_yen(amount_yen)
        return protocol.CashOutPreview(
            amount_yen=amount_yen, balance_yen=self.balance_yen, fee_yen=fee,
            fixed_fee_yen=FIXED_FEE_YEN, metered_fee_yen=fee - FIXED_FEE_YEN,
            net_yen=amount_yen - fee, payout_date=self.payout_date.isoformat(),
            fee_plan="demo", month="2026-12", month_volume_yen=0, bank_account=ACCOUNT,
        )

    def request_cash_out(self, amount_yen: int, idempotency_key: str) -> protocol.CashOut:
        self._record("request_cash_out", amount_yen, idempotency_key)
        existing = self.keys.get(idempotency_key)
        if existing is None:
            self._check(amount_yen)
            fee = fee_yen(amount_yen)
            existing = protocol.CashOut(
                cash_out_id=f"co-{len(self.cash_outs) + 1}", status="requested",
                amount_yen=amount_yen, fee_yen=fee, fixed_fee_yen=FIXED_FEE_YEN,
                metered_fee_yen=fee - FIXED_FEE_YEN, net_yen=amount_yen - fee,
                payout_date=self.payout_date.isoformat(), month="2026-12",
                created_at=iso(datetime.now(UTC)), bank_account=ACCOUNT,
            )
            self.keys[idempotency_key] = existing
            self.cash_outs.insert(0, existing)
            self.balance_yen -= amount_yen
        if self.lose_responses > 0:
            self.lose_responses -= 1
            raise Unreachable("POST /v1/cash-outs failed: ReadError: connection reset")
        return existing

    def list_cash_outs(self, limit: int = 50) -> list[protocol.CashOut]:
        self._record("list_cash_outs", limit)
        self._check_reachable()
        return list(self.cash_outs[:limit])

    def statement_csv(self, month: str) -> str:
        self._record("statement_csv", month)
        self._check_reachable()
        return self.statement_csv_text

    def _check(self, amount_yen: int) -> None:
        self._check_reachable()
        if self.bank_account_missing:
            raise Declined("no bank account", ErrorCode.BANK_ACCOUNT_MISSING, 409)
        if amount_yen > self.balance_yen:
            raise Declined("over balance", ErrorCode.INSUFFICIENT_FUNDS, 402)
        if amount_yen - fee_yen(amount_yen) < 1:
            fee = fee_yen(amount_yen)
            raise Declined(
                f"cash-out of {amount_yen} yen does not cover its fee of {fee} yen"
                f" ({FIXED_FEE_YEN} yen monthly, {fee - FIXED_FEE_YEN} yen metered);"
                " cash out a larger amount",
                ErrorCode.AMOUNT_BELOW_FEE,
                422,
            )

    def _check_reachable(self) -> None:
        if self.unreachable:
            raise Unreachable("GET /v1/merchant/balance failed: ConnectError")
