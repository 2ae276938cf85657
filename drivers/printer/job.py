"""Send one print job and find out whether the printer printed it.

``run_job`` holds the printer's lock file (see ``lock``), reads the real-time status before the
job, sends the job only when the printer can print, and reads the status again afterwards. The
``JobOutcome`` is ``printed`` only when the status after the job is ok (paper near end allowed).

- A problem before the job (paper end, cover open, offline) sends nothing: the cause is returned.
- A problem after the job means the printer stopped during it: not printed, with the cause.
- No status reply after the job is not printed, cause ``unknown``, because nothing confirmed
  that the paper came out. File and CUPS printers are never asked (see
  ``PrinterConnection.read_status``), and a printer that lost power or its cable cannot reply.
- Failing to open, lock or write gives cause ``disconnected`` or ``busy``.

NOTE: DLE EOT is answered in real time, so a printer may report ok while the last lines are
still in its buffer. A paper end during those lines is then seen only by the next job's status
check. Epson's GS ( H (response on processing completion) would close that gap; it is not used
because the emulator and python-escpos's connectors do not support it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from drivers.printer.connection import DEFAULT_STATUS_TIMEOUT_S, open_printer
from drivers.printer.errors import PrinterBusyError, PrinterConfigError, PrinterConnectionError
from drivers.printer.lock import DeviceLock
from drivers.printer.status import PrinterState, PrinterStatus, StatusCause

logger = logging.getLogger(__name__)


class JobCause(Enum):
    """Why a job did not print: a status cause, or what went wrong around it."""

    PAPER_END = "paper_end"
    COVER_OPEN = "cover_open"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # the printer did not confirm the job
    DISCONNECTED = "disconnected"  # opening or writing failed
    BUSY = "busy"  # another program has the printer open or locked
    CONFIG = "config"  # the printer URL or profile is invalid


_STATUS_CAUSES = {
    StatusCause.PAPER_END: JobCause.PAPER_END,
    StatusCause.COVER_OPEN: JobCause.COVER_OPEN,
    StatusCause.OFFLINE: JobCause.OFFLINE,
}


@dataclass(frozen=True)
class JobOutcome:
    """Whether the job printed, and if not, why, with a detail line for logs."""

    printed: bool
    cause: JobCause | None = None
    detail: str = ""
    paper_near_end: bool = False

    @classmethod
    def failed(cls, cause: JobCause, detail: str) -> JobOutcome:
        return cls(printed=False, cause=cause, detail=detail)


def run_job(
    url: str, job: bytes, *, lock_dir: Path, status_timeout_s: float = DEFAULT_STATUS_TIMEOUT_S
) -> JobOutcome:
    """Print ``job`` on the printer at ``url`` and report whether the printer confirmed it."""
    try:
        with DeviceLock(lock_dir, url):
            return _run_locked(url, job, status_timeout_s)
    except PrinterBusyError as exc:
        return JobOutcome.failed(JobCause.BUSY, str(exc))
    except PrinterConfigError as exc:
        return JobOutcome.failed(JobCause.CONFIG, str(exc))
    except OSError as exc:
        return JobOutcome.failed(JobCause.BUSY, f"The lock file for printer {url} cannot be used: {exc}")


def _run_locked(url: str, job: bytes, status_timeout_s: float) -> JobOutcome:
    try:
        connection = open_printer(url)
    except PrinterBusyError as exc:
        return JobOutcome.failed(JobCause.BUSY, str(exc))
    except PrinterConnectionError as exc:
        return JobOutcome.failed(JobCause.DISCONNECTED, str(exc))

    with connection:
        before = connection.read_status(status_timeout_s)
        if before.state is PrinterState.PROBLEM and not before.can_print:
            return _problem(before, "before the job; nothing was sent")
        try:
            connection.write(job)
            connection.submit()
        except PrinterConnectionError as exc:
            return JobOutcome.failed(JobCause.DISCONNECTED, str(exc))
        after = connection.read_status(status_timeout_s)

    outcome = _outcome_after(after)
    logger.info(
        "Print job of %d bytes to %s: %s", len(job), url, "printed" if outcome.printed else outcome.detail
    )
    return outcome


def _outcome_after(after: PrinterStatus) -> JobOutcome:
    if after.state is PrinterState.UNKNOWN:
        return JobOutcome.failed(JobCause.UNKNOWN, f"the printer did not confirm the job ({after.detail})")
    if not after.can_print:
        return _problem(after, "after the job")
    near_end = StatusCause.PAPER_NEAR_END in after.causes
    return JobOutcome(printed=True, paper_near_end=near_end)


def _problem(status: PrinterStatus, when: str) -> JobOutcome:
    primary = status.primary_cause
    cause = _STATUS_CAUSES.get(primary, JobCause.UNKNOWN) if primary is not None else JobCause.UNKNOWN
    causes = ", ".join(sorted(c.value for c in status.causes))
    return JobOutcome.failed(cause, f"the printer reported {causes} {when}")
