"""The terminal's own SQLite database: what the counter did, and what is still to be sent.

The database lives in ``<data dir>/terminal.db`` and is the source of truth for the counter.
Every approved payment and every refund is a *capture*. ``record_capture`` writes the capture and
its *outbox* entry in one transaction, and the caller reports the approval only after it
returns, so a crash leaves either both rows or neither. The capture id is the sync entry id and
is chosen before the first send, so every resend of an entry carries the same id and the server
applies it once.

Outbox states: ``pending`` until the server acknowledges the entry (``applied`` or
``duplicate``), then ``acked``; ``declined`` when the server rejected it, with the reason kept
on the capture for the merchant. Rows are never deleted.

The sync worker takes entries with ``pending_entries``, and each taken entry counts as being
sent until ``apply_results`` or ``record_failure`` records the outcome of its send. A caller
that sends an entry's request itself first holds the entry (``holding_entry``), so the worker
leaves it alone meanwhile. When the server declines that request, ``withdraw_entry`` declines
the entry locally, but only if the worker never took it, so the server cannot have it. When
the server applies a refund sent that way, ``record_applied_refund`` stores the server's refund
id on the capture, and the entry stays pending: the server counts a refund in its day report,
and gives it a business day, only once the entry itself arrives.

An online payment is also a *redemption* from the moment before its first request until its
outcome is known: a CPM code sent for redemption, or an MPM intent created. The redemption
contains the idempotency key and what is needed to send the same request again, so a terminal
that stops before it learns the outcome (a crash, a power cut) finds out after a restart
instead of charging the customer a second time. An approved redemption's capture has the
idempotency key as its capture id, so recording the same approval twice stores it once.
Redemption states: ``open`` until the outcome is known, then ``approved`` or ``closed``. An
approval found after the sale had ended is ``recovered`` and stays on the clerk's screen until
``acknowledge_recovery`` is called.

SQLite runs in WAL mode with ``synchronous=FULL``, so a committed transaction survives a power
cut. Every transaction starts with ``BEGIN IMMEDIATE``: the sale worker and the sync worker
write from different threads, and taking the write lock up front avoids a deadlock when a
reader later tries to write.

Each Z report (day close) is a row of ``day_closes``, numbered from 1, one per business day.

Errors: ``StoreError`` when the database cannot be opened, read or written;
``DayAlreadyClosed`` when a second Z report is recorded for the same business day.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from terminal import protocol
from terminal.clock import parse_utc
from terminal.protocol import ErrorCode, SyncKind, SyncResult, TaxLine

logger = logging.getLogger(__name__)

DATABASE_FILE_NAME = "terminal.db"
# How long a writer waits for the other thread's transaction before giving up.
BUSY_TIMEOUT_S = 30.0

CaptureMethod = Literal["mpm", "cpm", "offline", "refund"]
RedemptionMethod = Literal["mpm", "cpm"]
RedemptionState = Literal["open", "approved", "closed"]
CaptureState = Literal["waiting", "confirmed", "declined"]
OutboxState = Literal["pending", "acked", "declined"]

metadata = MetaData()

captures = Table(
    "captures",
    metadata,
    Column("capture_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    Column("amount_yen", Integer, nullable=False),
    Column("tax_lines", Text, nullable=False),
    Column("method", String(10), nullable=False),
    Column("state", String(10), nullable=False),
    Column("payment_id", String(64)),
    Column("refund_id", String(64)),
    Column("offline_code", Text),
    Column("captured_at", String(40), nullable=False),
    Column("business_day", String(10)),
    Column("declined_reason", String(40)),
    Column("declined_message", Text),
    # The clerk chosen on the sale screen when the capture was made; None when none is set.
    Column("clerk", String(40)),
)

outbox = Table(
    "outbox",
    metadata,
    Column("entry_id", String(64), ForeignKey("captures.capture_id"), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", String(40)),
    Column("last_error", Text),
)

seen_offline_codes = Table(
    "seen_offline_codes",
    metadata,
    Column("wallet_id", String(32), nullable=False),
    Column("serial", Integer, nullable=False),
    Column("counter", Integer, nullable=False),
    Column("fingerprint", String(64), nullable=False, unique=True),
    Column("capture_id", String(64), ForeignKey("captures.capture_id"), nullable=False),
    UniqueConstraint("wallet_id", "serial", "counter"),
)

issuer_keys = Table(
    "issuer_keys",
    metadata,
    Column("key_id", String(8), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("valid_from", String(40), nullable=False),
    Column("valid_until", String(40), nullable=False),
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("method", String(10), nullable=False),
    # The CPM code sent, kept only while the outcome is open: it is resent with the same key.
    Column("code", Text),
    Column("intent_id", String(64)),
    Column("amount_yen", Integer, nullable=False),
    Column("tax_lines", Text, nullable=False),
    Column("opened_at", String(40), nullable=False),
    Column("state", String(10), nullable=False),
    Column("outcome", String(40)),
    Column("recovered", Integer, nullable=False, default=0),
    Column("acknowledged", Integer, nullable=False, default=1),
    # Copied to the capture when the payment is approved, also after a restart.
    Column("clerk", String(40)),
)

# One row per Z report (精算): the business day it closed and its totals, never changed later.
day_closes = Table(
    "day_closes",
    metadata,
    Column("z_number", Integer, primary_key=True, autoincrement=False),
    Column("business_day", String(10), nullable=False, unique=True),
    Column("closed_at", String(40), nullable=False),
    Column("totals", Text, nullable=False),
)

# A cash-out request whose outcome the terminal has not learned yet, kept across restarts so
# that it is sent again with the same idempotency key instead of being asked for twice.
pending_cash_outs = Table(
    "pending_cash_outs",
    metadata,
    Column("idempotency_key", String(64), primary_key=True),
    Column("amount_yen", Integer, nullable=False),
    Column("requested_at", String(40), nullable=False),
)

# Columns added after the first release: (table, column, SQL type). A database created
# before them gets each one by ALTER TABLE when it is opened.
_ADDED_COLUMNS = (("captures", "clerk", "VARCHAR(40)"), ("redemptions", "clerk", "VARCHAR(40)"))

clock = Table(
    "clock",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("offset_s", Float, nullable=False),
    Column("server_time", String(40), nullable=False),
)


class StoreError(Exception):
    """The terminal database cannot be opened, read or written."""


class DayAlreadyClosed(Exception):
    """A Z report for this business day exists already; a day is closed once."""

    def __init__(self, business_day: str, z_number: int) -> None:
        super().__init__(f"business day {business_day} was closed already by Z report {z_number}")
        self.business_day = business_day
        self.z_number = z_number


@dataclass(frozen=True)
class SeenOfflineCode:
    """The identity of an accepted offline code, kept to reject the same code a second time."""

    wallet_id: str
    serial: int
    counter: int
    fingerprint: str


@dataclass(frozen=True)
class NewCapture:
    capture_id: str
    kind: SyncKind
    amount_yen: int
    method: CaptureMethod
    captured_at: datetime
    tax_lines: Sequence[TaxLine] = ()
    payment_id: str | None = None
    offline_code: str | None = None
    seen_code: SeenOfflineCode | None = None
    clerk: str | None = None


@dataclass(frozen=True)
class Capture:
    capture_id: str
    seq: int
    kind: SyncKind
    amount_yen: int
    tax_lines: list[TaxLine]
    method: CaptureMethod
    state: CaptureState
    captured_at: datetime
    payment_id: str | None
    # The server's id of a refund it applied, also while the entry is still pending.
    refund_id: str | None
    offline_code: str | None
    business_day: str | None
    declined_reason: str | None
    declined_message: str | None
    clerk: str | None = None


@dataclass(frozen=True)
class NewRedemption:
    """An online payment about to be requested for the first time."""

    key: str
    method: RedemptionMethod
    amount_yen: int
    tax_lines: Sequence[TaxLine]
    opened_at: datetime
    code: str | None = None
    clerk: str | None = None


@dataclass(frozen=True)
class Redemption:
    key: str
    method: RedemptionMethod
    code: str | None
    intent_id: str | None
    amount_yen: int
    tax_lines: list[TaxLine]
    opened_at: datetime
    state: RedemptionState
    outcome: str | None
    recovered: bool
    acknowledged: bool


@dataclass(frozen=True)
class OutboxEntry:
    """A pending outbox entry together with its capture, ready to send."""

    entry: protocol.SyncEntry
    attempts: int


@dataclass(frozen=True)
class DayCloseRecord:
    """A stored Z report: its number, the business day it closed, and its totals as JSON."""

    z_number: int
    business_day: str
    closed_at: datetime
    totals_json: str


@dataclass(frozen=True)
class Waiting:
    """Captures not yet acknowledged by the server."""

    count: int
    total_yen: int
    oldest_captured_at: datetime | None


def open_store(data_dir: Path) -> Store:
    """Open (and create if needed) the database in ``data_dir``."""
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create data directory {data_dir}: {exc.strerror}") from exc
    return Store(data_dir / DATABASE_FILE_NAME)


class Store:
    """Reads and writes the terminal database. One instance may be shared between threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._engine = _sqlite_engine(path)
        self._capture_listeners: list[Callable[[], None]] = []
        # Keys of open redemptions that a live sale in this process is still resolving itself.
        self._held_keys: set[str] = set()
        self._held_lock = threading.Lock()
        # Outbox entries the sync worker must not take yet, and those it has taken whose send
        # has no recorded outcome. The condition's lock is always taken before a transaction.
        self._outbox_lock = threading.Condition()
        self._held_entries: set[str] = set()
        self._sending_entries: set[str] = set()
        try:
            metadata.create_all(self._engine)
            _add_missing_columns(self._engine)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot open terminal database {path}: {exc}") from exc

    def close(self) -> None:
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The database engine, for tables kept by other modules (such as coupon uses)."""
        return self._engine

    def add_capture_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after each committed capture, on the thread that recorded it."""
        self._capture_listeners.append(listener)

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StoreError(f"{action} failed in {self.path}: {exc}") from exc

    # --- captures ----------------------------------------------------------------------

    def record_capture(self, new: NewCapture) -> Capture:
        """Commit a capture and its outbox entry in one transaction and return the capture.

        The capture gets the next sequence number. With ``seen_code`` set, the offline code is
        recorded in the same transaction, so a code is marked used exactly when its payment is.
        """
        with self._transaction(f"recording capture {new.capture_id}") as connection:
            seq = _insert_capture(connection, new)
        logger.info(
            "recorded capture %s seq %d: %s %d yen", new.capture_id, seq, new.kind, new.amount_yen
        )
        return self._committed(new.capture_id)

    def _committed(self, capture_id: str) -> Capture:
        capture = self.capture(capture_id)
        assert capture is not None, "a committed capture is readable"
        for listener in self._capture_listeners:
            # The capture is committed, so a failing listener must not make it look unrecorded.
            try:
                listener()
            except Exception:
                logger.exception("capture listener failed after capture %s", capture_id)
        return capture

    def capture(self, capture_id: str) -> Capture | None:
        with self._transaction("reading a capture") as connection:
            row = connection.execute(
                select(captures).where(captures.c.capture_id == capture_id)
            ).first()
        return None if row is None else _capture_from_row(row._mapping)

    def captures(self, state: CaptureState | None = None) -> list[Capture]:
        """Return captures in seq order, all of them or those in ``state``."""
        query = select(captures).order_by(captures.c.seq)
        if state is not None:
            query = query.where(captures.c.state == state)
        with self._transaction("listing captures") as connection:
            rows = connection.execute(query).all()
        return [_capture_from_row(row._mapping) for row in rows]

    # --- outbox ------------------------------------------------------------------------

    def pending_entries(self, limit: int) -> list[OutboxEntry]:
        """Take up to ``limit`` pending entries in seq order for sending, and return them.

        The list ends before the first held entry (see ``holding_entry``), so entries still go
        out in seq order. Each returned entry counts as being sent until ``apply_results`` or
        ``record_failure`` records the outcome of its send.
        """
        query = (
            select(captures, outbox.c.attempts)
            .join(outbox, outbox.c.entry_id == captures.c.capture_id)
            .where(outbox.c.state == "pending")
            .order_by(outbox.c.seq)
            .limit(limit)
        )
        with self._outbox_lock:
            with self._transaction("reading the outbox") as connection:
                rows = connection.execute(query).all()
            entries: list[OutboxEntry] = []
            for row in rows:
                if row.capture_id in self._held_entries:
                    break
                entries.append(OutboxEntry(_sync_entry(row._mapping), row.attempts))
            self._sending_entries.update(item.entry.entry_id for item in entries)
        return entries

    @contextmanager
    def holding_entry(self, entry_id: str) -> Iterator[None]:
        """Keep ``pending_entries`` from taking ``entry_id`` and the entries after it.

        The entry may be held before its capture is recorded, so the sync worker, which a new
        capture wakes, cannot take it first. Holding an entry the worker has taken already
        does not stop that send. Holds of one entry do not nest.
        """
        with self._outbox_lock:
            self._held_entries.add(entry_id)
        try:
            yield
        finally:
            with self._outbox_lock:
                self._held_entries.discard(entry_id)

    def withdraw_entry(self, entry_id: str, reason: ErrorCode, message: str) -> bool:
        """Decline a pending entry that was never sent with the server's reason, and return True.

        The server has declined the same request, sent outside the outbox with the entry id as
        its idempotency key. Returns False and changes nothing when the entry is not pending,
        is being sent, or has a failed send recorded: the server may have applied that send,
        so only its result may settle the entry. The check and the decline run under the lock
        ``pending_entries`` takes, so the sync worker cannot take the entry in between.
        """
        result = SyncResult(entry_id=entry_id, status="declined", reason=reason, message=message)
        with self._outbox_lock:
            if entry_id in self._sending_entries:
                return False
            with self._transaction(f"withdrawing entry {entry_id}") as connection:
                row = connection.execute(
                    select(outbox.c.state, outbox.c.attempts).where(outbox.c.entry_id == entry_id)
                ).first()
                if row is None or row.state != "pending" or row.attempts > 0:
                    return False
                _apply_result(connection, result)
        logger.info("withdrew entry %s from the outbox: the server declined it as %s",
                    entry_id, reason)
        return True

    def record_applied_refund(self, entry_id: str, refund_id: str) -> bool:
        """Store the server's ``refund_id`` on a pending refund entry it applied, and return True.

        The refund was sent outside the outbox with the entry id as its idempotency key. The
        entry stays pending, and the server returns the same refund when the entry arrives.
        Returns False and changes nothing when the entry is not a pending refund.
        """
        with self._transaction(f"recording refund {refund_id} of entry {entry_id}") as connection:
            state = connection.execute(
                select(outbox.c.state).where(outbox.c.entry_id == entry_id)
            ).scalar_one_or_none()
            if state != "pending":
                return False
            updated = connection.execute(
                update(captures)
                .where(captures.c.capture_id == entry_id, captures.c.kind == "refund")
                .values(refund_id=refund_id)
            ).rowcount
        if updated:
            logger.info("entry %s was applied at once as refund %s and waits to be sent",
                        entry_id, refund_id)
        return bool(updated)

    def pending_before(self, entry_id: str) -> list[Capture]:
        """Return the captures of the pending entries before ``entry_id``, in seq order."""
        own_seq = select(outbox.c.seq).where(outbox.c.entry_id == entry_id).scalar_subquery()
        query = (
            select(captures)
            .join(outbox, outbox.c.entry_id == captures.c.capture_id)
            .where(outbox.c.state == "pending", outbox.c.seq < own_seq)
            .order_by(outbox.c.seq)
        )
        with self._transaction("reading the outbox") as connection:
            rows = connection.execute(query).all()
        return [_capture_from_row(row._mapping) for row in rows]

    def wait_for_send(self, entry_id: str, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the send of ``entry_id`` to end, and tell whether it did."""
        with self._outbox_lock:
            return self._outbox_lock.wait_for(
                lambda: entry_id not in self._sending_entries, timeout_s
            )

    def _sent(self, entry_ids: Iterable[str]) -> None:
        """Record that the sends of ``entry_ids`` are over (the caller owns ``_outbox_lock``)."""
        self._sending_entries.difference_update(entry_ids)
        self._outbox_lock.notify_all()

    def outbox_state(self, entry_id: str) -> OutboxState | None:
        with self._transaction("reading the outbox") as connection:
            state = connection.execute(
                select(outbox.c.state).where(outbox.c.entry_id == entry_id)
            ).scalar_one_or_none()
        return cast(OutboxState | None, state)

    def apply_results(self, results: Sequence[SyncResult]) -> None:
        """Mark entries acknowledged or declined from the server's results, in one transaction.

        A result for an entry that is not pending (an unknown id, or one already settled) is
        logged and ignored.
        """
        with self._outbox_lock:
            with self._transaction("applying sync results") as connection:
                for result in results:
                    _apply_result(connection, result)
            self._sent(result.entry_id for result in results)

    def record_failure(
        self, entry_ids: Sequence[str], error: str, next_attempt_at: datetime
    ) -> None:
        """Count a failed send of ``entry_ids``; they stay pending until ``next_attempt_at``."""
        with self._outbox_lock:
            with self._transaction("recording a failed send") as connection:
                connection.execute(
                    update(outbox)
                    .where(outbox.c.entry_id.in_(entry_ids), outbox.c.state == "pending")
                    .values(
                        attempts=outbox.c.attempts + 1,
                        next_attempt_at=next_attempt_at.isoformat(),
                        last_error=error[:500],
                    )
                )
            self._sent(entry_ids)

    def decline_locally(self, entry_id: str, reason: ErrorCode, message: str) -> None:
        """Mark one entry declined without a server result, after the server rejected it alone."""
        result = SyncResult(entry_id=entry_id, status="declined", reason=reason, message=message)
        self.apply_results([result])

    def waiting(self, kind: SyncKind | None = None) -> Waiting:
        """Count and sum the pending outbox entries, all of them or those of ``kind``."""
        query = (
            select(
                func.count(), func.sum(captures.c.amount_yen), func.min(captures.c.captured_at)
            )
            .select_from(outbox.join(captures, outbox.c.entry_id == captures.c.capture_id))
            .where(outbox.c.state == "pending")
        )
        if kind is not None:
            query = query.where(captures.c.kind == kind)
        with self._transaction("counting waiting entries") as connection:
            count, total_yen, oldest = connection.execute(query).one()
        oldest_at = parse_utc(oldest) if oldest is not None else None
        return Waiting(count=count, total_yen=total_yen or 0, oldest_captured_at=oldest_at)

    def declined_count(self) -> int:
        query = select(func.count()).select_from(outbox).where(outbox.c.state == "declined")
        with self._transaction("counting declined entries") as connection:
            return int(connection.execute(query).scalar_one())

    # --- redemptions --------------------------------------------------------------------

    def open_redemption(self, new: NewRedemption) -> None:
        """Record an online payment request before it is first sent; the same key again is kept."""
        row = {
            "key": new.key,
            "method": new.method,
            "code": new.code,
            "amount_yen": new.amount_yen,
            "tax_lines": _tax_lines_json(new.tax_lines),
            "opened_at": new.opened_at.isoformat(timespec="seconds"),
            "state": "open",
            "recovered": 0,
            "acknowledged": 1,
            "clerk": new.clerk,
        }
        with self._transaction(f"opening redemption {new.key}") as connection:
            exists = connection.execute(
                select(redemptions.c.key).where(redemptions.c.key == new.key)
            ).first()
            if exists is None:
                connection.execute(redemptions.insert().values(row))

    def set_redemption_intent(self, key: str, intent_id: str) -> None:
        with self._transaction(f"saving the intent of redemption {key}") as connection:
            connection.execute(
                update(redemptions).where(redemptions.c.key == key).values(intent_id=intent_id)
            )

    def close_redemption(self, key: str, outcome: str) -> None:
        """Close an open redemption that charged nothing (declined, cancelled, expired)."""
        with self._transaction(f"closing redemption {key}") as connection:
            closed = connection.execute(
                update(redemptions)
                .where(redemptions.c.key == key, redemptions.c.state == "open")
                .values(state="closed", outcome=outcome[:40], code=None)
            ).rowcount
        if closed:
            logger.info("redemption %s closed: %s", key, outcome)

    def complete_redemption(
        self, key: str, payment: protocol.Payment, captured_at: datetime, *, recovered: bool
    ) -> Capture:
        """Record the approved payment of a redemption as a capture with id ``key``, once.

        The capture, its outbox entry and the redemption's new state are committed together.
        When the capture exists already (the sale and the sync worker both learned of the
        approval), it is returned unchanged; a sale that receives the approval itself clears the
        ``recovered`` mark, since the clerk saw the result.
        """
        with self._transaction(f"completing redemption {key}") as connection:
            row = connection.execute(select(redemptions).where(redemptions.c.key == key)).first()
            if row is None:
                raise StoreError(f"redemption {key} does not exist in {self.path}")
            if row.state == "approved":
                if not recovered:
                    _mark_seen(connection, key)
                existing = connection.execute(
                    select(captures).where(captures.c.capture_id == key)
                ).first()
                if existing is None:
                    raise StoreError(f"approved redemption {key} has no capture in {self.path}")
                return _capture_from_row(existing._mapping)
            new = NewCapture(
                capture_id=key,
                kind="online_payment",
                amount_yen=payment.amount_yen,
                method=cast(RedemptionMethod, row.method),
                captured_at=captured_at,
                tax_lines=tuple(payment.tax_lines or _tax_lines_from_json(row.tax_lines)),
                payment_id=payment.payment_id,
                clerk=row.clerk,
            )
            seq = _insert_capture(connection, new)
            connection.execute(
                update(redemptions)
                .where(redemptions.c.key == key)
                .values(
                    state="approved", outcome="approved", code=None,
                    recovered=int(recovered), acknowledged=int(not recovered),
                )
            )
        logger.info(
            "recorded %s payment %s as capture seq %d (%d yen)%s",
            row.method, payment.payment_id, seq, payment.amount_yen,
            ", found after the sale ended" if recovered else "",
        )
        return self._committed(key)

    def redemption(self, key: str) -> Redemption | None:
        with self._transaction("reading a redemption") as connection:
            row = connection.execute(select(redemptions).where(redemptions.c.key == key)).first()
        return None if row is None else _redemption_from_row(row._mapping)

    def open_redemptions(self, *, include_held: bool = True) -> list[Redemption]:
        """Return the redemptions whose outcome is not known yet, oldest first.

        With ``include_held=False``, those held by a live sale (see ``hold_redemption``) are left
        out: the sync worker resolves only redemptions no sale is waiting on.
        """
        found = self._redemptions(redemptions.c.state == "open")
        if include_held:
            return found
        with self._held_lock:
            return [redemption for redemption in found if redemption.key not in self._held_keys]

    def hold_redemption(self, key: str) -> None:
        """Mark a redemption as being resolved by a live sale, until ``release_redemption``."""
        with self._held_lock:
            self._held_keys.add(key)

    def release_redemption(self, key: str) -> None:
        with self._held_lock:
            self._held_keys.discard(key)

    def unacknowledged_recoveries(self) -> list[Redemption]:
        """Return approvals found after their sale had ended that the clerk has not confirmed."""
        return self._redemptions(
            (redemptions.c.state == "approved") & (redemptions.c.acknowledged == 0)
        )

    def acknowledge_recovery(self, key: str) -> None:
        with self._transaction(f"acknowledging redemption {key}") as connection:
            _mark_seen(connection, key)

    def _redemptions(self, condition: Any) -> list[Redemption]:
        query = select(redemptions).where(condition).order_by(redemptions.c.opened_at)
        with self._transaction("listing redemptions") as connection:
            rows = connection.execute(query).all()
        return [_redemption_from_row(row._mapping) for row in rows]

    # --- cash-out requests -------------------------------------------------------------

    def open_cash_out(self, idempotency_key: str, amount_yen: int, requested_at: datetime) -> None:
        """Record a cash-out request before it is sent; the same key again is kept."""
        with self._transaction(f"recording cash-out request {idempotency_key}") as connection:
            exists = connection.execute(
                select(pending_cash_outs.c.idempotency_key).where(
                    pending_cash_outs.c.idempotency_key == idempotency_key
                )
            ).first()
            if exists is None:
                connection.execute(pending_cash_outs.insert().values(
                    idempotency_key=idempotency_key, amount_yen=amount_yen,
                    requested_at=requested_at.isoformat(timespec="seconds"),
                ))

    def close_cash_out(self, idempotency_key: str) -> None:
        """Forget a cash-out request once the server has responded to it."""
        with self._transaction(f"closing cash-out request {idempotency_key}") as connection:
            connection.execute(pending_cash_outs.delete().where(
                pending_cash_outs.c.idempotency_key == idempotency_key
            ))

    def pending_cash_out(self) -> tuple[str, int] | None:
        """Return (idempotency key, amount) of the oldest unanswered cash-out request, if any."""
        query = select(pending_cash_outs).order_by(pending_cash_outs.c.requested_at).limit(1)
        with self._transaction("reading pending cash-out requests") as connection:
            row = connection.execute(query).first()
        return None if row is None else (row.idempotency_key, row.amount_yen)

    # --- offline codes -----------------------------------------------------------------

    def offline_code_seen(self, code: SeenOfflineCode) -> bool:
        """Tell whether this code, or another with the same wallet, serial and counter, was taken."""
        query = select(func.count()).where(
            (seen_offline_codes.c.fingerprint == code.fingerprint)
            | (
                (seen_offline_codes.c.wallet_id == code.wallet_id)
                & (seen_offline_codes.c.serial == code.serial)
                & (seen_offline_codes.c.counter == code.counter)
            )
        )
        with self._transaction("checking offline codes") as connection:
            return int(connection.execute(query).scalar_one()) > 0

    def offline_spent_yen(self, wallet_id: str, serial: int) -> int:
        """Sum this terminal's offline payments under one certificate, except declined ones."""
        query = (
            select(func.sum(captures.c.amount_yen))
            .select_from(
                seen_offline_codes.join(
                    captures, seen_offline_codes.c.capture_id == captures.c.capture_id
                )
            )
            .where(
                seen_offline_codes.c.wallet_id == wallet_id,
                seen_offline_codes.c.serial == serial,
                captures.c.state != "declined",
            )
        )
        with self._transaction("summing offline payments") as connection:
            return int(connection.execute(query).scalar_one() or 0)

    # --- day closes (Z reports) ---------------------------------------------------------

    def record_day_close(
        self, business_day: str, closed_at: datetime, totals_json: str
    ) -> DayCloseRecord:
        """Store the Z report closing ``business_day`` with the next Z number, once per day.

        The check and the insert run in one ``BEGIN IMMEDIATE`` transaction, so of two closes
        of the same day that race, one stores its report and the other raises DayAlreadyClosed.
        """
        with self._transaction(f"closing business day {business_day}") as connection:
            existing = connection.execute(
                select(day_closes.c.z_number).where(day_closes.c.business_day == business_day)
            ).scalar_one_or_none()
            if existing is not None:
                raise DayAlreadyClosed(business_day, int(existing))
            last = connection.execute(select(func.max(day_closes.c.z_number))).scalar_one()
            z_number = (last or 0) + 1
            connection.execute(day_closes.insert().values(
                z_number=z_number, business_day=business_day,
                closed_at=closed_at.isoformat(timespec="seconds"), totals=totals_json,
            ))
        logger.info("closed business day %s with Z report %d", business_day, z_number)
        return DayCloseRecord(z_number, business_day, closed_at, totals_json)

    def day_closes(self) -> list[DayCloseRecord]:
        """Return every stored Z report, newest first."""
        query = select(day_closes).order_by(day_closes.c.z_number.desc())
        with self._transaction("listing Z reports") as connection:
            rows = connection.execute(query).all()
        return [_day_close_from_row(row._mapping) for row in rows]

    def day_close(self, business_day: str) -> DayCloseRecord | None:
        query = select(day_closes).where(day_closes.c.business_day == business_day)
        with self._transaction("reading a Z report") as connection:
            row = connection.execute(query).first()
        return None if row is None else _day_close_from_row(row._mapping)

    # --- issuer keys and clock ---------------------------------------------------------

    def replace_issuer_keys(self, keys: Sequence[protocol.IssuerKey]) -> None:
        """Replace the cached issuer keys with the server's current list."""
        with self._transaction("saving issuer keys") as connection:
            connection.execute(issuer_keys.delete())
            for key in keys:
                connection.execute(issuer_keys.insert().values(key.model_dump()))
        logger.info("cached %d issuer keys: %s", len(keys), ", ".join(k.key_id for k in keys))

    def issuer_keys(self) -> list[protocol.IssuerKey]:
        with self._transaction("reading issuer keys") as connection:
            rows = connection.execute(select(issuer_keys).order_by(issuer_keys.c.key_id)).all()
        return [protocol.IssuerKey.model_validate(dict(row._mapping)) for row in rows]

    def save_clock_offset(self, offset_s: float, server_time: str) -> None:
        with self._transaction("saving the clock offset") as connection:
            connection.execute(clock.delete())
            connection.execute(clock.insert().values(id=1, offset_s=offset_s, server_time=server_time))

    def clock_offset_s(self) -> float | None:
        """Return the last measured offset (server minus device, seconds), or None if never."""
        with self._transaction("reading the clock offset") as connection:
            offset = connection.execute(select(clock.c.offset_s)).scalar_one_or_none()
        return None if offset is None else float(offset)


def _sqlite_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: object) -> None:
        # pysqlite's own transaction handling would emit a plain BEGIN; turn it off so that
        # the "begin" hook below decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _add_missing_columns(engine: Engine) -> None:
    """Add the columns of ``_ADDED_COLUMNS`` that a database made by an older release lacks."""
    with engine.begin() as connection:
        for table_name, column, sql_type in _ADDED_COLUMNS:
            present = {
                row[1] for row in connection.exec_driver_sql(f"PRAGMA table_info({table_name})")
            }
            if column not in present:
                connection.exec_driver_sql(
                    f"ALTER TABLE {table_name} ADD COLUMN {column} {sql_type}"
                )
                logger.info("added column %s.%s to the terminal database", table_name, column)


def _day_close_from_row(row: Any) -> DayCloseRecord:
    return DayCloseRecord(
        z_number=row["z_number"],
        business_day=row["business_day"],
        closed_at=parse_utc(row["closed_at"]),
        totals_json=row["totals"],
    )


def _insert_capture(connection: Connection, new: NewCapture) -> int:
    """Insert a capture, its offline code if any and its outbox entry; return its seq."""
    last_seq = connection.execute(select(func.max(captures.c.seq))).scalar_one()
    seq = (last_seq or 0) + 1
    connection.execute(captures.insert().values(_capture_row(new, seq)))
    if new.seen_code is not None:
        connection.execute(
            seen_offline_codes.insert().values(
                wallet_id=new.seen_code.wallet_id,
                serial=new.seen_code.serial,
                counter=new.seen_code.counter,
                fingerprint=new.seen_code.fingerprint,
                capture_id=new.capture_id,
            )
        )
    connection.execute(
        outbox.insert().values(entry_id=new.capture_id, seq=seq, state="pending", attempts=0)
    )
    return seq


def _mark_seen(connection: Connection, key: str) -> None:
    connection.execute(update(redemptions).where(redemptions.c.key == key).values(acknowledged=1))


def _tax_lines_json(tax_lines: Sequence[TaxLine]) -> str:
    return json.dumps([line.model_dump(mode="json") for line in tax_lines])


def _tax_lines_from_json(text: str) -> list[TaxLine]:
    return [TaxLine.model_validate(line) for line in json.loads(text)]


def _redemption_from_row(row: Any) -> Redemption:
    return Redemption(
        key=row["key"],
        method=row["method"],
        code=row["code"],
        intent_id=row["intent_id"],
        amount_yen=row["amount_yen"],
        tax_lines=_tax_lines_from_json(row["tax_lines"]),
        opened_at=parse_utc(row["opened_at"]),
        state=row["state"],
        outcome=row["outcome"],
        recovered=bool(row["recovered"]),
        acknowledged=bool(row["acknowledged"]),
    )


def _capture_row(new: NewCapture, seq: int) -> dict[str, object]:
    return {
        "capture_id": new.capture_id,
        "seq": seq,
        "kind": new.kind,
        "amount_yen": new.amount_yen,
        "tax_lines": _tax_lines_json(new.tax_lines),
        "method": new.method,
        "state": "waiting",
        "payment_id": new.payment_id,
        "offline_code": new.offline_code,
        "captured_at": new.captured_at.isoformat(timespec="seconds"),
        "clerk": new.clerk,
    }


def _capture_from_row(row: Any) -> Capture:
    return Capture(
        capture_id=row["capture_id"],
        seq=row["seq"],
        kind=row["kind"],
        amount_yen=row["amount_yen"],
        tax_lines=_tax_lines_from_json(row["tax_lines"]),
        method=row["method"],
        state=row["state"],
        captured_at=parse_utc(row["captured_at"]),
        payment_id=row["payment_id"],
        refund_id=row["refund_id"],
        offline_code=row["offline_code"],
        business_day=row["business_day"],
        declined_reason=row["declined_reason"],
        declined_message=row["declined_message"],
        clerk=row["clerk"],
    )


def _sync_entry(row: Any) -> protocol.SyncEntry:
    capture = _capture_from_row(row)
    return protocol.SyncEntry(
        entry_id=capture.capture_id,
        seq=capture.seq,
        kind=capture.kind,
        captured_at=row["captured_at"],
        amount_yen=capture.amount_yen,
        tax_lines=capture.tax_lines,
        offline_code=capture.offline_code,
        payment_id=capture.payment_id,
    )


def _apply_result(connection: Connection, result: SyncResult) -> None:
    state = connection.execute(
        select(outbox.c.state).where(outbox.c.entry_id == result.entry_id)
    ).scalar_one_or_none()
    if state != "pending":
        logger.warning(
            "ignored sync result %s for entry %s, which is %s",
            result.status,
            result.entry_id,
            state or "unknown",
        )
        return

    declined = result.status == "declined"
    connection.execute(
        update(outbox)
        .where(outbox.c.entry_id == result.entry_id)
        .values(state="declined" if declined else "acked", last_error=None)
    )
    values: dict[str, object] = {
        "state": "declined" if declined else "confirmed",
        "business_day": result.business_day,
    }
    if declined:
        values["declined_reason"] = str(result.reason) if result.reason else "unknown"
        values["declined_message"] = result.message
    else:
        # An online payment already has the server's payment id; keep it if the result omits it.
        if result.payment_id is not None:
            values["payment_id"] = result.payment_id
        values["refund_id"] = result.refund_id
    connection.execute(
        update(captures).where(captures.c.capture_id == result.entry_id).values(values)
    )
