"""Pseudo-terminals that stand in for USB CDC scanners, and a listener that records reports.

A test writes to the master side of a pty, and the reader opens the slave node (/dev/pts/N) as
it would open /dev/ttyACM0. Closing the master is an unplug: the reader's next read fails as it
does for a removed USB device. A symlink in a temporary directory takes the place of the udev
link in /dev/serial/by-id.
"""

from __future__ import annotations

import os
import pty
import threading
import time
from collections.abc import Callable
from pathlib import Path

from drivers.scanner.base import ScanError, ScanResult
from drivers.scanner.serial_reader import ScannerState

# Generous, because a loaded machine may run the reader thread late; no test measures it.
WAIT_S = 10.0


class PtyScanner:
    """One plugged-in scanner: a pty whose slave node the reader opens."""

    def __init__(self) -> None:
        self.master, slave = pty.openpty()
        self.node = os.ttyname(slave)
        # The reader opens the node by name, as it would a real device.
        os.close(slave)
        self.plugged = True

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.master, view)
            view = view[written:]

    def unplug(self) -> None:
        if self.plugged:
            self.plugged = False
            os.close(self.master)


class ByIdDir:
    """A stand-in for /dev/serial/by-id holding one scanner's link."""

    def __init__(self, root: Path, name: str = "usb-Chiiki_Test_Scanner_0001-if00") -> None:
        self.path = root / "serial" / "by-id"
        self.path.mkdir(parents=True)
        self.link = self.path / name

    def point_at(self, node: str) -> None:
        self.remove()
        self.link.symlink_to(node)

    def remove(self) -> None:
        if self.link.is_symlink():
            self.link.unlink()


class Recorder:
    """A ScannerListener that keeps every report, for tests to wait on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.scans: list[ScanResult] = []
        self.rejections: list[ScanError] = []
        self.states: list[ScannerState] = []

    def on_scan(self, scan: ScanResult) -> None:
        with self._lock:
            self.scans.append(scan)

    def on_rejected(self, error: ScanError) -> None:
        with self._lock:
            self.rejections.append(error)

    def on_state(self, state: ScannerState) -> None:
        with self._lock:
            self.states.append(state)

    def texts(self) -> list[str]:
        with self._lock:
            return [scan.text for scan in self.scans]

    def statuses(self) -> list[str]:
        with self._lock:
            return [state.status for state in self.states]

    def count(self, status: str) -> int:
        return self.statuses().count(status)


def wait_until(condition: Callable[[], bool], timeout_s: float = WAIT_S) -> None:
    """Poll ``condition`` until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout_s} s")
        time.sleep(0.01)
