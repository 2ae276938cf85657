"""Parse an ESC/POS byte stream the way a Japanese Epson TM printer interprets it.

``StreamParser`` is fed bytes as they arrive (commands may be split across reads), keeps the
printer's state (character sets, Kanji mode, sizes, alignment) and emits one ``ReceivedJob`` per
cut, or when the stream ends with something printed. DLE EOT status requests are passed to a
callback as soon as they are parsed, because a printer replies to them in real time.

Text decoding: outside Kanji mode each byte is one ANK character (0x5C is ¥ under ESC R 8, and
0xA1-0xDF are half-width katakana under ESC t 1); inside FS & ... FS . a Shift_JIS lead byte and
the next byte form one double-byte character (cp932).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from drivers.printer.raster import unpack_raster
from drivers.printer.received import (
    CutMark,
    DrawerPulse,
    PrintedCell,
    PrintedImage,
    PrintedItem,
    PrintedLine,
    PrintedQr,
    ReceivedJob,
)

logger = logging.getLogger(__name__)

ESC, FS, GS, DLE = 0x1B, 0x1C, 0x1D, 0x10
LF, CR, HT = 0x0A, 0x0D, 0x09

_ALIGNMENTS = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}

# Commands that take one parameter byte and are only tracked or ignored.
_ESC_ONE_PARAMETER = frozenset(b"!-3EGJMRUVadert{")
_ESC_TWO_PARAMETERS = frozenset(b"$\\c")
_ESC_NO_PARAMETER = frozenset(b"2<")
_FS_ONE_PARAMETER = frozenset(b"!-CW")
_GS_ONE_PARAMETER = frozenset(b"!BHIafhrwb")
_GS_TWO_PARAMETERS = frozenset(b"$LPW\\")
_CUT_WITH_FEED = frozenset({65, 66, 97, 98, 103, 104})

_TAB_COLUMNS = 8
DEFAULT_QR_MODULE_DOTS = 3


@dataclass
class PrinterState:
    """Settings ESC @ resets."""

    international: int = 0
    code_page: int = 0
    kanji_code_system: int = 0
    kanji_mode: bool = False
    align: str = "left"
    bold: bool = False
    size_width: int = 1
    size_height: int = 1
    kanji_double_width: bool = False
    kanji_double_height: bool = False
    qr_module_dots: int = DEFAULT_QR_MODULE_DOTS
    qr_data: bytes = b""


@dataclass
class _Job:
    items: list[PrintedItem] = field(default_factory=list)
    raw: bytearray = field(default_factory=bytearray)
    line: list[PrintedCell] = field(default_factory=list)
    line_align: str = "left"


class StreamParser:
    """Turn the bytes of one connection into print jobs.

    ``on_job`` receives each finished job; ``on_status_request`` receives n of each DLE EOT n.
    """

    def __init__(
        self,
        columns: int,
        on_job: Callable[[ReceivedJob], None],
        on_status_request: Callable[[int], None] | None = None,
    ) -> None:
        self.columns = columns
        self.on_job = on_job
        self.on_status_request = on_status_request
        self.state = PrinterState()
        self._buffer = bytearray()
        self._job = _Job()
        self._cut_seen = False

    def feed(self, data: bytes) -> None:
        self._buffer += data
        position = 0
        while position < len(self._buffer):
            consumed = self._step(position)
            if consumed is None:
                break
            self._job.raw += self._buffer[position : position + consumed]
            position += consumed
            if self._cut_seen:
                self._cut_seen = False
                self._finish_job()
        del self._buffer[:position]

    def close(self) -> None:
        """End the stream: print a pending line and finish the job if anything was printed."""
        if self._buffer:
            logger.warning("Stream ended inside a command; %d bytes dropped", len(self._buffer))
            self._buffer.clear()
        self._flush_line(force=False)
        if self._job.items:
            self._finish_job()

    # Dispatch. Each handler returns the bytes it consumed, or None when more are needed.

    def _step(self, position: int) -> int | None:
        byte = self._buffer[position]
        if byte == ESC:
            return self._esc(position)
        if byte == FS:
            return self._fs(position)
        if byte == GS:
            return self._gs(position)
        if byte == DLE:
            return self._dle(position)
        if byte == LF:
            self._flush_line(force=True)
            return 1
        if byte == HT:
            self._tab()
            return 1
        if byte < 0x20 or byte == 0x7F:
            return 1
        return self._character(position)

    def _needs(self, position: int, length: int) -> bytes | None:
        if position + length > len(self._buffer):
            return None
        return bytes(self._buffer[position : position + length])

    def _esc(self, position: int) -> int | None:
        head = self._needs(position, 2)
        if head is None:
            return None
        command = head[1]
        if command == ord("@"):
            self._flush_line(force=False)
            self.state = PrinterState()
            return 2
        if command == ord("p"):
            return self._drawer(position)
        if command in _ESC_NO_PARAMETER:
            return 2
        if command in _ESC_TWO_PARAMETERS:
            return 4 if self._needs(position, 4) is not None else None
        if command not in _ESC_ONE_PARAMETER:
            logger.debug("Unknown command ESC 0x%02X skipped", command)
            return 2
        data = self._needs(position, 3)
        if data is None:
            return None
        self._esc_parameter(command, data[2])
        return 3

    def _esc_parameter(self, command: int, n: int) -> None:
        state = self.state
        if command == ord("R"):
            state.international = n
        elif command == ord("t"):
            state.code_page = n
        elif command == ord("a"):
            state.align = _ALIGNMENTS.get(n, state.align)
        elif command in (ord("E"), ord("G")):
            state.bold = bool(n & 1)
        elif command == ord("!"):
            state.bold = bool(n & 0x08)
            state.size_height = 2 if n & 0x10 else 1
            state.size_width = 2 if n & 0x20 else 1
        elif command == ord("d"):
            self._feed_lines(n)
        elif command == ord("J"):
            self._flush_line(force=False)

    def _drawer(self, position: int) -> int | None:
        data = self._needs(position, 5)
        if data is None:
            return None
        pin = 2 if data[2] in (0, 48) else 5
        self._job.items.append(DrawerPulse(pin=pin, on_ms=data[3] * 2, off_ms=data[4] * 2))
        return 5

    def _fs(self, position: int) -> int | None:
        head = self._needs(position, 2)
        if head is None:
            return None
        command = head[1]
        if command == ord("&"):
            self.state.kanji_mode = True
            return 2
        if command == ord("."):
            self.state.kanji_mode = False
            return 2
        if command not in _FS_ONE_PARAMETER:
            logger.debug("Unknown command FS 0x%02X skipped", command)
            return 2
        data = self._needs(position, 3)
        if data is None:
            return None
        if command == ord("C"):
            self.state.kanji_code_system = data[2]
        elif command == ord("!"):
            self.state.kanji_double_width = bool(data[2] & 0x04)
            self.state.kanji_double_height = bool(data[2] & 0x08)
        return 3

    def _gs(self, position: int) -> int | None:
        head = self._needs(position, 2)
        if head is None:
            return None
        command = head[1]
        if command == ord("("):
            return self._gs_paren(position)
        if command == ord("v"):
            return self._raster(position)
        if command == ord("V"):
            return self._cut(position)
        if command == ord("k"):
            return self._barcode(position)
        if command in _GS_TWO_PARAMETERS:
            return 4 if self._needs(position, 4) is not None else None
        if command not in _GS_ONE_PARAMETER:
            logger.debug("Unknown command GS 0x%02X skipped", command)
            return 2
        data = self._needs(position, 3)
        if data is None:
            return None
        if command == ord("!"):
            self.state.size_width = (data[2] >> 4 & 0x07) + 1
            self.state.size_height = (data[2] & 0x07) + 1
        return 3

    def _gs_paren(self, position: int) -> int | None:
        head = self._needs(position, 5)
        if head is None:
            return None
        length = head[3] | head[4] << 8
        data = self._needs(position, 5 + length)
        if data is None:
            return None
        if head[2] == ord("k") and length >= 2 and data[5] == 0x31:
            self._qr_function(data[6], data[7:])
        return 5 + length

    def _qr_function(self, fn: int, parameters: bytes) -> None:
        if fn == 0x43 and parameters:
            self.state.qr_module_dots = parameters[0]
        elif fn == 0x50 and parameters:
            self.state.qr_data = parameters[1:]
        elif fn == 0x51:
            self._flush_line(force=False)
            text = self.state.qr_data.decode("utf-8", errors="replace")
            self._job.items.append(PrintedQr(text, self.state.qr_module_dots, self.state.align))

    def _barcode(self, position: int) -> int | None:
        """Skip GS k: m 0-6 ends its data with NUL, m 65-79 gives the data length first."""
        head = self._needs(position, 4)
        if head is None:
            return None
        if head[2] >= 65:
            length = 4 + head[3]
            return length if self._needs(position, length) is not None else None
        end = self._buffer.find(b"\x00", position + 3)
        if end < 0:
            return None
        self._flush_line(force=False)
        return end + 1 - position

    def _raster(self, position: int) -> int | None:
        head = self._needs(position, 8)
        if head is None:
            return None
        if head[2] not in (0x30, 0x00):
            logger.debug("Unknown command GS v 0x%02X skipped", head[2])
            return 3
        width_bytes = head[4] | head[5] << 8
        rows = head[6] | head[7] << 8
        data = self._needs(position, 8 + width_bytes * rows)
        if data is None:
            return None
        self._flush_line(force=False)
        image = unpack_raster(width_bytes, rows, data[8:])
        scale_width = 2 if head[3] & 1 else 1
        scale_height = 2 if head[3] & 2 else 1
        if scale_width > 1 or scale_height > 1:
            image = image.resize((image.width * scale_width, image.height * scale_height))
        self._job.items.append(PrintedImage(image, self.state.align))
        return 8 + width_bytes * rows

    def _cut(self, position: int) -> int | None:
        head = self._needs(position, 3)
        if head is None:
            return None
        mode = head[2]
        length = 4 if mode in _CUT_WITH_FEED else 3
        data = self._needs(position, length)
        if data is None:
            return None
        self._flush_line(force=False)
        partial = mode in (1, 49, 66, 98, 104)
        extra_feed = data[3] if length == 4 else 0
        self._job.items.append(CutMark(partial=partial, extra_feed=extra_feed))
        self._cut_seen = True
        return length

    def _dle(self, position: int) -> int | None:
        head = self._needs(position, 2)
        if head is None:
            return None
        if head[1] != 0x04:
            return 1
        data = self._needs(position, 3)
        if data is None:
            return None
        if self.on_status_request is not None:
            self.on_status_request(data[2])
        return 3

    # Text.

    def _character(self, position: int) -> int | None:
        byte = self._buffer[position]
        if self.state.kanji_mode and _is_lead_byte(byte):
            pair = self._needs(position, 2)
            if pair is None:
                return None
            self._add_cell(pair.decode("cp932", errors="replace"), 2, kanji=True)
            return 2
        self._add_cell(self._decode_single(byte), 1, kanji=False)
        return 1

    def _decode_single(self, byte: int) -> str:
        if byte == 0x5C and self.state.international == 8:
            return "\u00a5"
        if byte < 0x80:
            return chr(byte)
        if self.state.code_page == 1:
            return bytes([byte]).decode("cp932", errors="replace")
        return bytes([byte]).decode("cp437", errors="replace")

    def _add_cell(self, char: str, columns: int, *, kanji: bool) -> None:
        state = self.state
        width_mult = state.size_width
        height_mult = state.size_height
        if kanji:
            width_mult = max(width_mult, 2 if state.kanji_double_width else 1)
            height_mult = max(height_mult, 2 if state.kanji_double_height else 1)
        cell = PrintedCell(char, columns, width_mult, height_mult, state.bold)

        used = sum(existing.width_columns for existing in self._job.line)
        if used + cell.width_columns > self.columns:
            self._flush_line(force=True)
        if not self._job.line:
            self._job.line_align = state.align
        self._job.line.append(cell)

    def _tab(self) -> None:
        used = sum(cell.width_columns for cell in self._job.line)
        spaces = _TAB_COLUMNS - used % _TAB_COLUMNS
        for _ in range(spaces):
            self._add_cell(" ", 1, kanji=False)

    def _flush_line(self, *, force: bool) -> None:
        """Print the pending line; with ``force`` an empty line is printed too (a bare LF)."""
        job = self._job
        if not job.line and not force:
            return
        align = job.line_align if job.line else self.state.align
        job.items.append(PrintedLine(tuple(job.line), align))
        job.line = []

    def _feed_lines(self, lines: int) -> None:
        self._flush_line(force=False)
        for _ in range(lines):
            self._job.items.append(PrintedLine((), self.state.align))

    def _finish_job(self) -> None:
        job = self._job
        self._job = _Job()
        self.on_job(ReceivedJob(items=job.items, raw=bytes(job.raw), columns=self.columns))


def _is_lead_byte(byte: int) -> bool:
    return 0x81 <= byte <= 0x9F or 0xE0 <= byte <= 0xFC

