"""Cut the byte stream of a serial or USB CDC scanner into scans.

A serial scanner sends each code as bytes followed by a terminator (its "suffix" setting): CR,
LF, CR LF, Tab or ETX, or nothing at all. Reads from the port return whatever has arrived, so one
code may come in several reads and one read may hold several codes. ``SerialFramer`` buffers the
bytes, cuts frames at the terminator and turns each frame into a ``ScanResult`` or a rejection:

1. CR, LF, Tab, STX and ETX at either end of a frame are framing, not data, and are removed. A
   doubled terminator (CR CR, or CR LF where CR is configured) therefore leaves an empty frame,
   which is dropped.
2. The frame must be UTF-8 without control characters, else ``UnreadableDataError``. Garbage
   bytes usually mean the scanner's baud rate differs from ``scanner.baudrate``.
3. ``prefix`` is removed where a frame starts with it. A frame without it is still used, because
   there is no typing to tell apart from scans as there is for a keyboard wedge.
4. ``normalize_scan`` applies the same repairs and kana rejection as for the wedge path.
5. The same text again within ``repeat_window_s`` of the previous read is dropped, as a
   scanner in continuous mode reads a code again while it stays in view.

With ``terminator="none"`` a frame ends when no byte has arrived for ``inter_byte_timeout_s``.
With a terminator, bytes that wait longer than ``unterminated_timeout_s`` without one, or grow
past ``max_frame_bytes``, are rejected with ``UnterminatedDataError``. The rest of a line that
grew too long is discarded up to the next terminator, or with ``"none"`` up to the next silence.

Times are seconds from a monotonic clock. The framer does no I/O and never sleeps.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Literal

from drivers.scanner.base import ScanError, ScanResult, normalize_scan

logger = logging.getLogger(__name__)

Terminator = Literal["any", "cr", "lf", "crlf", "tab", "etx", "none"]

# "any" ends a frame at the first of CR, LF, Tab or ETX, so it reads scanners set to any of them.
TERMINATOR_BYTES: dict[Terminator, bytes] = {
    "cr": b"\r",
    "lf": b"\n",
    "crlf": b"\r\n",
    "tab": b"\t",
    "etx": b"\x03",
}
ANY_TERMINATOR = frozenset(b"\r\n\t\x03")
FRAMING_BYTES = b"\r\n\t\x02\x03"
# GS1 codes separate fields with GS (FNC1), and ISO/IEC 15434 messages use RS, GS and EOT, so
# these control characters are data. Every other C0 control character and DEL is not.
DATA_CONTROL_CHARS = frozenset("\x04\x1d\x1e")

# A QR Code encodes at most 2,953 bytes (version 40, error correction L, ISO/IEC 18004), so a
# longer line without a terminator is not one code.
MAX_FRAME_BYTES = 4096
# USB serial adapters hold received bytes for up to 16 ms before passing them on (the FTDI
# latency timer default), so a gap of 50 ms ends a frame without cutting one in two.
INTER_BYTE_TIMEOUT_S = 0.05
# Even at 9600 baud a scanner sends about 960 bytes a second without pause, so bytes that wait a
# whole second for their terminator will not get one.
UNTERMINATED_TIMEOUT_S = 1.0


class SerialDataError(ScanError):
    """Bytes from a serial scanner that are not a usable scan."""


class UnreadableDataError(SerialDataError):
    """The bytes are not UTF-8 text, or contain control characters such as NUL."""


class UnterminatedDataError(SerialDataError):
    """The bytes never got their terminator: too long, or followed by silence."""


FrameOutput = ScanResult | ScanError


@dataclass(frozen=True)
class FramingSettings:
    """The terminator, prefix, timeouts and limits that cut a scanner's bytes into codes."""

    terminator: Terminator = "any"
    prefix: str = ""
    inter_byte_timeout_s: float = INTER_BYTE_TIMEOUT_S
    unterminated_timeout_s: float = UNTERMINATED_TIMEOUT_S
    repeat_window_s: float = 1.5
    max_frame_bytes: int = MAX_FRAME_BYTES

    def __post_init__(self) -> None:
        if self.terminator not in (*TERMINATOR_BYTES, "any", "none"):
            raise ValueError(f"serial terminator {self.terminator!r} is not supported")


@dataclass
class SerialFramer:
    """Turns reads from a serial scanner into scans and rejections; see the module docstring."""

    settings: FramingSettings = field(default_factory=FramingSettings)
    _buffer: bytearray = field(default_factory=bytearray)
    _last_byte_s: float = 0.0
    _discarding: bool = False
    _last_scan: tuple[str, float] | None = None

    def feed(self, data: bytes, now_s: float) -> list[FrameOutput]:
        """Take the bytes of one read and return the scans and rejections they complete."""
        outputs = self.expire(now_s)
        if not data:
            return outputs
        self._buffer.extend(data)
        self._last_byte_s = now_s

        if self.settings.terminator != "none":
            outputs.extend(self._cut_frames(now_s))
        if len(self._buffer) > self.settings.max_frame_bytes:
            if not self._discarding:
                outputs.append(self._reject_overlong(len(self._buffer)))
            self._buffer.clear()
            self._discarding = True
        return outputs

    def expire(self, now_s: float) -> list[FrameOutput]:
        """End or reject a frame after silence; call it whenever a read returns nothing."""
        if not self._buffer and not self._discarding:
            return []
        silent_s = now_s - self._last_byte_s
        if self.settings.terminator == "none":
            if silent_s < self.settings.inter_byte_timeout_s:
                return []
            return self._end_frame(self._take_buffer(), now_s)
        if silent_s < self.settings.unterminated_timeout_s:
            return []
        return self._reject_unterminated()

    # --- cutting ----------------------------------------------------------------------

    def _cut_frames(self, now_s: float) -> list[FrameOutput]:
        outputs: list[FrameOutput] = []
        while True:
            cut = self._find_terminator()
            if cut is None:
                return outputs
            end, length = cut
            frame = bytes(self._buffer[:end])
            del self._buffer[: end + length]
            outputs.extend(self._end_frame(frame, now_s))

    def _find_terminator(self) -> tuple[int, int] | None:
        """Return the offset and length of the first terminator in the buffer."""
        if self.settings.terminator == "any":
            end = next((i for i, byte in enumerate(self._buffer) if byte in ANY_TERMINATOR), -1)
            return (end, 1) if end >= 0 else None
        terminator = TERMINATOR_BYTES[self.settings.terminator]
        end = self._buffer.find(terminator)
        return (end, len(terminator)) if end >= 0 else None

    def _take_buffer(self) -> bytes:
        frame = bytes(self._buffer)
        self._buffer.clear()
        return frame

    def _end_frame(self, frame: bytes, now_s: float) -> list[FrameOutput]:
        if self._discarding:
            # The tail of a line already rejected as too long ends here.
            self._discarding = False
            return []
        if len(frame) > self.settings.max_frame_bytes:
            # The whole line, terminator included, came in one read.
            return [self._reject_overlong(len(frame))]
        output = self._decode_frame(frame.strip(FRAMING_BYTES), now_s)
        return [] if output is None else [output]

    # --- rejections without a frame ---------------------------------------------------

    def _reject_overlong(self, size: int) -> UnterminatedDataError:
        error = UnterminatedDataError(
            f"a line of {size} bytes is longer than the {self.settings.max_frame_bytes} bytes "
            f"a code can have, so its terminator was missed; {self._terminator_advice()}"
        )
        logger.warning("rejected serial scanner data: %s", error)
        return error

    def _reject_unterminated(self) -> list[FrameOutput]:
        if self._discarding:
            self._buffer.clear()
            self._discarding = False
            return []
        frame = self._take_buffer()
        if not frame.strip(FRAMING_BYTES):
            # A lone CR or LF left over from a CR LF suffix when only one of them is configured.
            return []
        error = UnterminatedDataError(
            f"{len(frame)} bytes arrived without a terminator and nothing followed for "
            f"{self.settings.unterminated_timeout_s:g} s; {self._terminator_advice()}"
        )
        logger.warning("rejected serial scanner data: %s", error)
        return [error]

    def _terminator_advice(self) -> str:
        return (
            f"set the scanner's suffix to match scanner.terminator = "
            f'"{self.settings.terminator}", and check that the scanner sends at '
            f"scanner.baudrate"
        )

    # --- one frame --------------------------------------------------------------------

    def _decode_frame(self, frame: bytes, now_s: float) -> FrameOutput | None:
        """Return the scan in ``frame``, its rejection, or None when it is empty or a repeat."""
        if not frame:
            logger.debug("dropped an empty serial frame (a doubled terminator)")
            return None
        try:
            text = check_text(frame)
            if self.settings.prefix and text.startswith(self.settings.prefix):
                text = text[len(self.settings.prefix) :]
            scanned = normalize_scan(text)
        except ScanError as exc:
            logger.warning("rejected a serial scan of %d bytes: %s", len(frame), exc)
            return exc

        if self._is_repeat(scanned, now_s):
            logger.debug("dropped a repeated serial scan of %d characters", len(scanned))
            return None
        self._last_scan = (scanned, now_s)
        return ScanResult(text=scanned, source="serial")

    def _is_repeat(self, scanned: str, now_s: float) -> bool:
        if self._last_scan is None:
            return False
        last_text, last_s = self._last_scan
        if scanned != last_text or now_s - last_s > self.settings.repeat_window_s:
            return False
        # Counting from the latest read keeps a code that stays in view from registering again
        # every repeat_window_s.
        self._last_scan = (scanned, now_s)
        return True


def check_text(frame: bytes) -> str:
    """Decode ``frame`` as UTF-8 text; raise UnreadableDataError naming the first bad byte."""
    try:
        text = frame.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = frame[exc.start]
        raise UnreadableDataError(
            f"byte 0x{bad:02x} at offset {exc.start} of {len(frame)} is not valid UTF-8; "
            "check that the scanner's baud rate matches scanner.baudrate"
        ) from exc

    for offset, char in enumerate(text):
        if char not in DATA_CONTROL_CHARS and unicodedata.category(char) == "Cc":
            raise UnreadableDataError(
                f"control character {_char_name(char)} at offset {offset} of {len(text)} is not "
                "part of a code; check that the scanner's baud rate matches scanner.baudrate"
            )
    return text


def _char_name(char: str) -> str:
    names = {"\x00": "NUL (0x00)", "\x7f": "DEL (0x7f)"}
    return names.get(char, f"0x{ord(char):02x}")
