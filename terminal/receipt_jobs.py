"""The terminal's record of receipt print jobs, so each receipt prints once and none is lost.

Every approved payment and every refund gets one row in ``receipt_jobs`` of the terminal
database (``<data dir>/terminal.db``), keyed by the receipt id (payment or refund id) and the
receipt kind. The payment itself is recorded elsewhere (``terminal.store``) and is never
touched here, so a printer fault cannot lose or repeat a payment.

States::

    queued ──claim──> printing ──finish──> printed
       ^                 │
       └── unprinted <───┘   (cause: paper_end, cover_open, offline, unknown, disconnected,
                              busy, config, layout, interrupted)

``claim`` moves a job to ``printing`` in one ``BEGIN IMMEDIATE`` transaction, and only from
``queued`` or ``unprinted`` (or from ``printed`` for an explicit copy). A second claim of the same
receipt, or a claim while another receipt is printing on the same device, gets nothing. So an
automatic retry and a clerk's reprint that race print the receipt once. A job left ``printing``
by a crash or power cut becomes ``unprinted`` with cause ``interrupted`` when the table is next
opened, because the record cannot show whether its paper came out.

``ReceiptPrinter`` runs the whole cycle (claim, render, send, finish) for one device.

Errors: ``ReceiptJobError`` when the database cannot be read or written.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from drivers.printer.job import JobCause, JobOutcome

logger = logging.getLogger(__name__)

# The database file that terminal.store opens in the data directory.
DATABASE_FILE_NAME = "terminal.db"
BUSY_TIMEOUT_S = 30.0

# "report" is an X or Z report of the day close (terminal.day_close), keyed by its report id.
ReceiptKind = Literal["payment", "refund", "report"]
JobState = Literal["queued", "printing", "printed", "unprinted"]
RECEIPT_KINDS: tuple[ReceiptKind, ...] = ("payment", "refund", "report")
INTERRUPTED = "interrupted"
LAYOUT = "layout"

metadata = MetaData()

receipt_jobs = Table(
    "receipt_jobs",
    metadata,
    Column("receipt_id", String(64), primary_key=True),
    Column("kind", String(10), primary_key=True),
    Column("device", String(300), nullable=False, index=True),
    Column("state", String(10), nullable=False),
    Column("cause", String(20)),
    Column("detail", Text),
    Column("payload", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("printed_count", Integer, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("updated_at", String(40), nullable=False),
)


class ReceiptJobError(Exception):
    """The receipt job table cannot be read or written."""


@dataclass(frozen=True)
class ReceiptJob:
    """One receipt's print record. ``payload`` is the receipt's data as JSON."""

    receipt_id: str
    kind: ReceiptKind
    device: str
    state: JobState
    cause: str | None
    detail: str | None
    payload: str
    attempts: int
    printed_count: int


def open_receipt_jobs(data_dir: Path) -> ReceiptJobs:
    """Open the receipt job table in the terminal database of ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return ReceiptJobs(sqlite_engine(data_dir / DATABASE_FILE_NAME))


def sqlite_engine(path: Path) -> Engine:
    """Open ``path`` with the settings terminal.store uses: WAL, synchronous=FULL, BEGIN IMMEDIATE."""
    engine = create_engine(
        f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
    )

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class ReceiptJobs:
    """Reads and writes ``receipt_jobs``. One instance may be shared between threads."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        try:
            metadata.create_all(engine)
        except SQLAlchemyError as exc:
            raise ReceiptJobError(f"cannot create the receipt job table: {exc}") from exc
        self._recover_interrupted()

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise ReceiptJobError(f"{action} failed: {exc}") from exc

    def enqueue(self, receipt_id: str, kind: ReceiptKind, payload: str, device: str) -> ReceiptJob:
        """Record a receipt to print, once: the same receipt again returns the existing job."""
        if kind not in RECEIPT_KINDS:
            raise ValueError(f"receipt kind {kind!r} is not one of {', '.join(RECEIPT_KINDS)}")
        now = _now()
        row = {
            "receipt_id": receipt_id,
            "kind": kind,
            "device": device,
            "state": "queued",
            "payload": payload,
            "attempts": 0,
            "printed_count": 0,
            "created_at": now,
            "updated_at": now,
        }
        try:
            with self._transaction(f"queueing receipt {receipt_id}") as connection:
                connection.execute(receipt_jobs.insert().values(row))
            logger.info("queued %s receipt %s for %s", kind, receipt_id, device)
        except ReceiptJobError as exc:
            if not isinstance(exc.__cause__, IntegrityError):
                raise
        job = self.job(receipt_id, kind)
        assert job is not None, "an inserted or existing job is readable"
        return job

    def job(self, receipt_id: str, kind: ReceiptKind) -> ReceiptJob | None:
        with self._transaction("reading a receipt job") as connection:
            row = connection.execute(_select_one(receipt_id, kind)).first()
        return None if row is None else _job_from_row(row._mapping)

    def waiting(self, device: str) -> list[ReceiptJob]:
        """Return the device's queued and unprinted jobs, oldest first."""
        query = (
            select(receipt_jobs)
            .where(receipt_jobs.c.device == device, receipt_jobs.c.state.in_(("queued", "unprinted")))
            .order_by(receipt_jobs.c.created_at, receipt_jobs.c.receipt_id)
        )
        with self._transaction("listing waiting receipt jobs") as connection:
            rows = connection.execute(query).all()
        return [_job_from_row(row._mapping) for row in rows]

    def claim(self, receipt_id: str, kind: ReceiptKind, *, copy: bool = False) -> ReceiptJob | None:
        """Move a job to ``printing`` and return it, or return None when it must not print now.

        None when the job is unknown, already printing, already printed (unless ``copy``), or
        another job is printing on the same device.
        """
        allowed = ("queued", "unprinted", "printed") if copy else ("queued", "unprinted")
        with self._transaction(f"claiming receipt {receipt_id}") as connection:
            row = connection.execute(_select_one(receipt_id, kind)).first()
            if row is None or row.state not in allowed:
                return None
            busy = connection.execute(
                select(receipt_jobs.c.receipt_id).where(
                    receipt_jobs.c.device == row.device, receipt_jobs.c.state == "printing"
                )
            ).first()
            if busy is not None:
                return None
            connection.execute(
                _update_one(receipt_id, kind).values(
                    state="printing", attempts=receipt_jobs.c.attempts + 1, updated_at=_now()
                )
            )
        return self.job(receipt_id, kind)

    def finish(self, receipt_id: str, kind: ReceiptKind, outcome: JobOutcome) -> ReceiptJob:
        """Record the outcome of a claimed job: ``printed``, or ``unprinted`` with its cause."""
        values: dict[str, object] = {"updated_at": _now(), "detail": outcome.detail or None}
        if outcome.printed:
            values |= {"state": "printed", "cause": None, "printed_count": receipt_jobs.c.printed_count + 1}
        else:
            cause = outcome.cause.value if outcome.cause is not None else JobCause.UNKNOWN.value
            values |= {"state": "unprinted", "cause": cause}
        return self._set(receipt_id, kind, values)

    def fail(self, receipt_id: str, kind: ReceiptKind, cause: str, detail: str) -> ReceiptJob:
        """Mark a claimed job unprinted for a cause found before sending (such as ``layout``)."""
        return self._set(receipt_id, kind, {"state": "unprinted", "cause": cause, "detail": detail, "updated_at": _now()})

    def _set(self, receipt_id: str, kind: ReceiptKind, values: dict[str, object]) -> ReceiptJob:
        with self._transaction(f"recording receipt {receipt_id}") as connection:
            connection.execute(
                _update_one(receipt_id, kind).where(receipt_jobs.c.state == "printing").values(values)
            )
        job = self.job(receipt_id, kind)
        if job is None:
            raise ReceiptJobError(f"receipt job {kind} {receipt_id} is not recorded")
        return job

    def _recover_interrupted(self) -> None:
        with self._transaction("recovering interrupted receipt jobs") as connection:
            result = connection.execute(
                update(receipt_jobs)
                .where(receipt_jobs.c.state == "printing")
                .values(state="unprinted", cause=INTERRUPTED, updated_at=_now())
            )
        if result.rowcount:
            logger.warning("marked %d interrupted receipt jobs unprinted", result.rowcount)


@dataclass(frozen=True)
class PrintAttempt:
    """The result of one request to print a receipt. ``job`` is None when nothing was claimed."""

    job: ReceiptJob | None
    sent: bool

    @property
    def printed(self) -> bool:
        return self.job is not None and self.job.state == "printed"


Renderer = Callable[[ReceiptJob], bytes]
Sender = Callable[[bytes], JobOutcome]


class RenderError(Exception):
    """The renderer could not turn a job's payload into printer bytes."""


class ReceiptPrinter:
    """Prints receipt jobs on one device, one at a time, each once unless a copy is asked for.

    ``render`` turns a claimed job into the bytes of the print job (it may raise RenderError);
    ``send`` prints them and reports the outcome (``drivers.printer.job.run_job``). Blocking:
    call it from a worker thread.
    """

    def __init__(self, jobs: ReceiptJobs, device: str, render: Renderer, send: Sender) -> None:
        self.jobs = jobs
        self.device = device
        self._render = render
        self._send = send
        self._device_lock = threading.Lock()

    def print_receipt(
        self, receipt_id: str, kind: ReceiptKind, payload: str, *, copy: bool = False
    ) -> PrintAttempt:
        """Queue the receipt if new and print it unless it printed already (or ``copy``)."""
        self.jobs.enqueue(receipt_id, kind, payload, self.device)
        return self._print(receipt_id, kind, copy=copy)

    def print_waiting(self) -> list[PrintAttempt]:
        """Print every queued or unprinted job of this device, oldest first, stopping at a failure."""
        attempts: list[PrintAttempt] = []
        for job in self.jobs.waiting(self.device):
            attempt = self._print(job.receipt_id, job.kind, copy=False)
            attempts.append(attempt)
            if attempt.sent and not attempt.printed:
                break
        return attempts

    def _print(self, receipt_id: str, kind: ReceiptKind, *, copy: bool) -> PrintAttempt:
        with self._device_lock:
            job = self.jobs.claim(receipt_id, kind, copy=copy)
            if job is None:
                return PrintAttempt(self.jobs.job(receipt_id, kind), sent=False)
            try:
                data = self._render(job)
            except RenderError as exc:
                logger.error("receipt %s %s cannot be laid out: %s", kind, receipt_id, exc)
                return PrintAttempt(self.jobs.fail(receipt_id, kind, LAYOUT, str(exc)), sent=False)
            outcome = self._send(data)
            finished = self.jobs.finish(receipt_id, kind, outcome)
        logger.info(
            "%s receipt %s: %s (attempt %d)",
            kind,
            receipt_id,
            finished.state if finished.cause is None else f"{finished.state}, {finished.cause}",
            finished.attempts,
        )
        return PrintAttempt(finished, sent=True)


def _select_one(receipt_id: str, kind: str) -> Any:
    return select(receipt_jobs).where(receipt_jobs.c.receipt_id == receipt_id, receipt_jobs.c.kind == kind)


def _update_one(receipt_id: str, kind: str) -> Any:
    return update(receipt_jobs).where(receipt_jobs.c.receipt_id == receipt_id, receipt_jobs.c.kind == kind)


def _job_from_row(row: Any) -> ReceiptJob:
    return ReceiptJob(
        receipt_id=row["receipt_id"],
        kind=cast(ReceiptKind, row["kind"]),
        device=row["device"],
        state=cast(JobState, row["state"]),
        cause=row["cause"],
        detail=row["detail"],
        payload=row["payload"],
        attempts=row["attempts"],
        printed_count=row["printed_count"],
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
