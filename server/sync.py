"""Store and forward: apply a terminal's batch of captured sales and refunds, each exactly once.

Each entry runs in its own writing transaction, in the order the batch lists them. The
transaction first claims ``(terminal_id, entry_id)`` in ``sync_results`` with an
``INSERT ... ON CONFLICT DO NOTHING``: on PostgreSQL a second transaction claiming the same
entry waits until the first commits and then finds its result, and on SQLite writers run one
at a time. The claim, the ledger transfers and the stored result commit together, so a
response lost after the commit makes the retry answer ``duplicate`` with the first ids.

A repeated entry that was applied returns ``duplicate``. One that was declined returns the
same decline again. An unexpected error (not a ``ServerError``) in an entry rolls that entry
back and ends the batch there: the results before it are returned, and the terminal sends the
rest again. When the first entry fails, the request fails with 500 so the terminal backs off.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Insert, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server import coupons, offline, payments, rallies
from server.db import Database
from server.errors import ServerError, invalid, not_found, shorten
from server.models import Payment as PaymentRow
from server.models import SyncResultRow, Terminal, table_of
from server.settings import Settings, iso_utc
from terminal import protocol
from terminal.japan_time import to_japan_time
from terminal.protocol import ErrorCode, SyncEntry, SyncResult

logger = logging.getLogger(__name__)

_RESULTS = table_of(SyncResultRow)
_PAYMENTS = table_of(PaymentRow)

_CLAIM_SQLITE: Insert = (
    sqlite.insert(_RESULTS)
    .on_conflict_do_nothing(index_elements=[_RESULTS.c.terminal_id, _RESULTS.c.entry_id])
    .returning(_RESULTS.c.seq)
)
_CLAIM_POSTGRESQL: Insert = (
    postgresql.insert(_RESULTS)
    .on_conflict_do_nothing(index_elements=[_RESULTS.c.terminal_id, _RESULTS.c.entry_id])
    .returning(_RESULTS.c.seq)
)
_STORED_RESULT = select(_RESULTS).where(
    _RESULTS.c.terminal_id == bindparam("terminal_id"),
    _RESULTS.c.entry_id == bindparam("entry_id"),
)
_STORE_RESULT = (
    update(_RESULTS)
    .where(_RESULTS.c.seq == bindparam("claimed_seq"))
    .values(status=bindparam("new_status"), reason=bindparam("new_reason"),
            message=bindparam("new_message"), payment_id=bindparam("new_payment_id"),
            refund_id=bindparam("new_refund_id"))
)
_CONFIRMED_BEFORE = select(_RESULTS.c.entry_id).where(
    _RESULTS.c.terminal_id == bindparam("terminal_id"),
    _RESULTS.c.payment_id == bindparam("payment_id"),
    _RESULTS.c.kind == "online_payment",
    _RESULTS.c.status.in_(["applied", "duplicate"]),
    _RESULTS.c.entry_id != bindparam("entry_id"),
).limit(1)
_PAYMENT_OF_ENTRY = select(_RESULTS.c.payment_id).where(
    _RESULTS.c.terminal_id == bindparam("terminal_id"),
    _RESULTS.c.entry_id == bindparam("entry_id"),
    _RESULTS.c.kind == "offline_payment",
    _RESULTS.c.status == "applied",
)
_PAYMENT = select(_PAYMENTS.c.merchant_id, _PAYMENTS.c.amount_yen).where(
    _PAYMENTS.c.id == bindparam("payment_id")
)

# The longest ``message`` stored with a result, the width of its column.
_MAX_MESSAGE_CHARS = 400


@dataclass(frozen=True)
class EntryContext:
    """Context shared by every entry of one batch."""

    terminal: Terminal
    settings: Settings
    # Server receive time minus the terminal's device_time; added to captured_at.
    clock_offset: timedelta


_Applier = Callable[[Session, SyncEntry, EntryContext], SyncResult]


def sync_batch(db: Database, terminal: Terminal, batch: protocol.SyncBatch,
               settings: Settings) -> protocol.SyncResponse:
    """Apply the batch's entries in order and return one result per processed entry."""
    received_at = settings.clock()
    device_time = _parse_time(batch.device_time, "device_time")
    context = EntryContext(terminal, settings, received_at - device_time)

    results: list[SyncResult] = []
    for entry in batch.entries:
        try:
            results.append(sync_entry(db, entry, context))
        except Exception:
            # A database failure or a bug must not become a permanent decline. The entries
            # before this one are committed and have results, and the terminal resends the rest.
            logger.exception("sync entry %s of terminal %s failed; returning %d of %d results",
                             shorten(entry.entry_id), terminal.id, len(results),
                             len(batch.entries))
            if not results:
                raise
            break

    counts = Counter(result.status for result in results)
    logger.info("sync batch from terminal %s: %d entries, %d applied, %d duplicate,"
                " %d declined, clock offset %.0f s", terminal.id, len(batch.entries),
                counts["applied"], counts["duplicate"], counts["declined"],
                context.clock_offset.total_seconds())
    return protocol.SyncResponse(results=results, server_time=iso_utc(settings.clock()))


def sync_entry(db: Database, entry: SyncEntry, context: EntryContext) -> SyncResult:
    """Apply one entry in its own transaction, or return the stored result of an earlier send."""
    with db.write() as session:
        business_day = _business_day(entry, context)
        claimed_seq = _claim(session, entry, context, business_day)
        if claimed_seq is None:
            return _repeated(session, entry, context)

        try:
            with session.begin_nested():
                result = _APPLIERS[entry.kind](session, entry, context)
        except ServerError as exc:
            result = _declined(entry, exc.code, exc.message)
        result = result.model_copy(update={"business_day": business_day})
        _store(session, claimed_seq, result)
        return result


# --- entry kinds ---------------------------------------------------------------------------


def _apply_offline_payment(session: Session, entry: SyncEntry, context: EntryContext) -> SyncResult:
    captured_at = _capture_time(entry, context)
    outcome = offline.settle_offline_code(session, context.terminal, entry,
                                          captured_at=captured_at, settings=context.settings)
    if outcome.payment is None:
        assert outcome.reason is not None
        return _declined(entry, outcome.reason, outcome.message)
    coupon_declined = None
    if entry.coupon is not None:
        # The payment stands even when its coupon does not: the wallet paid the discounted
        # amount at the counter, and the decline tells the shop the discount it misses.
        coupon_declined = coupons.apply_offline(
            session, outcome.payment, entry.coupon, terminal_id=context.terminal.id,
            entry_id=entry.entry_id, captured_at=captured_at, now=context.settings.clock(),
        )
    return SyncResult(entry_id=entry.entry_id, status="applied",
                      payment_id=outcome.payment.id, coupon_declined=coupon_declined)


def _apply_online_payment(session: Session, entry: SyncEntry, context: EntryContext) -> SyncResult:
    """Confirm a payment the server approved online: same merchant and amount."""
    payment_id = _required_payment_id(entry)
    terminal = context.terminal
    connection = session.connection()
    payment = connection.execute(_PAYMENT, {"payment_id": payment_id}).first()
    if payment is None or payment.merchant_id != terminal.merchant_id:
        raise not_found(f"payment {shorten(payment_id)} does not exist for this merchant;"
                        " keep the sale for the merchant to check")
    if payment.amount_yen != entry.amount_yen:
        raise ServerError(
            ErrorCode.AMOUNT_MISMATCH,
            f"payment {payment_id} is for {payment.amount_yen} yen, but the entry records"
            f" {entry.amount_yen} yen; keep the sale for the merchant to check",
        )

    earlier = connection.execute(_CONFIRMED_BEFORE, {
        "terminal_id": terminal.id, "payment_id": payment_id, "entry_id": entry.entry_id,
    }).first()
    status: protocol.SyncStatus = "applied" if earlier is None else "duplicate"
    return SyncResult(entry_id=entry.entry_id, status=status, payment_id=payment_id)


def _apply_refund(session: Session, entry: SyncEntry, context: EntryContext) -> SyncResult:
    """Refund a payment, named by its payment id or by the entry id of an offline sale."""
    named = _required_payment_id(entry)
    connection = session.connection()
    payment_id = connection.execute(_PAYMENT_OF_ENTRY, {
        "terminal_id": context.terminal.id, "entry_id": named,
    }).scalar() or named
    request = protocol.RefundCreate(amount_yen=entry.amount_yen, idempotency_key=entry.entry_id)
    refund = payments.refund_payment(session, context.terminal, payment_id, request,
                                     context.settings)
    return SyncResult(entry_id=entry.entry_id, status="applied", payment_id=payment_id,
                      refund_id=refund.id)


def _apply_stamp(session: Session, entry: SyncEntry, context: EntryContext) -> SyncResult:
    """Give a rally stamp recorded at the booth; a second stamp of the same day is declined."""
    if not entry.participant_code:
        raise invalid(f"entry {entry.entry_id} is a stamp without participant_code;"
                      " send the scanned participant code")
    outcome = rallies.give_stamp(session, context.terminal, entry.participant_code,
                                 entry.entry_id, _capture_time(entry, context),
                                 now=context.settings.clock())
    if outcome.status == "already_today":
        raise ServerError(ErrorCode.STAMP_ALREADY_GIVEN,
                          f"the participant already has a stamp from this booth on"
                          f" {outcome.stamp_day}; one stamp per booth per day")
    return SyncResult(entry_id=entry.entry_id, status="applied")


_APPLIERS: dict[str, _Applier] = {
    "offline_payment": _apply_offline_payment,
    "online_payment": _apply_online_payment,
    "refund": _apply_refund,
    "stamp": _apply_stamp,
}


# --- results -------------------------------------------------------------------------------


def _claim(
    session: Session, entry: SyncEntry, context: EntryContext, business_day: str | None
) -> int | None:
    """Insert the pending result row; return its seq, or None when the entry has a result."""
    connection = session.connection()
    statement = _CLAIM_SQLITE if connection.dialect.name == "sqlite" else _CLAIM_POSTGRESQL
    return connection.execute(statement, {
        "terminal_id": context.terminal.id, "entry_id": entry.entry_id, "kind": entry.kind,
        "amount_yen": entry.amount_yen, "status": "pending", "message": "",
        "business_day": business_day, "created_at": context.settings.clock(),
    }).scalar()


def _store(session: Session, claimed_seq: int, result: SyncResult) -> None:
    session.connection().execute(_STORE_RESULT, {
        "claimed_seq": claimed_seq, "new_status": result.status,
        "new_reason": None if result.reason is None else result.reason.value,
        "new_message": result.message[:_MAX_MESSAGE_CHARS], "new_payment_id": result.payment_id,
        "new_refund_id": result.refund_id,
    })


def _repeated(session: Session, entry: SyncEntry, context: EntryContext) -> SyncResult:
    stored = session.connection().execute(_STORED_RESULT, {
        "terminal_id": context.terminal.id, "entry_id": entry.entry_id,
    }).one()
    if (stored.kind, stored.amount_yen) != (entry.kind, entry.amount_yen):
        return _declined(entry, ErrorCode.IDEMPOTENCY_CONFLICT,
                         f"entry {entry.entry_id} was first sent as {stored.kind} of"
                         f" {stored.amount_yen} yen, not {entry.kind} of {entry.amount_yen}"
                         " yen; give each capture its own entry_id")
    if stored.status == "declined":
        status: protocol.SyncStatus = "declined"
        reason: ErrorCode | None = ErrorCode(stored.reason)
    else:
        status, reason = "duplicate", None
    coupon_declined = None
    if stored.kind == "offline_payment" and stored.payment_id is not None:
        coupon_declined = coupons.declined_for_payment(session, stored.payment_id)
    return SyncResult(entry_id=entry.entry_id, status=status, reason=reason,
                      message=stored.message, payment_id=stored.payment_id,
                      refund_id=stored.refund_id, business_day=stored.business_day,
                      coupon_declined=coupon_declined)


def _declined(entry: SyncEntry, reason: ErrorCode, message: str) -> SyncResult:
    logger.info("sync entry %s (%s, %d yen) declined: %s: %s", entry.entry_id, entry.kind,
                entry.amount_yen, reason.value, message)
    return SyncResult(entry_id=entry.entry_id, status="declined", reason=reason,
                      message=message)


# --- times ---------------------------------------------------------------------------------


def _business_day(entry: SyncEntry, context: EntryContext) -> str | None:
    """Return the Japan-time date of the capture on the server's clock, or None if unreadable."""
    try:
        captured_at = _capture_time(entry, context)
    except ServerError:
        return None
    if entry.kind == "stamp":
        # The rally stores the stamp on the day of this capped time, and the response agrees.
        captured_at = rallies.stamp_time(captured_at, context.settings.clock())
    corrected: date = to_japan_time(captured_at).date()
    return corrected.isoformat()


def _capture_time(entry: SyncEntry, context: EntryContext) -> datetime:
    """Return captured_at moved from the terminal's clock to the server's clock."""
    captured_at = _parse_time(entry.captured_at, "captured_at")
    try:
        return captured_at + context.clock_offset
    except OverflowError:
        raise invalid(f"captured_at {shorten(entry.captured_at)!r} is out of range once"
                      " corrected by the device_time offset; set the terminal clock") from None


def _parse_time(text: str, field: str) -> datetime:
    """Read an ISO 8601 time; one without an offset is UTC, as the protocol sends."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise invalid(f"{field} {shorten(text)!r} is not an ISO 8601 time;"
                      " send e.g. 2026-04-01T10:00:00+00:00") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _required_payment_id(entry: SyncEntry) -> str:
    if not entry.payment_id:
        raise invalid(f"entry {entry.entry_id} is a {entry.kind} without payment_id;"
                      " send the id of the payment it refers to")
    return entry.payment_id
