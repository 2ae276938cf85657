"""Status over serial and USB links: a fake printer on a pseudo-terminal and a fake pyusb device.

The serial printer replies to DLE EOT on the master side of a real pty, so the terminal's code runs
python-escpos's Serial connector and pyserial unchanged. The USB printer stands in for the pyusb
device that python-escpos's Usb connector finds, so the connector's own open, write and close run.
"""

from __future__ import annotations

import errno
import os
import pty
import select
import threading
import tty
from array import array
from collections import deque
from collections.abc import Iterator
from pathlib import Path

import pytest
import usb.core

from drivers.printer.connection import open_printer, read_status
from drivers.printer.emulator import PrinterCondition
from drivers.printer.job import JobCause, run_job
from drivers.printer.status import PrinterState, StatusCause, last_status_byte

STATUS_TIMEOUT_S = 0.3
# A small job without DLE EOT in it, so the fake printers can tell it from status queries.
JOB = b"\x1b@" + "領収書 1,200円\n".encode("shift_jis") + b"\x1dV\x42\x00"
READY = PrinterCondition()
PAPER_END = PrinterCondition(paper_end=True)
COVER_OPEN = PrinterCondition(cover_open=True)
OFFLINE = PrinterCondition(offline=True)
SILENT = PrinterCondition(answers_status=False)


class StatusStream:
    """Splits the bytes a printer receives into DLE EOT queries and the rest (the job)."""

    def __init__(self) -> None:
        self.queries: list[int] = []
        self.job = bytearray()
        self._pending = b""

    def feed(self, data: bytes) -> list[int]:
        """Take received bytes; return the DLE EOT queries completed by them."""
        data = self._pending + data
        self._pending = b""
        completed: list[int] = []
        i = 0
        while i < len(data):
            if data[i : i + 2] in (b"\x10", b"\x10\x04") and i + 2 >= len(data):
                self._pending = data[i:]  # a query split across two reads
                break
            if data[i : i + 2] == b"\x10\x04":
                completed.append(data[i + 2])
                i += 3
                continue
            self.job.append(data[i])
            i += 1
        self.queries += completed
        return completed


class PtyPrinter:
    """A serial printer on the master side of a pty; ``url`` names the slave side."""

    def __init__(self) -> None:
        self.condition = PrinterCondition()
        self.stream = StatusStream()
        # Set to a condition to take it on once the first job bytes arrive.
        self.condition_on_job: PrinterCondition | None = None
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.url = f"serial://{os.ttyname(self._slave)}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="pty-printer", daemon=True)
        self._thread.start()

    def send_unrequested(self, data: bytes) -> None:
        """Put bytes on the line as if the printer had sent them earlier."""
        os.write(self._master, data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._master)
        os.close(self._slave)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], 0.05)
            if not ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:
                return
            had_job = len(self.stream.job)
            completed = self.stream.feed(data)
            if self.condition_on_job is not None and len(self.stream.job) > had_job:
                self.condition, self.condition_on_job = self.condition_on_job, None
            for n in completed:
                reply = self.condition.status_byte(n)
                if reply is not None:
                    os.write(self._master, bytes([reply]))


@pytest.fixture
def pty_printer() -> Iterator[PtyPrinter]:
    printer = PtyPrinter()
    yield printer
    printer.close()


def test_serial_ready_printer_reports_ok(pty_printer: PtyPrinter) -> None:
    status = read_status(pty_printer.url, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.OK
    assert pty_printer.stream.queries == [1, 2, 4]


@pytest.mark.parametrize(
    ("condition", "causes"),
    [
        (PAPER_END, {StatusCause.PAPER_END, StatusCause.PAPER_NEAR_END, StatusCause.OFFLINE}),
        (COVER_OPEN, {StatusCause.COVER_OPEN, StatusCause.OFFLINE}),
        (OFFLINE, {StatusCause.OFFLINE}),
    ],
)
def test_serial_faults_read_from_replies(
    pty_printer: PtyPrinter, condition: PrinterCondition, causes: set[StatusCause]
) -> None:
    pty_printer.condition = condition

    status = read_status(pty_printer.url, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.PROBLEM
    assert status.causes == causes


def test_serial_silent_printer_is_unknown(pty_printer: PtyPrinter) -> None:
    pty_printer.condition = SILENT

    status = read_status(pty_printer.url, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.UNKNOWN
    assert "no reply to DLE EOT 1" in status.detail


def test_serial_stale_input_discarded_and_timeout_restored(pty_printer: PtyPrinter) -> None:
    with open_printer(pty_printer.url) as connection:
        port = connection.printer.device
        port_timeout_s = port.timeout
        pty_printer.send_unrequested(b"\x00\x7e\x1a")
        # Let the stale bytes reach the port's input buffer before the query.
        select.select([port.fileno()], [], [], 1.0)

        status = connection.read_status(STATUS_TIMEOUT_S)

        assert status.state is PrinterState.OK
        assert port.timeout == port_timeout_s


def test_serial_job_printed_when_printer_confirms(pty_printer: PtyPrinter, tmp_path: Path) -> None:
    outcome = run_job(pty_printer.url, JOB, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert outcome.printed
    assert bytes(pty_printer.stream.job) == JOB
    assert pty_printer.stream.queries == [1, 2, 4, 1, 2, 4]


@pytest.mark.parametrize(
    ("condition", "cause"), [(PAPER_END, JobCause.PAPER_END), (COVER_OPEN, JobCause.COVER_OPEN)]
)
def test_serial_job_not_sent_while_printer_cannot_print(
    pty_printer: PtyPrinter, tmp_path: Path, condition: PrinterCondition, cause: JobCause
) -> None:
    pty_printer.condition = condition

    outcome = run_job(pty_printer.url, JOB, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is cause
    assert bytes(pty_printer.stream.job) == b""


def test_serial_paper_end_during_job_is_unprinted(pty_printer: PtyPrinter, tmp_path: Path) -> None:
    pty_printer.condition_on_job = PAPER_END

    outcome = run_job(pty_printer.url, JOB, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.PAPER_END
    assert "after the job" in outcome.detail
    assert bytes(pty_printer.stream.job) == JOB


def test_serial_silent_printer_job_is_unknown(pty_printer: PtyPrinter, tmp_path: Path) -> None:
    pty_printer.condition = SILENT

    outcome = run_job(pty_printer.url, JOB, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.UNKNOWN
    assert bytes(pty_printer.stream.job) == JOB


class FakeBackend:
    """Not libusb1, so python-escpos leaves kernel drivers alone."""


class FakeContext:
    def __init__(self) -> None:
        self.disposed = 0

    def dispose(self, _device: object) -> None:
        self.disposed += 1


class FakeUsbDevice:
    """A pyusb device that replies to DLE EOT on the IN endpoint as ``condition`` sets.

    ``prefix`` goes before every reply, as a USB-serial bridge's modem status bytes do.
    Reads return ``pending_packets`` in order, and each reply is appended to them. Every read
    raises ``read_error`` when it is set.
    """

    def __init__(self, in_ep: int = 0x82, out_ep: int = 0x01) -> None:
        self.in_ep = in_ep
        self.out_ep = out_ep
        self.condition = PrinterCondition()
        self.prefix = b""
        self.pending_packets: deque[bytes] = deque()
        self.read_error: OSError | None = None
        self.stream = StatusStream()
        self.read_timeouts_ms: list[int | None] = []
        self.backend = FakeBackend()
        self._ctx = FakeContext()

    def set_configuration(self) -> None:
        pass

    def reset(self) -> None:
        pass

    def write(self, endpoint: int, data: bytes, timeout: int | None = None) -> int:
        assert endpoint == self.out_ep
        for n in self.stream.feed(bytes(data)):
            reply = self.condition.status_byte(n)
            if reply is not None:
                self.pending_packets.append(self.prefix + bytes([reply]))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int | None = None) -> array[int]:
        assert endpoint == self.in_ep
        self.read_timeouts_ms.append(timeout)
        if self.read_error is not None:
            raise self.read_error
        if not self.pending_packets:
            raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
        return array("B", self.pending_packets.popleft()[:size])


USB_URL = "usb://04b8:0202"


@pytest.fixture
def usb_device(monkeypatch: pytest.MonkeyPatch) -> FakeUsbDevice:
    device = FakeUsbDevice()
    monkeypatch.setattr(usb.core, "find", lambda **_ids: device)
    return device


def test_usb_ready_printer_reports_ok(usb_device: FakeUsbDevice) -> None:
    status = read_status(USB_URL, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.OK
    assert usb_device.stream.queries == [1, 2, 4]


def test_usb_paper_end_read_from_replies(usb_device: FakeUsbDevice) -> None:
    usb_device.condition = PAPER_END

    status = read_status(USB_URL, STATUS_TIMEOUT_S)

    assert status.primary_cause is StatusCause.PAPER_END
    assert not status.can_print


def test_usb_reply_after_bridge_status_bytes(usb_device: FakeUsbDevice) -> None:
    usb_device.prefix = b"\x01\x60"
    usb_device.condition = COVER_OPEN

    status = read_status(USB_URL, STATUS_TIMEOUT_S)

    assert status.causes == {StatusCause.COVER_OPEN, StatusCause.OFFLINE}


def test_usb_stale_replies_discarded_before_query(usb_device: FakeUsbDevice) -> None:
    usb_device.pending_packets.extend([b"\x7e", b"\x1a"])

    status = read_status(USB_URL, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.OK


def test_usb_packet_without_status_byte_skipped(usb_device: FakeUsbDevice) -> None:
    with open_printer(USB_URL) as connection:
        original_write = usb_device.write

        def write_then_bridge_packet(endpoint: int, data: bytes, timeout: int | None = None) -> int:
            written = original_write(endpoint, data, timeout)
            usb_device.pending_packets.appendleft(b"\x01\x60")
            return written

        usb_device.write = write_then_bridge_packet
        status = connection.read_status(STATUS_TIMEOUT_S)

    assert status.state is PrinterState.OK


def test_usb_silent_printer_is_unknown_with_bounded_reads(usb_device: FakeUsbDevice) -> None:
    usb_device.condition = SILENT

    status = read_status(USB_URL, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.UNKNOWN
    assert "no reply to DLE EOT 1" in status.detail
    # pyusb waits for ever on a timeout of 0 or None.
    assert all(timeout is not None and timeout > 0 for timeout in usb_device.read_timeouts_ms)


def test_usb_read_error_is_unknown(usb_device: FakeUsbDevice) -> None:
    usb_device.read_error = usb.core.USBError("No such device", -4, errno.ENODEV)

    status = read_status(USB_URL, STATUS_TIMEOUT_S)

    assert status.state is PrinterState.UNKNOWN
    assert "reading status failed" in status.detail
    assert "No such device" in status.detail


def test_usb_job_printed_when_printer_confirms(usb_device: FakeUsbDevice, tmp_path: Path) -> None:
    outcome = run_job(USB_URL, JOB, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert outcome.printed
    assert bytes(usb_device.stream.job) == JOB
    assert usb_device.stream.queries == [1, 2, 4, 1, 2, 4]
    assert usb_device._ctx.disposed == 1


def test_usb_silent_printer_job_is_unknown(usb_device: FakeUsbDevice, tmp_path: Path) -> None:
    usb_device.condition = SILENT

    outcome = run_job(USB_URL, JOB, lock_dir=tmp_path, status_timeout_s=STATUS_TIMEOUT_S)

    assert not outcome.printed
    assert outcome.cause is JobCause.UNKNOWN
    assert bytes(usb_device.stream.job) == JOB


@pytest.mark.parametrize(
    ("data", "reply"),
    [
        (b"\x12", 0x12),
        (b"\x01\x60\x7e", 0x7E),
        (b"\x1a\x01\x60\x32", 0x32),
        (b"\x01\x60", None),
        (b"", None),
    ],
)
def test_last_status_byte_taken_from_packet(data: bytes, reply: int | None) -> None:
    assert last_status_byte(data) == reply


def test_file_printer_status_unknown_with_reason(tmp_path: Path) -> None:
    status = read_status(f"file://{tmp_path / 'lp0'}", STATUS_TIMEOUT_S)

    assert status.state is PrinterState.UNKNOWN
    assert "file printers" in status.detail
    assert "usb:// or serial://" in status.detail

