"""Real-time printer status from DLE EOT replies.

DLE EOT n (10 04 n) makes an Epson printer return one byte at once, even while it is offline.
Every valid reply matches the bit pattern 0xx1xx10 (fixed bits 0x12). The bits read here:

- n=1 (printer): bit 3 offline.
- n=2 (offline cause): bit 2 cover open, bit 5 printing stopped by paper end.
- n=4 (roll paper sensor): bits 2-3 paper near end, bits 5-6 paper end.

So 0x12 is all clear, 0x1A to n=1 is offline, 0x32 to n=2 and 0x7E to n=4 are paper end.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from drivers.printer import commands

STATUS_QUERIES = (1, 2, 4)

_FIXED_MASK = 0x93
_FIXED_BITS = 0x12

_OFFLINE = 0x08  # n=1
_COVER_OPEN = 0x04  # n=2
_STOPPED_BY_PAPER_END = 0x20  # n=2
_NEAR_END = 0x0C  # n=4
_PAPER_END = 0x60  # n=4


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
