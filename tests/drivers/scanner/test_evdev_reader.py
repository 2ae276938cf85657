"""The evdev reader against real ``struct input_event`` bytes written into a FIFO."""

from __future__ import annotations

import errno
import os
import queue
import struct
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from drivers.scanner.base import ScanError, ScanResult
from drivers.scanner.evdev_reader import (
    EV_SYN,
    EVIOCGRAB,
    EVIOCSCLOCKID,
    INPUT_EVENT,
    SYN_DROPPED,
    DeviceBusy,
    DeviceLost,
    DeviceNotFound,
    DevicePermissionDenied,
    DeviceStatus,
    EvdevScanner,
    EventDevice,
    LinuxEventDevice,
    unpack_events,
)
from drivers.scanner.keymaps import KEY_ENTER, KeyTranslator
from drivers.scanner.wedge import WedgeDetector
from terminal.paycode import new_payment_code
from tests.drivers.scanner.evdev_records import press, record, release, typed

WAIT_S = 5.0


@dataclass
class FakeIoctl:
    """Records each ioctl(2) call; a grab fails with ``grab_errno`` when it is set."""

    grab_errno: int | None = None
    calls: list[tuple[int, int, int | bytes]] = field(default_factory=list)

    def __call__(self, fd: int, request: int, argument: int | bytes) -> object:
        self.calls.append((fd, request, argument))
        if request == EVIOCGRAB and argument == 1 and self.grab_errno is not None:
            raise OSError(self.grab_errno, os.strerror(self.grab_errno))
        return 0


@dataclass
class Received:
    scans: queue.Queue[ScanResult] = field(default_factory=queue.Queue)
    rejected: queue.Queue[ScanError] = field(default_factory=queue.Queue)
    statuses: queue.Queue[DeviceStatus] = field(default_factory=queue.Queue)

    def next_scan(self) -> str:
        return self.scans.get(timeout=WAIT_S).text

    def next_status(self) -> DeviceStatus:
        return self.statuses.get(timeout=WAIT_S)


class Fifo:
    """A FIFO in place of /dev/input/eventN, which the test writes to through a read-write end."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def plug(self) -> None:
        os.mkfifo(self.path)
        # Read-write, so opening does not wait for the reader and the reader sees no end of
        # stream while this end is open.
        self.fd = os.open(self.path, os.O_RDWR)

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def unplug(self) -> None:
        self.path.unlink()
        os.close(self.fd)
        self.fd = -1


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Fifo]:
    device = Fifo(tmp_path / "usb-SCANNER-event-kbd")
    device.plug()
    yield device
    if device.fd >= 0:
        os.close(device.fd)


def start_reader(
    path: Path,
    received: Received,
    open_device: Callable[[str], EventDevice],
    keymap: str = "us",
    detector: WedgeDetector | None = None,
) -> EvdevScanner:
    reader = EvdevScanner(
        str(path),
        detector or WedgeDetector(source="evdev"),
        KeyTranslator.for_keymap("jis" if keymap == "jis" else "us"),
        on_scan=received.scans.put,
        on_rejected=received.rejected.put,
        on_status=received.statuses.put,
        open_device=open_device,
        reopen_interval_s=0.05,
    )
    reader.start()
    return reader


@pytest.fixture
def run_reader() -> Iterator[Callable[..., EvdevScanner]]:
    readers: list[EvdevScanner] = []

    def run(*args: object, **kwargs: object) -> EvdevScanner:
        reader = start_reader(*args, **kwargs)  # type: ignore[arg-type]
        readers.append(reader)
        return reader

    yield run
    for reader in readers:
        reader.stop()


def grab_attempts(ioctl: FakeIoctl) -> int:
    return sum(1 for _, request, argument in ioctl.calls if (request, argument) == (EVIOCGRAB, 1))


def grabbing(ioctl: FakeIoctl) -> Callable[[str], EventDevice]:
    return lambda path: LinuxEventDevice(path, ioctl=ioctl)


def test_input_event_record_round_trip() -> None:
    data = record(1234.5, 1, 30, 1) + record(1300.0, 0, 0, 0)

    events = unpack_events(data)

    assert len(data) == 2 * INPUT_EVENT.size
    assert [(e.type, e.code, e.value) for e in events] == [(1, 30, 1), (0, 0, 0)]
    assert events[0].time_ms == pytest.approx(1234.5)
    assert events[1].time_ms == pytest.approx(1300.0)


def test_scan_read_from_device(
    fifo: Fifo, run_reader: Callable[..., EvdevScanner]
) -> None:
    received = Received()
    ioctl = FakeIoctl()
    code = new_payment_code()
    run_reader(fifo.path, received, grabbing(ioctl))
    assert received.next_status().connected

    fifo.write(typed(code + "\r", "us"))

    scan = received.scans.get(timeout=WAIT_S)
    assert scan == ScanResult(text=code, source="evdev")


def test_device_grabbed_exclusively(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    ioctl = FakeIoctl()

    reader = run_reader(fifo.path, received, grabbing(ioctl))
    assert received.next_status().connected
    reader.stop()

    requests = [(request, argument) for _, request, argument in ioctl.calls]
    assert requests[0] == (EVIOCGRAB, 1)
    assert (EVIOCSCLOCKID, struct.pack("@i", 1)) in requests  # CLOCK_MONOTONIC
    assert requests[-1] == (EVIOCGRAB, 0)


def test_grab_busy_reported(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()

    run_reader(fifo.path, received, grabbing(FakeIoctl(grab_errno=errno.EBUSY)))
    status = received.next_status()

    assert isinstance(status.error, DeviceBusy)
    assert str(fifo.path) in str(status.error)
    assert "grabbed by another program" in str(status.error)


def test_grab_busy_reported_once(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    ioctl = FakeIoctl(grab_errno=errno.EBUSY)

    run_reader(fifo.path, received, grabbing(ioctl))
    received.next_status()
    deadline = time.monotonic() + WAIT_S
    while grab_attempts(ioctl) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)  # the reader retries every 50 ms

    assert grab_attempts(ioctl) >= 4
    assert received.statuses.empty()


def test_grab_released_by_other_program_then_taken(
    fifo: Fifo, run_reader: Callable[..., EvdevScanner]
) -> None:
    received = Received()
    ioctl = FakeIoctl(grab_errno=errno.EBUSY)
    code = new_payment_code()

    run_reader(fifo.path, received, grabbing(ioctl))
    assert isinstance(received.next_status().error, DeviceBusy)
    ioctl.grab_errno = None
    assert received.next_status().connected
    fifo.write(typed(code + "\r", "us"))

    assert received.next_scan() == code


def test_permission_denied_names_device_and_group(tmp_path: Path) -> None:
    def denied(path: str, flags: int) -> int:
        raise PermissionError(errno.EACCES, "Permission denied", path)

    path = str(tmp_path / "event7")
    with pytest.raises(DevicePermissionDenied) as caught:
        LinuxEventDevice(path, ioctl=FakeIoctl(), open_fd=denied)

    message = str(caught.value)
    assert path in message
    assert "'input' group" in message
    assert "usermod -aG input" in message


def test_missing_device_reported(tmp_path: Path, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    path = tmp_path / "usb-ABSENT-event-kbd"

    run_reader(path, received, grabbing(FakeIoctl()))
    status = received.next_status()

    assert isinstance(status.error, DeviceNotFound)
    assert str(path) in str(status.error)
    assert "not connected" in str(status.error)


def test_unplug_reported_and_device_reopened(
    fifo: Fifo, run_reader: Callable[..., EvdevScanner]
) -> None:
    received = Received()
    first, second = new_payment_code(), new_payment_code()
    run_reader(fifo.path, received, grabbing(FakeIoctl()))
    assert received.next_status().connected
    fifo.write(typed(first + "\r", "us"))
    assert received.next_scan() == first

    fifo.unplug()
    lost = received.next_status()
    missing = received.next_status()
    fifo.plug()
    back = received.next_status()
    fifo.write(typed(second + "\r", "us", start_ms=90_000.0))

    assert isinstance(lost.error, DeviceLost)
    assert "unplugged" in str(lost.error) or "closed" in str(lost.error)
    assert isinstance(missing.error, DeviceNotFound)
    assert back.connected
    assert received.next_scan() == second


@dataclass
class UnpluggingDevice:
    """A device whose reads return ``data`` and then fail with ENODEV, as the kernel's do."""

    path: str
    data: bytes
    read_fd: int = -1
    write_fd: int = -1

    def __post_init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        os.write(self.write_fd, self.data)
        # A removed evdev device polls readable and its read fails. With the write end closed,
        # the pipe polls readable once drained, and read() then raises ENODEV.
        os.close(self.write_fd)
        self.write_fd = -1

    def fileno(self) -> int:
        return self.read_fd

    def read(self, size: int) -> bytes:
        if self.data:
            chunk = os.read(self.read_fd, size)
            self.data = self.data[len(chunk) :]
            return chunk
        raise OSError(errno.ENODEV, os.strerror(errno.ENODEV))

    def close(self) -> None:
        os.close(self.read_fd)
        if self.write_fd >= 0:
            os.close(self.write_fd)


def test_read_enodev_is_device_lost(run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    code = new_payment_code()
    opened: list[UnpluggingDevice] = []

    def open_device(path: str) -> EventDevice:
        device = UnpluggingDevice(path, typed(code + "\r", "us") if not opened else b"")
        opened.append(device)
        return device

    run_reader(Path("/dev/input/by-id/usb-SCANNER-event-kbd"), received, open_device)

    assert received.next_status().connected
    assert received.next_scan() == code
    lost = received.next_status()
    assert isinstance(lost.error, DeviceLost)
    assert "/dev/input/by-id/usb-SCANNER-event-kbd" in str(lost.error)
    assert "No such device" in str(lost.error)
    assert received.next_status().connected  # opened again
    assert len(opened) >= 2


def test_jis_scanner_symbols_decoded(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    run_reader(fifo.path, received, grabbing(FakeIoctl()), keymap="jis")
    received.next_status()

    fifo.write(typed("user@bank:01_[x]\r", "jis"))

    assert received.next_scan() == "user@bank:01_[x]"


def test_us_keymap_reads_us_scanner_symbols(
    fifo: Fifo, run_reader: Callable[..., EvdevScanner]
) -> None:
    received = Received()
    run_reader(fifo.path, received, grabbing(FakeIoctl()), keymap="us")
    received.next_status()

    fifo.write(typed('pay@shop:*"~+\r', "us"))

    assert received.next_scan() == 'pay@shop:*"~+'


def test_keys_at_human_speed_are_not_a_scan(
    fifo: Fifo, run_reader: Callable[..., EvdevScanner]
) -> None:
    received = Received()
    code = new_payment_code()
    run_reader(fifo.path, received, grabbing(FakeIoctl()))
    received.next_status()

    # Written all at once: only the kernel's event times show the 150 ms between keys.
    fifo.write(typed("12345678\r", "us", gap_ms=150.0))
    fifo.write(typed(code + "\r", "us", start_ms=20_000.0))

    assert received.next_scan() == code
    assert received.scans.empty()


def test_double_enter_is_one_scan(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    code = new_payment_code()
    run_reader(fifo.path, received, grabbing(FakeIoctl()))
    received.next_status()

    fifo.write(typed(code + "\r\r", "us") + typed(code + "\r", "us", start_ms=5_400.0))
    fifo.write(typed("12345678\r", "us", start_ms=9_000.0))

    assert received.next_scan() == code
    assert received.next_scan() == "12345678"


def test_dropped_events_discard_burst(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    code = new_payment_code()
    run_reader(fifo.path, received, grabbing(FakeIoctl()))
    received.next_status()

    fifo.write(typed(code[:15], "us") + record(5_061.0, EV_SYN, SYN_DROPPED, 0))
    fifo.write(typed(code[15:] + "\r", "us", start_ms=5_062.0))
    fifo.write(typed(code + "\r", "us", start_ms=9_000.0))

    # The half after the overflow is too short to count as a scan of its own.
    assert received.next_scan() == code
    assert received.scans.empty()


def test_autorepeat_and_ctrl_m_suffix(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    run_reader(fifo.path, received, grabbing(FakeIoctl()))
    received.next_status()
    left_ctrl, key_m, key_1 = 29, 50, 2

    data = typed("9876543", "us")
    data += record(5_030.0, 1, key_1, 2)  # autorepeat of a key held down: ignored
    data += press(5_031.0, left_ctrl) + press(5_032.0, key_m)
    data += release(5_033.0, key_m) + release(5_033.0, left_ctrl)
    fifo.write(data)

    assert received.next_scan() == "9876543"


def test_kana_never_arrives_from_evdev(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    # The JIS input method key (left of 1) types nothing, so the scan stays ASCII.
    received = Received()
    run_reader(fifo.path, received, grabbing(FakeIoctl()), keymap="jis")
    received.next_status()
    key_grave = 41

    fifo.write(press(4_990.0, key_grave) + release(4_991.0, key_grave))
    fifo.write(typed("12345678\r", "jis"))

    assert received.next_scan() == "12345678"
    assert received.rejected.empty()


def test_enter_key_code_is_suffix() -> None:
    translator = KeyTranslator.for_keymap("us")

    assert translator.key(KEY_ENTER, True) == "\r"
    assert translator.key(KEY_ENTER, False) == ""


def test_stop_is_idempotent(fifo: Fifo) -> None:
    received = Received()
    reader = start_reader(fifo.path, received, grabbing(FakeIoctl()))
    received.next_status()

    assert reader.running
    reader.stop()
    reader.stop()

    assert not reader.running


def test_record_split_across_reads(fifo: Fifo, run_reader: Callable[..., EvdevScanner]) -> None:
    received = Received()
    code = new_payment_code()
    run_reader(fifo.path, received, grabbing(FakeIoctl()))
    received.next_status()
    data = typed(code + "\r", "us")
    cut = INPUT_EVENT.size * 7 + 5  # inside the eighth record

    fifo.write(data[:cut])
    time.sleep(0.05)
    fifo.write(data[cut:])

    assert received.next_scan() == code


def test_failing_callback_keeps_reader_alive(
    fifo: Fifo, run_reader: Callable[..., EvdevScanner]
) -> None:
    received = Received()
    first, second = new_payment_code(), new_payment_code()
    failures: list[str] = []

    def on_scan(scan: ScanResult) -> None:
        if not failures:
            failures.append(scan.text)
            raise RuntimeError("receiver failed")
        received.scans.put(scan)

    reader = EvdevScanner(
        str(fifo.path),
        WedgeDetector(source="evdev"),
        KeyTranslator.for_keymap("us"),
        on_scan=on_scan,
        on_rejected=received.rejected.put,
        on_status=received.statuses.put,
        open_device=grabbing(FakeIoctl()),
        reopen_interval_s=0.05,
    )
    reader.start()
    try:
        assert received.next_status().connected
        fifo.write(typed(first + "\r", "us"))
        fifo.write(typed(second + "\r", "us", start_ms=30_000.0))

        assert received.next_scan() == second
        assert failures == [first]
        assert reader.running
    finally:
        reader.stop()
