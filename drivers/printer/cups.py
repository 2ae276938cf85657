"""Raw print jobs through a local CUPS queue (``cups://QUEUE``).

The bytes of a job are collected by ``_raw`` and handed to CUPS as one raw job by ``submit``,
so CUPS passes them to the printer unfiltered. Two routes, chosen when the connector is made:

- python-escpos's ``CupsPrinter`` when the ``pycups`` package is installed. pycups has no wheels
  on PyPI and builds against libcups2-dev, so it is not a dependency of this project.
- otherwise the ``lp`` command of cups-client: ``lp -d QUEUE -o raw -t TITLE``, with the job on
  standard input. Its exit status and message are checked, unlike python-escpos's ``LP`` class,
  which discards both and appends a line feed to every job.

A CUPS queue gives no access to the printer's real-time status, so jobs sent this way are never
confirmed as printed (see ``PrinterConnection.read_status``).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Callable
from typing import Any

from escpos.printer import CupsPrinter

from drivers.printer.errors import PrinterConnectionError

logger = logging.getLogger(__name__)

JOB_TITLE = "chiiki-pos receipt"
# lp returns once cupsd has spooled the job; a few seconds covers a busy spooler.
LP_TIMEOUT_S = 15.0

CUPS_MISSING_ADVICE = (
    "CUPS printing needs the lp command (Debian package cups-client) or the Python package "
    "pycups. Install cups-client, or use a network://, usb:// or file:// printer URL instead."
)

Runner = Callable[..., "subprocess.CompletedProcess[bytes]"]


def lp_command(queue: str, title: str = JOB_TITLE) -> list[str]:
    """Return the ``lp`` command line that submits standard input to ``queue`` as a raw job."""
    return ["lp", "-d", queue, "-o", "raw", "-t", title]


class LpQueue:
    """A CUPS queue fed through the ``lp`` command, with the connector methods python-escpos has.

    ``run`` and ``which`` default to ``subprocess.run`` and ``shutil.which``.
    """

    def __init__(
        self,
        queue: str,
        url: str,
        *,
        run: Runner | None = None,
        which: Callable[[str], str | None] | None = None,
    ) -> None:
        self.queue = queue
        self.url = url
        self._run = run or subprocess.run
        self._which = which or shutil.which
        self._pending = bytearray()

    def open(self) -> None:
        if self._which("lp") is None:
            raise PrinterConnectionError(f"Could not open printer {self.url}: {CUPS_MISSING_ADVICE}", self.url)

    def _raw(self, data: bytes) -> None:
        self._pending += data

    def submit(self) -> None:
        """Send the collected bytes as one raw job, raising PrinterConnectionError on failure."""
        if not self._pending:
            return
        job, self._pending = bytes(self._pending), bytearray()
        command = lp_command(self.queue)
        try:
            result = self._run(command, input=job, capture_output=True, timeout=LP_TIMEOUT_S, check=False)
        except FileNotFoundError as exc:
            raise PrinterConnectionError(f"Printing to {self.url} failed: {CUPS_MISSING_ADVICE}", self.url) from exc
        except subprocess.TimeoutExpired as exc:
            raise PrinterConnectionError(
                f"Printing to {self.url} failed: lp did not finish within {LP_TIMEOUT_S:g} s. "
                "Check that the CUPS service (cupsd) is running.",
                self.url,
            ) from exc
        if result.returncode != 0:
            message = " ".join(result.stderr.decode("utf-8", "replace").split()) or "no message"
            raise PrinterConnectionError(
                f"Printing to {self.url} failed: lp exited with status {result.returncode} ({message}). "
                f"Check that queue {self.queue!r} exists (lpstat -p) and accepts jobs.",
                self.url,
            )
        logger.info("Submitted a raw job of %d bytes to CUPS queue %s", len(job), self.queue)

    def close(self) -> None:
        self._pending = bytearray()


class PycupsQueue:
    """A CUPS queue fed through python-escpos's ``CupsPrinter`` (pycups).

    NOTE: no test runs this route, because pycups is not installed where the tests run.
    """

    def __init__(self, queue: str, url: str) -> None:
        self.queue = queue
        self.url = url
        self._printer: Any = CupsPrinter(printer_name=queue)

    def open(self) -> None:
        try:
            self._printer.open(job_name=JOB_TITLE)
        except Exception as exc:  # python-escpos raises DeviceNotFoundError or pycups' IPPError
            raise PrinterConnectionError(f"Could not open CUPS queue {self.queue!r}: {exc}", self.url) from exc

    def _raw(self, data: bytes) -> None:
        self._printer._raw(data)

    def submit(self) -> None:
        try:
            self._printer.send()
        except Exception as exc:  # pycups raises cups.IPPError, which has no common base with OSError
            raise PrinterConnectionError(f"Printing to {self.url} failed: {exc}", self.url) from exc

    def close(self) -> None:
        self._printer.close()


def cups_connector(queue: str, url: str) -> LpQueue | PycupsQueue:
    """Return the pycups route when pycups is installed, else the ``lp`` route."""
    if CupsPrinter.is_usable():
        return PycupsQueue(queue, url)
    return LpQueue(queue, url)


