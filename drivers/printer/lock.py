"""One owner per printer: an advisory lock file per printer URL.

Two copies of the terminal writing to one printer interleave their jobs, and a second copy that
opens a USB printer while the first has it open gets "Resource busy" in the middle of a sale. So a
print job first takes ``DeviceLock`` on ``<lock dir>/printer-<name>.lock`` with ``fcntl.flock``.
The kernel releases the lock when the holding process exits or crashes, so a stale lock file
never blocks printing.

The lock is non-blocking: a printer held by another process raises ``PrinterBusyError`` at once,
naming the process id that the holder wrote into the file.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import re
from pathlib import Path
from types import TracebackType

from drivers.printer.errors import PrinterBusyError

logger = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# Long enough to tell printers apart in a directory listing, short enough for any file system.
_MAX_READABLE_CHARS = 40


def lock_path(lock_dir: Path, url: str) -> Path:
    """Return the lock file for ``url``: a readable part of the URL and a short hash of all of it."""
    readable = _UNSAFE.sub("_", url)[:_MAX_READABLE_CHARS].strip("_")
    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:12]
    return lock_dir / f"printer-{readable}-{digest}.lock"


class DeviceLock:
    """An exclusive, non-blocking lock on one printer URL, held until ``release``."""

    def __init__(self, lock_dir: Path, url: str) -> None:
        self.url = url
        self.path = lock_path(lock_dir, url)
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, raising PrinterBusyError when another process has it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise PrinterBusyError(
                f"Printer {self.url} is in use by another program{holder} (lock file {self.path}). "
                "Close the other copy of the terminal, then print again.",
                self.url,
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self._fd = fd

    def release(self) -> None:
        if self._fd is None:
            return
        fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> DeviceLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return ""
    return f" (process {text})" if text.isdigit() else ""
