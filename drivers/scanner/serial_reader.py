"""Read a serial or USB CDC barcode scanner on its own thread, and survive unplugging.

``SerialScanner`` opens the port with pyserial, passes every read to a ``SerialFramer`` and
reports to a ``ScannerListener``: each scan, each rejection, and each change of connection
state. All listener calls happen on the reader thread, so a GUI forwards them to its own thread.

A read fails when the scanner is unplugged: pyserial raises ``SerialException`` or
``OSError``, including "device reports readiness to read but returned no data", which is what
Linux gives for a removed USB device. The opened device node may also disappear. Either way the
reader closes the port, reports ``disconnected`` with the reason, and tries again after each
delay in ``retry_delays_s``, repeating the last delay until the scanner is back.
``PortLocator`` decides which node to open, following ``/dev/serial/by-id`` links to a scanner
that came back under another name. One INFO line is logged per connect and disconnect.

``port`` may also be a pyserial URL: ``loop://`` reads back what is written to it, for demos and
tests without a device.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import serial

from drivers.scanner.base import ScanError, ScanResult
from drivers.scanner.serial_framing import FramingSettings, FrameOutput, SerialFramer
from drivers.scanner.serial_ports import BY_ID_DIR, PortLocator, is_url

logger = logging.getLogger(__name__)

# Delays between attempts to reopen the port. A scanner plugged back in is ready within about
# a second, and checking every 2 s after that costs nothing.
RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0)
# How long one read waits for the first byte. It bounds how late a stop request, a frame end
# after silence and a vanished node are noticed.
READ_POLL_S = 0.05
# While the scanner stays away, one failed attempt in this many is logged as a warning (about
# once a minute at the last retry delay) and the rest at debug level.
FAILED_ATTEMPTS_PER_WARNING = 30
# A connection that lasted this long was a working one, so the next failure starts the retry
# delays from the first again.
STABLE_SESSION_S = 2.0

ConnectionStatus = Literal["connected", "disconnected", "reconnecting"]


@dataclass(frozen=True)
class ScannerState:
    """A change in the scanner's connection, for the listener and the screens."""

    status: ConnectionStatus
    port: str  # the port opened, or the configured port while none is open
    reason: str = ""  # why the scanner is disconnected, or why the last attempt failed
    attempt: int = 0  # reconnection attempts since the scanner was last connected


class ScannerListener(Protocol):
    """Receives what the reader thread produces; every method runs on that thread."""

    def on_scan(self, scan: ScanResult) -> None: ...

    def on_rejected(self, error: ScanError) -> None: ...

    def on_state(self, state: ScannerState) -> None: ...


class SerialPort(Protocol):
    """The part of ``serial.Serial`` the reader uses."""

    @property
    def in_waiting(self) -> int: ...

    def read(self, size: int = 1) -> bytes: ...

    def close(self) -> None: ...


PortOpener = Callable[[str, int, float], SerialPort]


def open_serial_port(port: str, baudrate: int, timeout_s: float) -> SerialPort:
    """Open ``port`` (a device path or a pyserial URL) for reading; raise SerialException."""
    # An exclusive lock (flock) keeps a second copy of the terminal from stealing scans.
    # pyserial applies it on POSIX device paths only.
    options: dict[str, object] = {} if is_url(port) else {"exclusive": True}
    opened: SerialPort = serial.serial_for_url(
        port, baudrate=baudrate, timeout=timeout_s, **options
    )
    return opened


@dataclass(frozen=True)
class SerialSettings:
    """The port, speed and framing of one serial scanner."""

    port: str
    baudrate: int = 9600
    framing: FramingSettings = FramingSettings()


class SerialScanner:
    """Reads one serial scanner on a background thread; see the module docstring."""

    def __init__(
        self,
        settings: SerialSettings,
        listener: ScannerListener,
        *,
        by_id_dir: Path = BY_ID_DIR,
        open_port: PortOpener = open_serial_port,
        retry_delays_s: Sequence[float] = RETRY_DELAYS_S,
    ) -> None:
        if not retry_delays_s:
            raise ValueError("retry_delays_s needs at least one delay")
        self.settings = settings
        self._listener = listener
        self._locator = PortLocator(settings.port, by_id_dir)
        self._open_port = open_port
        self._retry_delays_s = tuple(retry_delays_s)
        self._framer = SerialFramer(settings.framing)
        self._poll_s = min(READ_POLL_S, settings.framing.inter_byte_timeout_s / 2)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._state: ScannerState | None = None

    @property
    def state(self) -> ScannerState | None:
        """The last state reported, or None before the first attempt to open the port."""
        return self._state

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the serial scanner reader is already running")
        self._thread = threading.Thread(target=self._run, name="serial-scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop reading and close the port for good.

        A read in progress ends within ``READ_POLL_S``. A stopped reader cannot be started again.
        """
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    # --- the reader thread ------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        while not self._stopping.is_set():
            opened = self._open()
            if isinstance(opened, str):
                attempt += 1
                self._report_failed_attempt(opened, attempt)
                self._stopping.wait(self._retry_delay_s(attempt))
                continue

            started_s = time.monotonic()
            self._run_session(*opened)
            if time.monotonic() - started_s >= STABLE_SESSION_S:
                attempt = 0
            else:
                # A port that opens but fails at once would otherwise be reopened in a tight
                # loop, with two log lines each time.
                attempt += 1
                self._stopping.wait(self._retry_delay_s(attempt))
        logger.debug("serial scanner reader stopped")

    def _run_session(self, port: SerialPort, path: str, name: str) -> None:
        """Read from an open port until it fails or the reader stops, then close it."""
        # Bytes of a code cut off by the unplug must not join the first code after it.
        self._framer = SerialFramer(self.settings.framing)
        try:
            reason = self._read_session(port, path)
        except Exception as exc:
            # A fault in framing or in a listener must not end the reader thread.
            logger.exception("the serial scanner reader failed")
            reason = f"reader failed: {exc!r}"
        _close_quietly(port)
        if not self._stopping.is_set():
            logger.info("serial scanner on %s disconnected: %s", name, reason)
            self._report(ScannerState("disconnected", name, reason))

    def _retry_delay_s(self, attempt: int) -> float:
        return self._retry_delays_s[min(attempt, len(self._retry_delays_s)) - 1]

    def _open(self) -> tuple[SerialPort, str, str] | str:
        """Open the best candidate port and return it, its path and its name for logs.

        Returns why no port could be opened instead when none could.
        """
        failures: list[str] = []
        for candidate in self._locator.candidates():
            try:
                port = self._open_port(candidate, self.settings.baudrate, self._poll_s)
            except (serial.SerialException, OSError, ValueError) as exc:
                message = str(exc)
                failures.append(message if candidate in message else f"{candidate}: {message}")
                continue
            self._locator.remember(candidate)
            name = self._locator.describe(candidate)
            logger.info(
                "serial scanner connected on %s at %d baud", name, self.settings.baudrate
            )
            self._report(ScannerState("connected", name))
            return port, candidate, name

        if failures:
            return "; ".join(failures)
        return (
            f"{self.settings.port} now belongs to another device and the scanner's link in "
            f"{self._locator.by_id_dir} is missing"
        )

    def _report_failed_attempt(self, reason: str, attempt: int) -> None:
        if self._state is None or self._state.status == "connected":
            logger.info("serial scanner on %s is not available: %s", self.settings.port, reason)
            self._report(ScannerState("disconnected", self.settings.port, reason, attempt))
            return
        if attempt % FAILED_ATTEMPTS_PER_WARNING == 0:
            logger.warning(
                "serial scanner still not available after %d attempts: %s", attempt, reason
            )
        else:
            logger.debug("serial scanner reconnection attempt %d failed: %s", attempt, reason)
        self._report(ScannerState("reconnecting", self.settings.port, reason, attempt))

    def _read_session(self, port: SerialPort, path: str) -> str:
        """Read and frame until the port fails or the reader stops; return why it ended."""
        while not self._stopping.is_set():
            try:
                data = port.read(1)
                if data:
                    data += port.read(port.in_waiting)
            except (serial.SerialException, OSError) as exc:
                return f"read failed: {exc}"

            outputs = self._framer.feed(data, time.monotonic())
            self._deliver(outputs)
            if not data and not is_url(path) and not os.path.exists(path):
                return f"the device node {path} disappeared"
        return "stopped"

    # --- reporting --------------------------------------------------------------------

    def _deliver(self, outputs: list[FrameOutput]) -> None:
        for output in outputs:
            try:
                if isinstance(output, ScanResult):
                    self._listener.on_scan(output)
                else:
                    self._listener.on_rejected(output)
            except Exception:
                logger.exception("the serial scanner's listener failed on a scan")

    def _report(self, state: ScannerState) -> None:
        self._state = state
        try:
            self._listener.on_state(state)
        except Exception:
            logger.exception("the serial scanner's listener failed on a state change")


def _close_quietly(port: SerialPort) -> None:
    try:
        port.close()
    except (serial.SerialException, OSError) as exc:
        logger.debug("closing the serial scanner's port failed: %s", exc)


def simple_listener(
    on_scan: Callable[[ScanResult], None],
    on_rejected: Callable[[ScanError], None] = lambda error: None,
    on_state: Callable[[ScannerState], None] = lambda state: None,
) -> ScannerListener:
    """Build a listener from plain functions."""
    return _FunctionListener(on_scan, on_rejected, on_state)


@dataclass(frozen=True)
class _FunctionListener:
    scan_function: Callable[[ScanResult], None]
    rejected_function: Callable[[ScanError], None]
    state_function: Callable[[ScannerState], None]

    def on_scan(self, scan: ScanResult) -> None:
        self.scan_function(scan)

    def on_rejected(self, error: ScanError) -> None:
        self.rejected_function(error)

    def on_state(self, state: ScannerState) -> None:
        self.state_function(state)
