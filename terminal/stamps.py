"""Stamp rally booths: record stamps in the terminal database and send them to the server.

A booth scans a participant's code (``terminal.rally_code``), checks the issuer signature with
the cached issuer keys, and records the stamp before the screen shows it as given, so a stamp
survives a crash or a lost connection. The tables live in the terminal database next to
the sale tables of ``terminal.store`` and use the same engine and transactions.

- ``stamps``: one row per stamp, with the entry id it is sent under and its outbox state. The
  state is ``pending`` until the server acknowledges the stamp, then ``acked``, or
  ``declined`` with the reason when the server rejected it. The unique key (rally, wallet, day) keeps one stamp per
  participant per Japan day at this booth, also while offline. Rows are never deleted.
- ``stamp_progress``: the participant's stamp count the server last reported, with the local
  stamps it did not yet include, so the booth shows progress offline as the known count plus
  the stamps given here since.
- ``stamp_rally``: the booth's rally as the server last described it, so the booth works
  offline after it has been online once.

``StampBook`` is the storage. ``StampDesk`` is the booth's logic for one scan: check, record,
and when online give the stamp at once through ``POST /v1/rally/stamps``; otherwise the sync
worker sends it later as a ``stamp`` entry. The server applies a stamp once per entry id on
either path.

``check_booth`` tells, before a terminal is switched to the booth screen, whether the server
lists it as a booth of a rally that is running or about to start.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import (
    Column,
    Connection,
    Integer,
    RowMapping,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
    update,
)

from terminal import protocol, rally_code
from terminal.api_client import ApiError, Declined
from terminal.clock import ServerClock
from terminal.japan_time import to_japan_time
from terminal.keys import utc_timestamp
from terminal.protocol import ErrorCode, SyncResult
from terminal.store import OutboxEntry, Store

logger = logging.getLogger(__name__)

# Server refusals that concern the stamp itself; any other refusal leaves it to the outbox.
STAMP_REFUSALS = frozenset({
    ErrorCode.RALLY_CODE_INVALID, ErrorCode.RALLY_NOT_OPEN, ErrorCode.STAMP_ALREADY_GIVEN,
    ErrorCode.INVALID_REQUEST,
})

metadata = MetaData()

stamps = Table(
    "stamps",
    metadata,
    Column("entry_id", String(64), primary_key=True),
    Column("seq", Integer, nullable=False, unique=True),
    Column("rally_id", String(32), nullable=False),
    Column("wallet_id", String(32), nullable=False),
    # YYYY-MM-DD in Japan time, by the terminal's clock corrected to the server's.
    Column("stamp_day", String(10), nullable=False),
    Column("captured_at", String(40), nullable=False),
    Column("participant_code", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", String(40)),
    Column("last_error", Text),
    Column("declined_reason", String(40)),
    Column("declined_message", Text),
    UniqueConstraint("rally_id", "wallet_id", "stamp_day"),
)

stamp_progress = Table(
    "stamp_progress",
    metadata,
    Column("rally_id", String(32), primary_key=True),
    Column("wallet_id", String(32), primary_key=True),
    Column("stamp_count", Integer, nullable=False),
    # The local stamp seq the count was reported with; later stamps are added to it.
    Column("known_at_seq", Integer, nullable=False),
    # Local stamps before known_at_seq that were still unsent, so not in stamp_count.
    Column("unsent_before", Integer, nullable=False),
)

stamp_rally = Table(
    "stamp_rally",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("info", Text, nullable=False),
)


class StampOutcome(StrEnum):
    """The outcome of one scan at the booth, which selects the screen's message."""

    GIVEN = "given"
    ALREADY_TODAY = "already_today"
    NOT_A_PARTICIPANT_CODE = "not_a_participant_code"
    UNREADABLE = "unreadable"
    FOREIGN = "foreign"
    OTHER_RALLY = "other_rally"
    REJECTED = "rejected"
    NOT_OPEN = "not_open"
    NO_RALLY = "no_rally"


@dataclass(frozen=True)
class NewStamp:
    entry_id: str
    rally_id: str
    wallet_id: str
    stamp_day: str
    captured_at: datetime
    participant_code: str


@dataclass(frozen=True)
class DeclinedStamp:
    """A stamp the server rejected, for the booth's list of stamps that were not given."""

    entry_id: str
    captured_at: datetime
    participant_code: str
    # An ``ErrorCode`` value such as ``stamp_already_given``, or ``unknown``.
    reason: str
    message: str


@dataclass(frozen=True)
class ScanResult:
    """The outcome of one scan and the numbers the booth screen shows."""

    outcome: StampOutcome
    stamp_count: int = 0
    goal_stamps: int = 0
    # True when the count comes from this booth's records because the server was not reached.
    offline: bool = False
    reward_yen: int = 0
    # Title of the coupon this stamp issued as the reward.
    reward_coupon: str | None = None
    detail: str = ""

    @property
    def goal_reached(self) -> bool:
        return self.goal_stamps > 0 and self.stamp_count >= self.goal_stamps


class StampBook:
    """Reads and writes the stamp tables of the terminal database; shared between threads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        # The store's engine and transaction helper: every terminal table shares one database
        # file, its WAL mode and its BEGIN IMMEDIATE transactions.
        metadata.create_all(store._engine)

    # --- recording ---------------------------------------------------------------------

    def record(self, new: NewStamp) -> int | None:
        """Commit a pending stamp and return its seq, or None when the day has one already."""
        with self.store._transaction(f"recording stamp {new.entry_id}") as connection:
            exists = connection.execute(select(stamps.c.entry_id).where(
                stamps.c.rally_id == new.rally_id, stamps.c.wallet_id == new.wallet_id,
                stamps.c.stamp_day == new.stamp_day,
            )).first()
            if exists is not None:
                return None
            last = connection.execute(select(func.max(stamps.c.seq))).scalar_one()
            seq = (last or 0) + 1
            connection.execute(stamps.insert().values(
                entry_id=new.entry_id, seq=seq, rally_id=new.rally_id, wallet_id=new.wallet_id,
                stamp_day=new.stamp_day, captured_at=new.captured_at.isoformat(timespec="seconds"),
                participant_code=new.participant_code, state="pending", attempts=0,
            ))
        logger.info("recorded stamp %s seq %d for wallet %s in rally %s", new.entry_id, seq,
                    new.wallet_id, new.rally_id)
        return seq

    def save_progress(self, rally_id: str, wallet_id: str, stamp_count: int, seq: int) -> None:
        """Store the count the server reported together with the stamp of ``seq``."""
        with self.store._transaction("saving stamp progress") as connection:
            unsent = connection.execute(select(func.count()).where(
                stamps.c.rally_id == rally_id, stamps.c.wallet_id == wallet_id,
                stamps.c.seq < seq, stamps.c.state == "pending",
            )).scalar_one()
            connection.execute(stamp_progress.delete().where(
                stamp_progress.c.rally_id == rally_id, stamp_progress.c.wallet_id == wallet_id,
            ))
            connection.execute(stamp_progress.insert().values(
                rally_id=rally_id, wallet_id=wallet_id, stamp_count=stamp_count,
                known_at_seq=seq, unsent_before=int(unsent),
            ))

    def progress(self, rally_id: str, wallet_id: str) -> int:
        """Return the last known count plus the stamps this booth gave since."""
        with self.store._transaction("reading stamp progress") as connection:
            known = connection.execute(select(stamp_progress).where(
                stamp_progress.c.rally_id == rally_id, stamp_progress.c.wallet_id == wallet_id,
            )).first()
            since_seq = known.known_at_seq if known is not None else 0
            local = connection.execute(select(func.count()).where(
                stamps.c.rally_id == rally_id, stamps.c.wallet_id == wallet_id,
                stamps.c.seq > since_seq, stamps.c.state != "declined",
            )).scalar_one()
        base = 0 if known is None else known.stamp_count + known.unsent_before
        return base + int(local)

    def today_count(self, rally_id: str, day: str) -> int:
        """Count the stamps this booth gave on ``day``, except those the server declined."""
        with self.store._transaction("counting stamps") as connection:
            return int(connection.execute(select(func.count()).where(
                stamps.c.rally_id == rally_id, stamps.c.stamp_day == day,
                stamps.c.state != "declined",
            )).scalar_one())

    # --- the booth's rally -------------------------------------------------------------

    def save_rally(self, info: protocol.RallyInfo) -> None:
        with self.store._transaction("saving the booth's rally") as connection:
            connection.execute(stamp_rally.delete())
            connection.execute(stamp_rally.insert().values(id=1, info=info.model_dump_json()))

    def rally(self) -> protocol.RallyInfo | None:
        with self.store._transaction("reading the booth's rally") as connection:
            text = connection.execute(select(stamp_rally.c.info)).scalar_one_or_none()
        return None if text is None else protocol.RallyInfo.model_validate_json(text)

    # --- outbox ------------------------------------------------------------------------

    def pending_entries(self, limit: int) -> list[OutboxEntry]:
        """Return up to ``limit`` pending stamps as sync entries, in seq order."""
        query = (select(stamps).where(stamps.c.state == "pending")
                 .order_by(stamps.c.seq).limit(limit))
        with self.store._transaction("reading pending stamps") as connection:
            rows = connection.execute(query).all()
        return [OutboxEntry(_sync_entry(row._mapping), row.attempts) for row in rows]

    def waiting_count(self) -> int:
        with self.store._transaction("counting pending stamps") as connection:
            return int(connection.execute(
                select(func.count()).where(stamps.c.state == "pending")
            ).scalar_one())

    def apply_results(self, results: Sequence[SyncResult]) -> None:
        """Mark stamps acknowledged or declined; a result for a stamp not pending is ignored."""
        with self.store._transaction("applying stamp results") as connection:
            for result in results:
                _apply_result(connection, result)

    def record_failure(
        self, entry_ids: Sequence[str], error: str, next_attempt_at: datetime
    ) -> None:
        with self.store._transaction("recording a failed stamp send") as connection:
            connection.execute(
                update(stamps)
                .where(stamps.c.entry_id.in_(entry_ids), stamps.c.state == "pending")
                .values(attempts=stamps.c.attempts + 1,
                        next_attempt_at=next_attempt_at.isoformat(), last_error=error[:500])
            )

    def decline_locally(self, entry_id: str, reason: ErrorCode, message: str) -> None:
        result = SyncResult(entry_id=entry_id, status="declined", reason=reason, message=message)
        self.apply_results([result])

    def declined_count(self) -> int:
        with self.store._transaction("counting declined stamps") as connection:
            return int(connection.execute(
                select(func.count()).where(stamps.c.state == "declined")
            ).scalar_one())

    def declined_stamps(self, limit: int = 100) -> list[DeclinedStamp]:
        """Return up to ``limit`` declined stamps, the most recently recorded first."""
        query = (select(stamps).where(stamps.c.state == "declined")
                 .order_by(stamps.c.seq.desc()).limit(limit))
        with self.store._transaction("reading declined stamps") as connection:
            rows = connection.execute(query).all()
        return [
            DeclinedStamp(
                entry_id=row.entry_id,
                captured_at=datetime.fromisoformat(row.captured_at),
                participant_code=row.participant_code,
                reason=row.declined_reason or "unknown",
                message=row.declined_message or "",
            )
            for row in rows
        ]


def _sync_entry(row: RowMapping) -> protocol.SyncEntry:
    return protocol.SyncEntry(
        entry_id=row["entry_id"], seq=row["seq"], kind="stamp", captured_at=row["captured_at"],
        amount_yen=0, participant_code=row["participant_code"],
    )


def _apply_result(connection: Connection, result: SyncResult) -> None:
    state = connection.execute(
        select(stamps.c.state).where(stamps.c.entry_id == result.entry_id)
    ).scalar_one_or_none()
    if state != "pending":
        logger.warning("ignored stamp result %s for entry %s, which is %s", result.status,
                       result.entry_id, state or "unknown")
        return
    values: dict[str, object] = {"state": "acked", "last_error": None}
    if result.status == "declined":
        values = {"state": "declined",
                  "declined_reason": str(result.reason) if result.reason else "unknown",
                  "declined_message": result.message}
    connection.execute(update(stamps).where(stamps.c.entry_id == result.entry_id).values(values))


# --- the server's rally routes -------------------------------------------------------------


class RallyApi(Protocol):
    """The rally calls a booth makes; ``ApiClient`` sends them, tests use fakes."""

    def rally_booth(self) -> protocol.RallyInfo: ...

    def booth_today(self) -> protocol.BoothDay: ...

    def give_stamp(self, request: protocol.StampGive) -> protocol.StampOutcome: ...

    def issuer_keys(self) -> protocol.IssuerKeyList: ...


# --- checking the booth before the booth screen opens -------------------------------------


class BoothStatus(StrEnum):
    """The booth state of this terminal, from the server's answer or the cached rally."""

    OPEN = "open"  # a booth of a rally that runs today
    UPCOMING = "upcoming"  # a booth of a rally that starts on a later day
    ENDED = "ended"  # its latest rally has ended
    NOT_A_BOOTH = "not_a_booth"  # the server lists it in no rally
    UNKNOWN = "unknown"  # the server was not reached and no rally is cached


@dataclass(frozen=True)
class BoothCheck:
    """The outcome of ``check_booth``; ``detail`` is the server's error message, if any."""

    status: BoothStatus
    rally: protocol.RallyInfo | None = None
    # True when the server was not reached and the rally comes from the terminal database.
    from_cache: bool = False
    detail: str = ""

    @property
    def can_stamp(self) -> bool:
        return self.status in (BoothStatus.OPEN, BoothStatus.UPCOMING)


def check_booth(book: StampBook, clock: ServerClock, api: RallyApi | None) -> BoothCheck:
    """Ask the server (GET /v1/rally/booth) which rally this terminal is a booth of. Blocking.

    The rally the server returns is cached as the booth screen's rally. When the server cannot
    be reached, the cached rally decides, because a booth that was online once works offline.
    """
    if api is not None:
        try:
            info = api.rally_booth()
        except Declined as exc:
            if exc.code is ErrorCode.RALLY_NOT_OPEN:
                return BoothCheck(BoothStatus.NOT_A_BOOTH, detail=str(exc))
            logger.warning("checking the booth's rally was rejected: %s", exc)
            return _cached_booth(book, clock, str(exc))
        except ApiError as exc:
            logger.warning("checking the booth's rally failed: %s", exc)
            return _cached_booth(book, clock, str(exc))
        book.save_rally(info)
        return BoothCheck(_rally_status(info, clock), info)
    return _cached_booth(book, clock, "the terminal has no server connection")


def _cached_booth(book: StampBook, clock: ServerClock, detail: str) -> BoothCheck:
    cached = book.rally()
    if cached is None:
        return BoothCheck(BoothStatus.UNKNOWN, detail=detail)
    return BoothCheck(_rally_status(cached, clock), cached, from_cache=True, detail=detail)


def _rally_status(info: protocol.RallyInfo, clock: ServerClock) -> BoothStatus:
    # RallyInfo days are YYYY-MM-DD in Japan time, so they compare as text.
    today = to_japan_time(clock.now()).date().isoformat()
    if info.ends_on < today:
        return BoothStatus.ENDED
    if info.starts_on > today:
        return BoothStatus.UPCOMING
    return BoothStatus.OPEN


# --- the booth -----------------------------------------------------------------------------


class StampDesk:
    """One booth's handling of scans. Blocking: the screen calls it on a worker thread.

    ``is_online`` returns whether the server was reachable at the last try. While it is False
    the stamp is only recorded, and the sync worker sends it. ``on_recorded`` runs after each
    committed stamp (the terminal wakes its sync worker with it).
    """

    def __init__(
        self,
        book: StampBook,
        clock: ServerClock,
        api: RallyApi | None = None,
        *,
        is_online: Callable[[], bool] = lambda: True,
        on_recorded: Callable[[], None] = lambda: None,
        new_entry_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self.book = book
        self.clock = clock
        self._api = api
        self._is_online = is_online
        self._on_recorded = on_recorded
        self._new_entry_id = new_entry_id
        self._server_today: tuple[str, int] | None = None

    def load(self) -> protocol.RallyInfo | None:
        """Fetch the booth's rally and today's count when online; return the rally known."""
        if self._api is not None and self._is_online():
            try:
                info = self._api.rally_booth()
                self.book.save_rally(info)
                today = self._api.booth_today()
                self._server_today = (today.day, today.stamps)
            except ApiError as exc:
                logger.warning("reading the booth's rally failed: %s", exc)
        return self.book.rally()

    def today_count(self) -> int:
        """Return today's stamps at this booth: local records, or the server's count if higher."""
        rally = self.book.rally()
        if rally is None:
            return 0
        day = self.today()
        local = self.book.today_count(rally.rally_id, day)
        server = self._server_today[1] if self._server_today and self._server_today[0] == day else 0
        return max(local, server)

    def today(self) -> str:
        return to_japan_time(self.clock.now()).date().isoformat()

    def scan(self, text: str) -> ScanResult:
        """Check a scanned code, record the stamp, and give it online when possible."""
        if not rally_code.looks_like_participant_code(text):
            return ScanResult(StampOutcome.NOT_A_PARTICIPANT_CODE)
        rally = self.book.rally() or self.load()
        if rally is None:
            return ScanResult(StampOutcome.NO_RALLY)
        checked = self._check(text, rally)
        if self._may_have_moved(checked):
            # The operator may have made this booth part of another rally since it was cached.
            rally = self.load() or rally
            checked = self._check(text, rally)
        if isinstance(checked, ScanResult):
            return checked

        now = self.clock.now()
        day = to_japan_time(now).date().isoformat()
        if not rally.starts_on <= day <= rally.ends_on:
            return ScanResult(StampOutcome.NOT_OPEN, goal_stamps=rally.goal_stamps,
                              detail=f"{rally.starts_on}..{rally.ends_on}")
        code = text.strip().upper()
        new = NewStamp(self._new_entry_id(), rally.rally_id, checked.wallet_id, day, now, code)
        seq = self.book.record(new)
        if seq is None:
            return self._result(StampOutcome.ALREADY_TODAY, rally, checked.wallet_id, offline=True)
        self._on_recorded()
        return self._give_online(new, seq, rally)

    def _may_have_moved(self, checked: rally_code.ParticipantCode | ScanResult) -> bool:
        return (isinstance(checked, ScanResult) and checked.outcome is StampOutcome.OTHER_RALLY
                and self._api is not None and self._is_online())

    def _check(
        self, text: str, rally: protocol.RallyInfo
    ) -> rally_code.ParticipantCode | ScanResult:
        try:
            code = self._verify(text)
        except rally_code.MalformedRallyCode as exc:
            return ScanResult(StampOutcome.UNREADABLE, detail=str(exc))
        except rally_code.UnknownRallyIssuer as exc:
            return ScanResult(StampOutcome.FOREIGN, detail=str(exc))
        except rally_code.RallyCodeError as exc:
            return ScanResult(StampOutcome.REJECTED, detail=str(exc))
        if code.rally_id != rally.rally_id:
            return ScanResult(StampOutcome.OTHER_RALLY, detail=code.rally_id)
        return code

    def _verify(self, text: str) -> rally_code.ParticipantCode:
        """Verify with the cached issuer keys, fetching them once when the code's key is missing.

        A booth that has just been set up, or has not been online since the issuer key was
        rotated, lacks the key. The sync worker refreshes keys only every few hours.
        """
        try:
            return rally_code.verify_participant_code(text, self._issuer_keys())
        except rally_code.UnknownRallyIssuer:
            if self._api is None or not self._is_online():
                raise
            try:
                self.book.store.replace_issuer_keys(self._api.issuer_keys().keys)
            except ApiError as exc:
                logger.warning("fetching issuer keys for a participant code failed: %s", exc)
                raise rally_code.UnknownRallyIssuer(str(exc)) from exc
        return rally_code.verify_participant_code(text, self._issuer_keys())

    def _give_online(self, new: NewStamp, seq: int, rally: protocol.RallyInfo) -> ScanResult:
        if self._api is None or not self._is_online():
            return self._result(StampOutcome.GIVEN, rally, new.wallet_id, offline=True)
        request = protocol.StampGive(entry_id=new.entry_id, participant_code=new.participant_code,
                                     captured_at=utc_timestamp(new.captured_at))
        try:
            outcome = self._api.give_stamp(request)
        except Declined as exc:
            if exc.code not in STAMP_REFUSALS:
                # A refusal of the terminal (its signature or clock), not of this stamp: the
                # stamp stays pending and the sync worker sends it once the terminal is fixed.
                logger.warning("giving stamp %s online was rejected: %s", new.entry_id, exc)
                return self._result(StampOutcome.GIVEN, rally, new.wallet_id, offline=True)
            # The stamp is recorded already, so a refusal is kept as a declined stamp.
            self.book.decline_locally(new.entry_id, exc.code, str(exc))
            return ScanResult(_refusal(exc.code), goal_stamps=rally.goal_stamps, detail=str(exc))
        except ApiError as exc:
            logger.warning("giving stamp %s online failed, the outbox sends it: %s",
                           new.entry_id, exc)
            return self._result(StampOutcome.GIVEN, rally, new.wallet_id, offline=True)
        return self._accept(new, seq, outcome)

    def _accept(self, new: NewStamp, seq: int, outcome: protocol.StampOutcome) -> ScanResult:
        if outcome.status == "already_today":
            self.book.decline_locally(new.entry_id, ErrorCode.STAMP_ALREADY_GIVEN,
                                      "the server has a stamp from this booth today")
            return ScanResult(StampOutcome.ALREADY_TODAY, outcome.stamp_count,
                              outcome.goal_stamps)
        self.book.apply_results([SyncResult(entry_id=new.entry_id, status="applied")])
        self.book.save_progress(new.rally_id, new.wallet_id, outcome.stamp_count, seq)
        return ScanResult(StampOutcome.GIVEN, outcome.stamp_count, outcome.goal_stamps,
                          reward_yen=outcome.reward_yen, reward_coupon=outcome.reward_coupon)

    def _result(
        self, outcome: StampOutcome, rally: protocol.RallyInfo, wallet_id: str, *, offline: bool
    ) -> ScanResult:
        count = self.book.progress(rally.rally_id, wallet_id)
        reward_yen = rally.reward_yen if outcome is StampOutcome.GIVEN and (
            count == rally.goal_stamps) else 0
        return ScanResult(outcome, count, rally.goal_stamps, offline=offline,
                          reward_yen=reward_yen)

    def _issuer_keys(self) -> dict[str, Ed25519PublicKey]:
        return {
            key.key_id: Ed25519PublicKey.from_public_bytes(protocol.b64decode(key.public_key))
            for key in self.book.store.issuer_keys()
        }


def _refusal(code: ErrorCode) -> StampOutcome:
    if code is ErrorCode.RALLY_NOT_OPEN:
        return StampOutcome.NOT_OPEN
    if code is ErrorCode.STAMP_ALREADY_GIVEN:
        return StampOutcome.ALREADY_TODAY
    return StampOutcome.REJECTED
