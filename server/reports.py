"""Day reports: the server's totals of one business day, for the terminal's day close (Z report).

A business day is the Japan-time date the server gave each store-and-forward entry when it
applied it (``sync_results.business_day``). Counted are the entries with status ``applied``:
an online payment the terminal confirmed, an offline payment, a refund. An entry answered
``duplicate`` confirmed a payment that another entry counted already, and a declined entry
moved nothing, so neither is counted.

The ledger amounts are the postings on the merchant's account made by the transfers of those
payments and refunds, by value kind. They equal the counted net unless a transfer and its
payment row disagree, so the terminal can show both.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import invalid
from server.models import Payment, Posting, Refund, SyncResultRow, Terminal, table_of
from server.payments import merchant_account_id
from server.settings import iso_utc
from terminal import protocol
from terminal.protocol import CountTotal, DayTotals, ValueKind

logger = logging.getLogger(__name__)

_RESULTS = table_of(SyncResultRow)
_PAYMENTS = table_of(Payment)
_REFUNDS = table_of(Refund)
_POSTINGS = table_of(Posting)
_TERMINALS = table_of(Terminal)

_PAYMENT_KINDS = ("online_payment", "offline_payment")
PaymentMethod = Literal["mpm", "cpm", "offline"]
_METHODS: tuple[PaymentMethod, ...] = ("mpm", "cpm", "offline")


@dataclass(frozen=True)
class _Applied:
    """One applied entry of the day with what it moved."""

    terminal_id: str
    is_refund: bool
    method: str
    amount_yen: int
    transfer_id: str


def parse_business_day(text: str) -> str:
    """Check that ``text`` is a date written YYYY-MM-DD and return it."""
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        raise invalid(
            f"business_day {text[:20]!r} is not a date; send it as YYYY-MM-DD, e.g. 2026-04-01"
        ) from None


def day_report(
    session: Session, terminal: Terminal, business_day: str, now: datetime
) -> protocol.ServerDayReport:
    """Total the applied entries of ``business_day`` for ``terminal`` and for its merchant."""
    day = parse_business_day(business_day)
    applied = _applied_entries(session, terminal.merchant_id, day)
    kinds_by_transfer = _merchant_postings(session, terminal.merchant_id, applied)

    own = [entry for entry in applied if entry.terminal_id == terminal.id]
    report = protocol.ServerDayReport(
        business_day=day,
        merchant_id=terminal.merchant_id,
        terminal_id=terminal.id,
        terminal=_totals(own, kinds_by_transfer),
        merchant=_totals(applied, kinds_by_transfer),
        server_time=iso_utc(now),
    )
    logger.info("day report %s for terminal %s: %d entries, net %d yen", day, terminal.id,
                len(own), report.terminal.net_yen)
    return report


def _applied_entries(session: Session, merchant_id: str, day: str) -> list[_Applied]:
    connection = session.connection()
    base = (
        select(_RESULTS.c.terminal_id, _RESULTS.c.kind)
        .join(_TERMINALS, _TERMINALS.c.id == _RESULTS.c.terminal_id)
        .where(
            _TERMINALS.c.merchant_id == merchant_id,
            _RESULTS.c.business_day == day,
            _RESULTS.c.status == "applied",
        )
    )
    payments = connection.execute(
        base.add_columns(_PAYMENTS.c.method, _PAYMENTS.c.amount_yen, _PAYMENTS.c.transfer_id)
        .join(_PAYMENTS, _PAYMENTS.c.id == _RESULTS.c.payment_id)
        .where(_RESULTS.c.kind.in_(_PAYMENT_KINDS))
    ).all()
    refunds = connection.execute(
        base.add_columns(_REFUNDS.c.amount_yen, _REFUNDS.c.transfer_id)
        .join(_REFUNDS, _REFUNDS.c.id == _RESULTS.c.refund_id)
        .where(_RESULTS.c.kind == "refund")
    ).all()

    entries = [
        _Applied(row.terminal_id, False, row.method, row.amount_yen, row.transfer_id)
        for row in payments
    ]
    entries += [
        _Applied(row.terminal_id, True, "refund", row.amount_yen, row.transfer_id)
        for row in refunds
    ]
    return entries


def _merchant_postings(
    session: Session, merchant_id: str, entries: list[_Applied]
) -> dict[str, dict[str, int]]:
    """Return, per transfer id, the signed postings on the merchant's account by value kind."""
    if not entries:
        return {}
    connection = session.connection()
    account_id = merchant_account_id(connection, merchant_id)
    rows = connection.execute(
        select(_POSTINGS.c.transfer_id, _POSTINGS.c.value_kind, _POSTINGS.c.amount_yen).where(
            _POSTINGS.c.account_id == account_id,
            _POSTINGS.c.transfer_id.in_([entry.transfer_id for entry in entries]),
        )
    ).all()
    postings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        postings[row.transfer_id][row.value_kind] += row.amount_yen
    return postings


def _totals(entries: list[_Applied], postings: dict[str, dict[str, int]]) -> DayTotals:
    by_method: dict[PaymentMethod, CountTotal] = {method: CountTotal() for method in _METHODS}
    payments, refunds = CountTotal(), CountTotal()
    ledger_kinds: dict[ValueKind, int] = defaultdict(int)
    for entry in entries:
        if entry.is_refund:
            refunds = _add(refunds, entry.amount_yen)
        else:
            payments = _add(payments, entry.amount_yen)
            method = cast(PaymentMethod, entry.method)
            by_method[method] = _add(by_method[method], entry.amount_yen)
        for kind, amount_yen in postings.get(entry.transfer_id, {}).items():
            ledger_kinds[ValueKind(kind)] += amount_yen

    return DayTotals(
        payments_by_method=by_method,
        payments=payments,
        refunds=refunds,
        net_yen=payments.amount_yen - refunds.amount_yen,
        ledger_net_yen=sum(ledger_kinds.values()),
        ledger_kinds=dict(ledger_kinds),
    )


def _add(total: CountTotal, amount_yen: int) -> CountTotal:
    return CountTotal(count=total.count + 1, amount_yen=total.amount_yen + amount_yen)
