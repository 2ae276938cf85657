"""Real-time printer status from DLE EOT replies.

DLE EOT n (10 04 n) makes an Epson printer return one byte at once, even while it is offline.
Every valid reply matches the bit pattern 0xx1xx10 (fixed bits 0x12). The bits read here:

- n=1 (printer): bit 3 offline.
- n=2 (offline cause): bit 2 cover open, bit 5 printing stopped by paper end.
- n=4 (roll paper sensor): bits 2-3 paper near end, bits 5-6 paper end.

So 0x12 is all clear, 0x1A to n=1 is offline, 0x32 to n=2 and 0x7E to n=4 are paper end.

The queries run over a connected socket (network printers), a pyserial port (serial printers)
or a pyusb device's bulk endpoints (USB printers). Each waits at most the given timeout, so a
printer that does not reply gives an unknown status instead of a hang.
"""

from __future__ import annotations

import errno
import socket
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from drivers.printer import commands

STATUS_QUERIES = (1, 2, 4)

_FIXED_MASK = 0x93
_FIXED_BITS = 0x12

_OFFLINE = 0x08  # n=1
_COVER_OPEN = 0x04  # n=2
_STOPPED_BY_PAPER_END = 0x20  # n=2
_NEAR_END = 0x0C  # n=4
_PAPER_END = 0x60  # n=4

# Bytes asked for in one USB bulk read. A read ends at the first short packet, so asking for
# more than a packet is safe, while asking for less than the device sends is an overflow error.
USB_READ_SIZE = 512
# How long one read waits while stale input is discarded, and the maximum number of such reads,
# because a USB-serial bridge may keep sending packets of its own status bytes.
_USB_DISCARD_TIMEOUT_MS = 20
_USB_DISCARD_READS = 8


class PrinterState(Enum):
    OK = "ok"
    PROBLEM = "problem"
    UNKNOWN = "unknown"


class StatusCause(Enum):
    """A reason the printer cannot print, or soon will not."""

    COVER_OPEN = "cover_open"
    PAPER_END = "paper_end"
    OFFLINE = "offline"
    PAPER_NEAR_END = "paper_near_end"


# The order in which causes are shown: the first is what the clerk should fix first.
CAUSE_PRIORITY = (
    StatusCause.COVER_OPEN,
    StatusCause.PAPER_END,
    StatusCause.OFFLINE,
    StatusCause.PAPER_NEAR_END,
)


@dataclass(frozen=True)
class PrinterStatus:
    """The printer's state, the causes of a problem, and why the state is unknown if it is."""

    state: PrinterState
    causes: frozenset[StatusCause] = field(default_factory=frozenset)
    detail: str = ""

    @classmethod
    def unknown(cls, detail: str) -> PrinterStatus:
        return cls(PrinterState.UNKNOWN, detail=detail)

    @property
    def primary_cause(self) -> StatusCause | None:
        for cause in CAUSE_PRIORITY:
            if cause in self.causes:
                return cause
        return None

    @property
    def can_print(self) -> bool:
        """True when the printer is ready, perhaps with its paper running low."""
        return self.state is PrinterState.OK or self.causes == {StatusCause.PAPER_NEAR_END}


def parse_status_byte(n: int, reply: int) -> frozenset[StatusCause] | None:
    """Return the causes in the reply to DLE EOT ``n``, or None if it is not a status byte."""
    if reply & _FIXED_MASK != _FIXED_BITS:
        return None
    causes: set[StatusCause] = set()
    if n == 1 and reply & _OFFLINE:
        causes.add(StatusCause.OFFLINE)
    if n == 2 and reply & _COVER_OPEN:
        causes.add(StatusCause.COVER_OPEN)
    if n == 2 and reply & _STOPPED_BY_PAPER_END:
        causes.add(StatusCause.PAPER_END)
    if n == 4 and reply & _NEAR_END:
        causes.add(StatusCause.PAPER_NEAR_END)
    if n == 4 and reply & _PAPER_END:
        causes.add(StatusCause.PAPER_END)
    return frozenset(causes)


def status_from_replies(replies: Mapping[int, int]) -> PrinterStatus:
    """Combine the replies to DLE EOT 1, 2 and 4 into one status."""
    causes: set[StatusCause] = set()
    for n in STATUS_QUERIES:
        if n not in replies:
            return PrinterStatus.unknown(f"no reply to DLE EOT {n}")
        parsed = parse_status_byte(n, replies[n])
        if parsed is None:
            return PrinterStatus.unknown(f"reply 0x{replies[n]:02X} to DLE EOT {n} is not a status byte")
        causes |= parsed
    if causes:
        return PrinterStatus(PrinterState.PROBLEM, frozenset(causes))
    return PrinterStatus(PrinterState.OK)


def query_socket_status(sock: socket.socket, timeout_s: float) -> PrinterStatus:
    """Send DLE EOT 1, 2 and 4 over a connected socket and read one reply byte to each."""
    previous_timeout = sock.gettimeout()
    try:
        _discard_pending(sock)
        replies: dict[int, int] = {}
        deadline = time.monotonic() + timeout_s
        for n in STATUS_QUERIES:
            sock.sendall(commands.realtime_status(n))
            reply = _receive_byte(sock, deadline)
            if reply is None:
                return PrinterStatus.unknown(f"no reply to DLE EOT {n} within {timeout_s:g} s")
            replies[n] = reply
        return status_from_replies(replies)
    finally:
        sock.settimeout(previous_timeout)


def _discard_pending(sock: socket.socket) -> None:
    """Drop bytes already waiting (late replies, Automatic Status Back blocks)."""
    sock.setblocking(False)
    try:
        while sock.recv(256):
            pass
    except (BlockingIOError, InterruptedError):
        pass
    finally:
        sock.setblocking(True)


def _receive_byte(sock: socket.socket, deadline: float) -> int | None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    sock.settimeout(remaining)
    try:
        data = sock.recv(1)
    except TimeoutError:
        return None
    return data[0] if data else None


class SerialPort(Protocol):
    """The part of pyserial's ``serial.Serial`` that the status query uses."""

    timeout: float | None

    def reset_input_buffer(self) -> None: ...

    def write(self, data: bytes, /) -> int | None: ...

    def read(self, size: int = 1, /) -> bytes: ...


def query_serial_status(port: SerialPort, timeout_s: float) -> PrinterStatus:
    """Send DLE EOT 1, 2 and 4 over an open serial port and read one reply byte to each.

    The port's read timeout is set for each read and restored afterwards.
    """
    previous_timeout = port.timeout
    try:
        port.reset_input_buffer()
        replies: dict[int, int] = {}
        deadline = time.monotonic() + timeout_s
        for n in STATUS_QUERIES:
            port.write(commands.realtime_status(n))
            reply = _read_serial_byte(port, deadline)
            if reply is None:
                return PrinterStatus.unknown(f"no reply to DLE EOT {n} within {timeout_s:g} s")
            replies[n] = reply
        return status_from_replies(replies)
    finally:
        port.timeout = previous_timeout


def _read_serial_byte(port: SerialPort, deadline: float) -> int | None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    port.timeout = remaining
    data = port.read(1)
    return data[0] if data else None


class UsbDevice(Protocol):
    """The part of pyusb's ``usb.core.Device`` that the status query uses.

    ``timeout`` is in milliseconds. pyusb waits without limit for 0, so the query never passes 0.
    """

    def write(self, endpoint: int, data: bytes, timeout: int | None = None) -> int: ...

    def read(self, endpoint: int, size_or_buffer: int, timeout: int | None = None) -> Sequence[int]: ...


def query_usb_status(device: UsbDevice, in_ep: int, out_ep: int, timeout_s: float) -> PrinterStatus:
    """Send DLE EOT 1, 2 and 4 to a USB printer's OUT endpoint and read each reply from IN.

    A USB timeout while waiting for a reply gives an unknown status. Other USB errors propagate
    as the OSError (``usb.core.USBError``) that pyusb raised.
    """
    deadline = time.monotonic() + timeout_s
    _discard_usb_input(device, in_ep, deadline)
    replies: dict[int, int] = {}
    for n in STATUS_QUERIES:
        reply = _ask_usb(device, in_ep, out_ep, n, deadline)
        if reply is None:
            return PrinterStatus.unknown(f"no reply to DLE EOT {n} within {timeout_s:g} s")
        replies[n] = reply
    return status_from_replies(replies)


def last_status_byte(data: Sequence[int]) -> int | None:
    """Return the last byte of ``data`` with the fixed bits of a status reply, or None.

    A USB printer does not always send the reply byte alone. A printer behind an FTDI USB-serial
    bridge gets the bridge's two modem status bytes put before the data of every packet. A
    packet may also contain an Automatic Status Back block or a late reply to an earlier query.
    All of those come before the reply to the query just sent, so the last byte with the
    pattern 0xx1xx10 is that reply.
    """
    for byte in reversed(data):
        if byte & _FIXED_MASK == _FIXED_BITS:
            return byte
    return None


def _ask_usb(device: UsbDevice, in_ep: int, out_ep: int, n: int, deadline: float) -> int | None:
    """Send DLE EOT ``n`` and return the status byte of the reply, or None on a timeout.

    Packets without a status byte (a bridge's modem status alone) are skipped until one
    arrives or the time is up.
    """
    try:
        timeout_ms = _remaining_ms(deadline)
        if timeout_ms == 0:
            return None
        device.write(out_ep, commands.realtime_status(n), timeout_ms)
        while (timeout_ms := _remaining_ms(deadline)) > 0:
            reply = last_status_byte(device.read(in_ep, USB_READ_SIZE, timeout_ms))
            if reply is not None:
                return reply
    except OSError as exc:
        if _is_timeout(exc):
            return None
        raise
    return None


def _discard_usb_input(device: UsbDevice, in_ep: int, deadline: float) -> None:
    """Drop replies and status blocks that arrived before this query."""
    for _ in range(_USB_DISCARD_READS):
        timeout_ms = min(_USB_DISCARD_TIMEOUT_MS, _remaining_ms(deadline))
        if timeout_ms == 0:
            return
        try:
            if not device.read(in_ep, USB_READ_SIZE, timeout_ms):
                return
        except OSError as exc:
            if _is_timeout(exc):
                return
            raise


def _remaining_ms(deadline: float) -> int:
    """Milliseconds left until ``deadline``, rounded up, or 0 when none are left."""
    remaining_s = deadline - time.monotonic()
    if remaining_s <= 0:
        return 0
    return max(1, int(remaining_s * 1000 + 0.999))


def _is_timeout(exc: OSError) -> bool:
    # Every pyusb backend (1.3.1) raises usb.core.USBTimeoutError with errno ETIMEDOUT for a timeout.
    return isinstance(exc, TimeoutError) or exc.errno == errno.ETIMEDOUT
