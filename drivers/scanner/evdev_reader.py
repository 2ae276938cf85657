"""Read a USB keyboard-mode scanner straight from its Linux evdev device.

``EvdevScanner`` opens ``/dev/input/eventN`` (preferably the stable name under
``/dev/input/by-id/`` that ends in ``-event-kbd``), grabs it with ``EVIOCGRAB`` so its keys
reach no other program or widget, and reads ``struct input_event`` records on its own thread.
Key codes become characters through the scanner's layout (``drivers.scanner.keymaps``), and the
characters go through the same ``WedgeDetector`` as keyboard-wedge scans, with the kernel's
event times. Scans, rejected scans and device changes are delivered through callbacks, on the
reader's thread.

When the scanner is unplugged the read fails with ENODEV. The reader reports the loss, closes
the device and tries to open the same path again every ``reopen_interval_s`` until the scanner
is back, so the terminal never needs a restart.

Exceptions, all from ``ScannerDeviceError`` (an OSError), are reported through ``on_status``
and never raised from the thread::

    ScannerDeviceError          the scanner device cannot be used
    ├── DeviceNotFound          the path does not exist: unplugged, or the wrong path
    ├── DevicePermissionDenied  the terminal's user may not open the device
    ├── DeviceBusy              another program has grabbed the device
    └── DeviceLost              a read failed, most often because the scanner was unplugged
"""

from __future__ import annotations

import errno
import fcntl
import logging
import math
import os
import select
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from drivers.scanner.base import ScanError, ScanResult
from drivers.scanner.keymaps import KeyTranslator
from drivers.scanner.wedge import WedgeDetector, WedgeOutput

logger = logging.getLogger(__name__)

# struct input_event: struct timeval (two C longs), __u16 type, __u16 code, __s32 value, in the
# machine's byte order. 24 bytes on 64-bit Linux, 16 on 32-bit ARM.
INPUT_EVENT = struct.Struct("@llHHi")
EV_SYN, EV_KEY, EV_MSC = 0x00, 0x01, 0x04
SYN_DROPPED = 3
KEY_RELEASED, KEY_PRESSED, KEY_REPEATED = 0, 1, 2

# _IOW('E', 0x90, int) and _IOW('E', 0xa0, int) from linux/input.h.
EVIOCGRAB = 0x40044590
EVIOCSCLOCKID = 0x400445A0

BY_ID_DIR = Path("/dev/input/by-id")
# The group that owns /dev/input/event* on Debian and Raspberry Pi OS, through udev's rules.
INPUT_GROUP = "input"
READ_RECORDS = 64
REOPEN_INTERVAL_S = 1.0

IoctlFunction = Callable[[int, int, int | bytes], object]


def linux_ioctl(fd: int, request: int, argument: int | bytes) -> object:
    """Call ioctl(2): an int argument is passed as is, bytes through a pointer to a copy."""
    if isinstance(argument, bytes):
        return fcntl.ioctl(fd, request, argument)
    return fcntl.ioctl(fd, request, argument)


class ScannerDeviceError(OSError):
    """The scanner's input device cannot be used. The message names the device and the fix."""


class DeviceNotFound(ScannerDeviceError):
    pass


class DevicePermissionDenied(ScannerDeviceError):
    pass


class DeviceBusy(ScannerDeviceError):
    pass


class DeviceLost(ScannerDeviceError):
    pass


@dataclass(frozen=True)
class InputEvent:
    time_ms: float
    type: int
    code: int
    value: int


@dataclass(frozen=True)
class DeviceStatus:
    """The device was opened (``error`` None) or cannot be read (``error`` gives the reason)."""

    path: str
    error: ScannerDeviceError | None = None

    @property
    def connected(self) -> bool:
        return self.error is None


class EventDevice(Protocol):
    """An open input device: a file descriptor to wait on and read records from."""

    path: str

    def fileno(self) -> int: ...

    def read(self, size: int) -> bytes: ...

    def close(self) -> None: ...


def list_keyboard_devices(by_id_dir: Path = BY_ID_DIR) -> list[str]:
    """Return the stable paths of keyboard-like devices, where a scanner in keyboard mode shows."""
    if not by_id_dir.is_dir():
        return []
    return sorted(str(path) for path in by_id_dir.glob("*-event-kbd"))


def unpack_events(data: bytes) -> list[InputEvent]:
    """Decode whole ``struct input_event`` records from ``data``, a multiple of their size."""
    events = []
    for seconds, microseconds, event_type, code, value in INPUT_EVENT.iter_unpack(data):
        time_ms = seconds * 1000.0 + microseconds / 1000.0
        events.append(InputEvent(time_ms, event_type, code, value))
    return events


class LinuxEventDevice:
    """``/dev/input/eventN`` opened without blocking and grabbed for this process alone."""

    def __init__(
        self,
        path: str,
        ioctl: IoctlFunction = linux_ioctl,
        open_fd: Callable[[str, int], int] = os.open,
    ) -> None:
        self.path = path
        self._ioctl = ioctl
        self._fd = _open_device(path, open_fd)
        try:
            self._grab()
        except ScannerDeviceError:
            os.close(self._fd)
            raise
        self._use_monotonic_clock()

    def fileno(self) -> int:
        return self._fd

    def read(self, size: int) -> bytes:
        return os.read(self._fd, size)

    def close(self) -> None:
        try:
            self._ioctl(self._fd, EVIOCGRAB, 0)
        except OSError:
            pass  # an unplugged device has no grab left to release
        os.close(self._fd)

    def _grab(self) -> None:
        try:
            self._ioctl(self._fd, EVIOCGRAB, 1)
        except OSError as exc:
            if exc.errno == errno.EBUSY:
                raise DeviceBusy(
                    exc.errno,
                    f"scanner device {self.path} is grabbed by another program; close the other "
                    "program (or another copy of the terminal) and the scanner is taken again",
                ) from exc
            raise ScannerDeviceError(
                exc.errno,
                f"scanner device {self.path} cannot be grabbed ({exc.strerror}); check that "
                "scanner.device names an event device under /dev/input",
            ) from exc

    def _use_monotonic_clock(self) -> None:
        # Event times default to the wall clock, which NTP may step in the middle of a burst.
        try:
            self._ioctl(self._fd, EVIOCSCLOCKID, struct.pack("@i", 1))  # CLOCK_MONOTONIC
        except OSError as exc:
            logger.debug("monotonic event times unavailable on %s: %s", self.path, exc)


def _open_device(path: str, open_fd: Callable[[str, int], int]) -> int:
    try:
        return open_fd(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except PermissionError as exc:
        raise DevicePermissionDenied(
            exc.errno,
            f"permission denied opening scanner device {path}; add the terminal's user to the "
            f"{INPUT_GROUP!r} group (sudo usermod -aG {INPUT_GROUP} USER, then log in again) "
            "or give the device to that user with a udev rule",
        ) from exc
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
            found = ", ".join(list_keyboard_devices()) or "none"
            raise DeviceNotFound(
                exc.errno,
                f"scanner device {path} is not connected; plug the scanner in, or set "
                f"scanner.device to one of the keyboard devices found: {found}",
            ) from exc
        raise ScannerDeviceError(
            exc.errno, f"scanner device {path} cannot be opened: {exc.strerror}"
        ) from exc


class EvdevScanner:
    """Reads scans from one evdev device on a thread, as the module docstring describes."""

    def __init__(
        self,
        path: str,
        detector: WedgeDetector,
        translator: KeyTranslator,
        *,
        on_scan: Callable[[ScanResult], None],
        on_rejected: Callable[[ScanError], None],
        on_status: Callable[[DeviceStatus], None],
        open_device: Callable[[str], EventDevice] = LinuxEventDevice,
        reopen_interval_s: float = REOPEN_INTERVAL_S,
    ) -> None:
        self.path = path
        self._detector = detector
        self._translator = translator
        self._on_scan = on_scan
        self._on_rejected = on_rejected
        self._on_status = on_status
        self._open_device = open_device
        self._reopen_interval_s = reopen_interval_s

        self._stopping = threading.Event()
        self._wake_read, self._wake_write = os.pipe()
        self._thread: threading.Thread | None = None
        # "unset" before the first report, then None when connected or (error type, message).
        self._last_status: tuple[type[ScannerDeviceError], str] | None | Literal["unset"] = "unset"


    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("EvdevScanner.start() called twice")
        self._thread = threading.Thread(target=self._run, name="evdev-scanner", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop reading, release the device and wait for the thread. Safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        os.write(self._wake_write, b"\0")
        if self._thread is not None:
            self._thread.join(timeout_s)
        os.close(self._wake_read)
        os.close(self._wake_write)

    # --- the reader thread -------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                device = self._open_device(self.path)
            except ScannerDeviceError as exc:
                self._report(DeviceStatus(self.path, exc))
                self._wait(self._reopen_interval_s)
                continue

            self._report(DeviceStatus(self.path))
            try:
                self._read_until_lost(device)
            except ScannerDeviceError as exc:
                self._report(DeviceStatus(self.path, exc))
                self._wait(self._reopen_interval_s)
            except Exception:
                # An unexpected error must not end the thread, or scans would stop for good.
                logger.exception("reading scanner device %s failed; it is opened again", self.path)
                self._wait(self._reopen_interval_s)
            finally:
                device.close()
            self._translator.reset()
            self._discard_held_keys()

    def _read_until_lost(self, device: EventDevice) -> None:
        pending = b""
        while not self._stopping.is_set():
            ready, _, _ = select.select([device.fileno(), self._wake_read], [], [])
            if device.fileno() not in ready:
                continue
            data = self._read(device)
            pending += data
            whole = len(pending) - len(pending) % INPUT_EVENT.size
            for event in unpack_events(pending[:whole]):
                self._take_event(event)
            pending = pending[whole:]

    def _read(self, device: EventDevice) -> bytes:
        try:
            data = device.read(INPUT_EVENT.size * READ_RECORDS)
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise DeviceLost(
                exc.errno,
                f"reading scanner device {device.path} failed ({exc.strerror}); the scanner was "
                "probably unplugged, and it is used again as soon as it is back",
            ) from exc
        if not data:
            raise DeviceLost(
                errno.ENODEV,
                f"scanner device {device.path} was closed; it is used again as soon as it is back",
            )
        return data

    def _take_event(self, event: InputEvent) -> None:
        if event.type == EV_SYN and event.code == SYN_DROPPED:
            # The kernel's buffer overflowed and keys were lost, so the burst is incomplete.
            logger.warning("scanner device %s dropped events, so the scan is discarded", self.path)
            self._discard_held_keys()
            return
        if event.type != EV_KEY or event.value == KEY_REPEATED:
            return
        text = self._translator.key(event.code, event.value == KEY_PRESSED)
        if text:
            self._deliver(self._detector.feed(text, event.time_ms))

    def _deliver(self, output: WedgeOutput) -> None:
        if output.passthrough:
            # The device is the scanner alone, so keys that are not part of a scan are noise:
            # a burst without its suffix, or keys pressed on a scanner's keypad.
            count = len(output.passthrough)
            logger.info("discarded %d characters from %s that were not a scan", count, self.path)
        if output.error is not None:
            self._call(self._on_rejected, output.error)
        if output.scan is not None:
            logger.info("scan of %d characters from %s", len(output.scan.text), self.path)
            self._call(self._on_scan, output.scan)

    def _call(self, callback: Callable[[Any], None], argument: object) -> None:
        # A failing receiver must not stop the reader or lose the keys read after this one.
        try:
            callback(argument)
        except Exception:
            logger.exception("the receiver of a scan from %s failed", self.path)

    def _discard_held_keys(self) -> None:
        self._deliver(self._detector.flush(math.inf))

    def _report(self, status: DeviceStatus) -> None:
        error = status.error
        key = None if error is None else (type(error), str(error))
        if key == self._last_status:
            return  # the same failure again on a retry, or no change
        self._last_status = key
        if status.error is None:
            logger.info("scanner device %s opened and grabbed", status.path)
        else:
            logger.warning("%s", status.error)
        self._on_status(status)

    def _wait(self, timeout_s: float) -> None:
        select.select([self._wake_read], [], [], timeout_s)
