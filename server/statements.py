"""Monthly statements of a merchant: every movement of its balance in one Japan-time month.

A statement lists sales, refunds, cash-outs with their fees, returned cash-outs, and coin
paid to or received from other merchants, each with its signed effect on the balance, and a
summary from the opening to the closing balance. ``to_csv`` writes the lines for a
spreadsheet, ``to_html`` a printable page (Japanese first, English beside).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import invalid, shorten
from server.merchants import get_merchant
from server.models import (
    CashOut,
    Merchant,
    MerchantTransferRow,
    Payment,
    Posting,
    Refund,
    Transfer,
)
from terminal.japan_time import JAPAN_TIME_ZONE, to_japan_time

_MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
# Years a statement may cover; outside them the month's bounds would not fit a datetime.
FIRST_YEAR = 2000
LAST_YEAR = 2999

# Line types and their Japanese labels, in the order the summary shows them.
LINE_TYPES = {
    "sale": "売上",
    "refund": "返金",
    "cash_out": "出金",
    "fee": "手数料",
    "cash_out_returned": "出金戻し",
    "fee_returned": "手数料戻し",
    "transfer_in": "加盟店からの受取",
    "transfer_out": "加盟店への支払",
}
_TYPE_ENGLISH = {
    "sale": "Sales", "refund": "Refunds", "cash_out": "Cash-outs", "fee": "Fees",
    "cash_out_returned": "Cash-outs returned", "fee_returned": "Fees returned",
    "transfer_in": "Received from merchants", "transfer_out": "Paid to merchants",
}
_STATUS_JAPANESE = {"requested": "受付", "in_file": "振込準備中", "paid": "振込済", "failed": "振込不能"}
CSV_HEADER = ["recorded_at", "type", "type_ja", "reference", "amount_yen", "detail"]


@dataclass(frozen=True)
class StatementLine:
    recorded_at: datetime
    type: str
    reference: str
    amount_yen: int
    detail: str


@dataclass
class Statement:
    merchant: Merchant
    month: str
    opening_balance_yen: int
    closing_balance_yen: int
    lines: list[StatementLine] = field(default_factory=list)

    def total_yen(self, line_type: str) -> int:
        return sum(line.amount_yen for line in self.lines if line.type == line_type)


def month_range(month: str) -> tuple[datetime, datetime]:
    """Return the UTC start and end of a Japan-time month written YYYY-MM."""
    match = _MONTH.fullmatch(month)
    if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
        raise invalid(f"month {shorten(month)!r} is invalid; write it as YYYY-MM, e.g. 2026-11,"
                      f" from {FIRST_YEAR}-01 to {LAST_YEAR}-12")
    year, number = int(match.group(1)), int(match.group(2))
    start = datetime(year, number, 1, tzinfo=JAPAN_TIME_ZONE)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=JAPAN_TIME_ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def build_statement(session: Session, merchant_id: str, month: str) -> Statement:
    """Collect the merchant's movements in ``month`` (YYYY-MM, Japan time), oldest first."""
    start, end = month_range(month)
    merchant = get_merchant(session, merchant_id)
    lines = [
        *_sales(session, merchant_id, start, end),
        *_refunds(session, merchant_id, start, end),
        *_cash_outs(session, merchant_id, start, end),
        *_returned_cash_outs(session, merchant_id, start, end),
        *_merchant_transfers(session, merchant_id, start, end),
    ]
    # A stable sort: movements recorded at the same moment keep the order of the list above.
    lines.sort(key=lambda line: line.recorded_at)
    return Statement(merchant, month, _balance_before(session, merchant.account_id, start),
                     _balance_before(session, merchant.account_id, end), lines)


# --- sources -------------------------------------------------------------------------------


def _sales(session: Session, merchant_id: str, start: datetime, end: datetime
           ) -> list[StatementLine]:
    rows = session.scalars(select(Payment).where(
        Payment.merchant_id == merchant_id, Payment.created_at >= start, Payment.created_at < end))
    return [StatementLine(row.created_at, "sale", row.id, row.amount_yen,
                          f"支払方法 method {row.method}") for row in rows]


def _refunds(session: Session, merchant_id: str, start: datetime, end: datetime
             ) -> list[StatementLine]:
    rows = session.scalars(
        select(Refund).join(Payment, Payment.id == Refund.payment_id)
        .where(Payment.merchant_id == merchant_id, Refund.created_at >= start,
               Refund.created_at < end))
    return [StatementLine(row.created_at, "refund", row.id, -row.amount_yen,
                          f"元の支払 payment {row.payment_id}") for row in rows]


def _cash_outs(session: Session, merchant_id: str, start: datetime, end: datetime
               ) -> list[StatementLine]:
    rows = session.scalars(select(CashOut).where(
        CashOut.merchant_id == merchant_id, CashOut.created_at >= start, CashOut.created_at < end))
    lines: list[StatementLine] = []
    for row in rows:
        account = f"{row.bank_code}-{row.branch_code} ****{row.account_number[-4:]}"
        lines.append(StatementLine(
            row.created_at, "cash_out", row.id, -row.net_yen,
            f"{_STATUS_JAPANESE[row.status]} {row.status}, 振込日 payout date"
            f" {row.payout_date.isoformat()}, 口座 account {account}"))
        if row.fee_yen:
            lines.append(StatementLine(
                row.created_at, "fee", row.id, -row.fee_yen,
                f"プラン plan {row.fee_plan}: 月額 monthly {row.fixed_fee_yen} yen,"
                f" 従量 metered {row.metered_fee_yen} yen, 出金額 amount {row.amount_yen} yen"))
    return lines


def _returned_cash_outs(session: Session, merchant_id: str, start: datetime, end: datetime
                        ) -> list[StatementLine]:
    rows = session.scalars(select(CashOut).where(
        CashOut.merchant_id == merchant_id, CashOut.status == "failed",
        CashOut.settled_at >= start, CashOut.settled_at < end))
    lines: list[StatementLine] = []
    for row in rows:
        assert row.settled_at is not None
        reason = row.failure_reason or "failed"
        lines.append(StatementLine(row.settled_at, "cash_out_returned", row.id, row.net_yen,
                                   f"振込不能 payout failed: {reason}"))
        if row.fee_yen:
            lines.append(StatementLine(row.settled_at, "fee_returned", row.id, row.fee_yen,
                                       "振込不能の手数料 fee of a failed payout"))
    return lines


def _merchant_transfers(session: Session, merchant_id: str, start: datetime, end: datetime
                        ) -> list[StatementLine]:
    rows = session.scalars(select(MerchantTransferRow).where(
        (MerchantTransferRow.merchant_id == merchant_id)
        | (MerchantTransferRow.recipient_merchant_id == merchant_id),
        MerchantTransferRow.created_at >= start, MerchantTransferRow.created_at < end))
    lines: list[StatementLine] = []
    for row in rows:
        note = f" ({row.note})" if row.note else ""
        if row.merchant_id == merchant_id:
            lines.append(StatementLine(row.created_at, "transfer_out", row.id, -row.amount_yen,
                                       f"支払先 to merchant {row.recipient_merchant_id}{note}"))
        else:
            lines.append(StatementLine(row.created_at, "transfer_in", row.id, row.amount_yen,
                                       f"支払元 from merchant {row.merchant_id}{note}"))
    return lines


def _balance_before(session: Session, account_id: str, moment: datetime) -> int:
    total = session.scalar(
        select(func.coalesce(func.sum(Posting.amount_yen), 0))
        .join(Transfer, Transfer.id == Posting.transfer_id)
        .where(Posting.account_id == account_id, Transfer.created_at < moment))
    return int(total or 0)


# --- output --------------------------------------------------------------------------------


def to_csv(statement: Statement) -> str:
    """Write the statement's lines as CSV (UTF-8 text, CRLF rows, Japan-time timestamps)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    for line in statement.lines:
        writer.writerow([
            to_japan_time(line.recorded_at).isoformat(timespec="seconds"), line.type,
            LINE_TYPES[line.type], line.reference, line.amount_yen, line.detail,
        ])
    return buffer.getvalue()


def to_html(statement: Statement) -> str:
    """Write the statement as a self-contained HTML page laid out for A4 printing."""
    merchant = statement.merchant
    summary_rows = "".join(
        f"<tr><th>{LINE_TYPES[kind]} <small>{_TYPE_ENGLISH[kind]}</small></th>"
        f"<td>{_yen(statement.total_yen(kind))}</td></tr>"
        for kind in LINE_TYPES
    )
    line_rows = "".join(
        f"<tr><td>{escape(to_japan_time(line.recorded_at).strftime('%Y-%m-%d %H:%M'))}</td>"
        f"<td>{LINE_TYPES[line.type]}</td><td>{escape(line.reference)}</td>"
        f"<td class=num>{_yen(line.amount_yen)}</td><td>{escape(line.detail)}</td></tr>"
        for line in statement.lines
    ) or "<tr><td colspan=5>取引はありません No movements</td></tr>"
    return _PAGE.format(
        month=escape(statement.month), name=escape(merchant.name),
        merchant_id=escape(merchant.id), address=escape(merchant.address),
        invoice=escape(merchant.invoice_registration_number),
        opening=_yen(statement.opening_balance_yen), closing=_yen(statement.closing_balance_yen),
        summary_rows=summary_rows, line_rows=line_rows,
    )


def _yen(amount_yen: int) -> str:
    return f"{amount_yen:,} 円"


_PAGE = """<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<title>月次明細 {month} {name}</title>
<style>
@page {{ size: A4; margin: 15mm; }}
body {{ font-family: sans-serif; font-size: 10pt; }}
h1 {{ font-size: 16pt; margin: 0 0 4mm; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 6mm; }}
th, td {{ border: 1px solid #888; padding: 1mm 2mm; text-align: left; }}
td.num, .summary td {{ text-align: right; white-space: nowrap; }}
td:first-child {{ white-space: nowrap; }}
.summary {{ width: 60%; }}
small {{ color: #555; }}
tr {{ page-break-inside: avoid; }}
</style>
</head>
<body>
<h1>月次明細 <small>Monthly statement</small> {month}</h1>
<p>{name}<br>{address}<br>加盟店ID <small>Merchant ID</small> {merchant_id}<br>
登録番号 <small>Registration number</small> {invoice}</p>
<table class="summary">
<tr><th>前月末残高 <small>Opening balance</small></th><td>{opening}</td></tr>
{summary_rows}
<tr><th>月末残高 <small>Closing balance</small></th><td>{closing}</td></tr>
</table>
<table>
<tr><th>日時 <small>Time (JST)</small></th><th>種類 <small>Type</small></th>
<th>番号 <small>Reference</small></th><th>金額 <small>Amount</small></th>
<th>内容 <small>Detail</small></th></tr>
{line_rows}
</table>
</body>
</html>
"""
