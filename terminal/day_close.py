"""Closing the business day at the counter: the X report (点検) and the Z report (精算).

Both reports total the terminal's own captures (``terminal.store``) for one business day.
They show payments by how the customer paid (MPM, CPM, offline), refunds, the net, per clerk,
and the split between captures the server confirmed and those still waiting to be sent.
Captures the server declined are listed one by one and are not in any total.
Payments that used a coupon are counted with the sum of their discounts, which the coupons'
issuers pay to the shop, and apart from them the coupons the server did not honour.

Which captures belong to a day: a confirmed or declined capture carries the business day the
server gave it on sync. A waiting capture has none yet, so it belongs to the open day, the
one being reported, unless that day is already over (an earlier day left unclosed). A
declined capture without a business day belongs to the Japan-time date it was captured on.

The Z report closes the oldest day that has captures but no Z report yet (``day_to_close``),
so a day the shop forgot to close is closed first, before today.

The X report reads and changes nothing. The Z report is stored (``Store.record_day_close``)
with the next Z number, once per business day. When the server's report of the day
(``protocol.ServerDayReport``) could be fetched, the report carries it, and ``reconcile``
compares the terminal's confirmed totals with it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from terminal.coupons import CouponUses
from terminal.japan_time import to_japan_time
from terminal.protocol import CountTotal, ServerDayReport
from terminal.store import Capture, DayCloseRecord, Store

logger = logging.getLogger(__name__)

ReportKind = Literal["X", "Z"]
PAYMENT_METHODS: tuple[Literal["mpm", "cpm", "offline"], ...] = ("mpm", "cpm", "offline")
HOURS_PER_DAY = 24


class DeclinedCapture(BaseModel):
    """A capture the server declined, listed on the report with its amount, time and reason."""

    capture_id: str
    kind: str
    amount_yen: int
    captured_at: str
    reason: str
    message: str = ""
    coupon_discount_yen: int = Field(
        default=0, description="The coupon discount the shop was not paid with this entry"
    )


class ClerkTotals(BaseModel):
    clerk: str | None = Field(description="None for captures made with no clerk chosen")
    payments: CountTotal
    refunds: CountTotal
    net_yen: int


class StateTotals(BaseModel):
    """Payments and refunds in one sync state (confirmed by the server, or waiting)."""

    payments: CountTotal = Field(default_factory=CountTotal)
    refunds: CountTotal = Field(default_factory=CountTotal)

    @property
    def net_yen(self) -> int:
        return self.payments.amount_yen - self.refunds.amount_yen


class DayReport(BaseModel):
    """An X or Z report of one business day, as shown, printed and stored (as JSON)."""

    kind: ReportKind
    business_day: str = Field(description="YYYY-MM-DD in Japan time")
    created_at: str = Field(description="When the report was made, ISO 8601 UTC")
    z_number: int | None = None
    payments_by_method: dict[str, CountTotal]
    payments: CountTotal
    refunds: CountTotal
    net_yen: int
    confirmed: StateTotals
    waiting: StateTotals
    clerks: list[ClerkTotals] = Field(default_factory=list)
    declined: list[DeclinedCapture] = Field(default_factory=list)
    hourly_sales_yen: list[int] = Field(description="Payments by Japan-time hour, 0 to 23")
    server: ServerDayReport | None = None
    coupons: CountTotal = Field(
        default_factory=CountTotal,
        description="Counted payments that used a coupon, and the sum of their discounts. The "
        "coupon's issuer pays the discount to the shop, on top of the payments' amounts.",
    )
    coupons_missing: CountTotal = Field(
        default_factory=CountTotal,
        description="Coupons of counted offline payments the server did not honour, and the "
        "discounts the shop gave and is not paid; not part of ``coupons``",
    )


class WaitingNotConfirmed(Exception):
    """More captures wait to be sent than the manager agreed to close the day with."""

    def __init__(self, waiting_count: int, waiting_yen: int) -> None:
        super().__init__(
            f"{waiting_count} captures ({waiting_yen} yen) are waiting to be sent;"
            " confirm closing the day with them, or close it after they are sent"
        )
        self.waiting_count = waiting_count
        self.waiting_yen = waiting_yen


class Reconcile(BaseModel):
    """The terminal's confirmed totals against the server's totals of the same day."""

    matches: bool
    terminal_net_yen: int
    server_net_yen: int
    difference_yen: int = Field(description="terminal minus server")


def japan_day(moment: datetime) -> str:
    """Return the Japan-time date of ``moment`` as YYYY-MM-DD."""
    return to_japan_time(moment).date().isoformat()


def day_to_close(store: Store, today: str) -> str:
    """Return the oldest day before ``today`` with captures but no Z report, else ``today``."""
    closed = {record.business_day for record in store.day_closes()}
    earlier = {
        capture.business_day
        for capture in store.captures()
        if capture.business_day is not None and capture.business_day < today
    }
    unclosed = sorted(earlier - closed)
    return unclosed[0] if unclosed else today


def captures_of_day(
    captures: Sequence[Capture], business_day: str, *, include_waiting: bool = True
) -> list[Capture]:
    """Select the captures that belong to ``business_day`` (see module doc).

    ``include_waiting`` is False for a day that is already over: waiting captures belong to
    the day still open.
    """
    selected: list[Capture] = []
    for capture in captures:
        if capture.state == "waiting":
            if include_waiting:
                selected.append(capture)
        elif capture.business_day is not None:
            if capture.business_day == business_day:
                selected.append(capture)
        elif capture.state == "declined" and japan_day(capture.captured_at) == business_day:
            selected.append(capture)
    return selected


def build_report(
    kind: ReportKind,
    captures: Sequence[Capture],
    business_day: str,
    created_at: datetime,
    *,
    per_clerk: bool = False,
    server: ServerDayReport | None = None,
    coupon_discounts: CouponDiscounts | None = None,
) -> DayReport:
    """Total ``captures`` (already selected for the day) into an X or Z report.

    ``coupon_discounts`` gives the coupon discounts of the captures (``coupon_discounts(store)``).
    """
    coupons = coupon_discounts or CouponDiscounts({}, {})
    discounts = coupons.by_capture
    counted = [capture for capture in captures if capture.state != "declined"]
    payments = [capture for capture in counted if capture.kind != "refund"]
    refunds = [capture for capture in counted if capture.kind == "refund"]
    by_method: dict[str, CountTotal] = {
        method: _total([c for c in payments if c.method == method]) for method in PAYMENT_METHODS
    }
    payment_total, refund_total = _total(payments), _total(refunds)

    return DayReport(
        kind=kind,
        business_day=business_day,
        created_at=created_at.isoformat(timespec="seconds"),
        payments_by_method=by_method,
        payments=payment_total,
        refunds=refund_total,
        net_yen=payment_total.amount_yen - refund_total.amount_yen,
        confirmed=_state_totals(counted, "confirmed"),
        waiting=_state_totals(counted, "waiting"),
        clerks=_clerk_totals(counted) if per_clerk else [],
        declined=[
            _declined(capture, discounts.get(capture.capture_id, 0))
            for capture in captures
            if capture.state == "declined"
        ],
        hourly_sales_yen=_hourly_sales(payments),
        server=server,
        coupons=_coupon_total(
            [c for c in payments if c.capture_id not in coupons.missing_by_capture], discounts
        ),
        coupons_missing=_coupon_total(payments, coupons.missing_by_capture),
    )


@dataclass(frozen=True)
class CouponDiscounts:
    """Coupon discounts by capture id: all of them, and those the server did not honour."""

    by_capture: Mapping[str, int]
    missing_by_capture: Mapping[str, int]


def coupon_discounts(store: Store) -> CouponDiscounts:
    """Read the coupon discounts of the captures in ``store``."""
    uses = CouponUses(store)
    return CouponDiscounts(uses.discounts(), uses.discounts(declined=True))


def x_report(
    store: Store,
    business_day: str,
    now: datetime,
    *,
    per_clerk: bool = False,
    server: ServerDayReport | None = None,
) -> DayReport:
    """Make the X report of ``business_day`` from the store; nothing is stored."""
    selected = captures_of_day(
        store.captures(), business_day, include_waiting=business_day >= japan_day(now)
    )
    return build_report("X", selected, business_day, now, per_clerk=per_clerk, server=server,
                        coupon_discounts=coupon_discounts(store))


def close_day(
    store: Store,
    business_day: str,
    now: datetime,
    *,
    per_clerk: bool = False,
    server: ServerDayReport | None = None,
    max_waiting: int = 0,
) -> DayReport:
    """Make the Z report of ``business_day`` and store it; raise DayAlreadyClosed on a repeat.

    Waiting captures are closed with the day, and the server may still decline one of them,
    so the manager confirms them first: with more than ``max_waiting`` waiting captures
    nothing is stored and WaitingNotConfirmed is raised.
    """
    selected = captures_of_day(
        store.captures(), business_day, include_waiting=business_day >= japan_day(now)
    )
    draft = build_report("Z", selected, business_day, now, per_clerk=per_clerk, server=server,
                         coupon_discounts=coupon_discounts(store))
    if waiting_count(draft) > max_waiting:
        raise WaitingNotConfirmed(waiting_count(draft), draft.waiting.net_yen)
    record = store.record_day_close(business_day, now, draft.model_dump_json())
    report = draft.model_copy(update={"z_number": record.z_number})
    logger.info("Z report %d of %s: %d payments, net %d yen, %d waiting", record.z_number,
                business_day, report.payments.count, report.net_yen,
                report.waiting.payments.count + report.waiting.refunds.count)
    return report


def waiting_count(report: DayReport) -> int:
    return report.waiting.payments.count + report.waiting.refunds.count


def stored_report(record: DayCloseRecord) -> DayReport:
    """Read a stored Z report back, with its Z number."""
    report = DayReport.model_validate_json(record.totals_json)
    return report.model_copy(update={"z_number": record.z_number})


def reconcile(report: DayReport) -> Reconcile | None:
    """Compare the confirmed totals with the server's totals for this terminal, if fetched.

    They match when the payment count and sum, the refund count and sum, and the ledger net
    are all equal.
    """
    if report.server is None:
        return None
    server = report.server.terminal
    confirmed = report.confirmed
    matches = (
        confirmed.payments == server.payments
        and confirmed.refunds == server.refunds
        and confirmed.net_yen == server.ledger_net_yen
    )
    return Reconcile(
        matches=matches,
        terminal_net_yen=confirmed.net_yen,
        server_net_yen=server.net_yen,
        difference_yen=confirmed.net_yen - server.net_yen,
    )


def _total(captures: Sequence[Capture]) -> CountTotal:
    return CountTotal(count=len(captures), amount_yen=sum(c.amount_yen for c in captures))


def _state_totals(captures: Sequence[Capture], state: str) -> StateTotals:
    in_state = [capture for capture in captures if capture.state == state]
    return StateTotals(
        payments=_total([c for c in in_state if c.kind != "refund"]),
        refunds=_total([c for c in in_state if c.kind == "refund"]),
    )


def _clerk_totals(captures: Sequence[Capture]) -> list[ClerkTotals]:
    by_clerk: dict[str | None, list[Capture]] = defaultdict(list)
    for capture in captures:
        by_clerk[capture.clerk].append(capture)
    lines: list[ClerkTotals] = []
    # Named clerks in name order, then the captures made with no clerk chosen.
    for clerk in sorted(by_clerk, key=lambda name: (name is None, name or "")):
        own = by_clerk[clerk]
        payments = _total([c for c in own if c.kind != "refund"])
        refunds = _total([c for c in own if c.kind == "refund"])
        lines.append(ClerkTotals(clerk=clerk, payments=payments, refunds=refunds,
                                 net_yen=payments.amount_yen - refunds.amount_yen))
    return lines


def _coupon_total(payments: Sequence[Capture], discounts: Mapping[str, int]) -> CountTotal:
    used = [discounts[c.capture_id] for c in payments if c.capture_id in discounts]
    return CountTotal(count=len(used), amount_yen=sum(used))


def _declined(capture: Capture, coupon_discount_yen: int = 0) -> DeclinedCapture:
    return DeclinedCapture(
        capture_id=capture.capture_id,
        kind=capture.kind,
        amount_yen=capture.amount_yen,
        captured_at=capture.captured_at.isoformat(timespec="seconds"),
        reason=capture.declined_reason or "unknown",
        message=capture.declined_message or "",
        coupon_discount_yen=coupon_discount_yen,
    )


def _hourly_sales(payments: Sequence[Capture]) -> list[int]:
    hourly = [0] * HOURS_PER_DAY
    for capture in payments:
        hourly[to_japan_time(capture.captured_at).hour] += capture.amount_yen
    return hourly
