"""Tell keyboard-wedge scans from human typing by the timing of key events.

A wedge scanner is a USB keyboard to the host: it types the code one key every 1-10 ms and
ends it with a suffix (Enter by default). People type at more than 80 ms per key. The detector
receives every key event of the focused window, in order, and holds keys back while they arrive
faster than ``max_interkey_ms``. A held burst that ends with the suffix and has at least
``min_length`` characters (not counting prefix and suffix) is a scan. Anything else is handed
back as ``passthrough`` text, for the UI to deliver to the focused widget as if typed.

The detector has no timer. A key typed by a person stays held until the next key arrives or
until the UI calls ``flush()`` at ``pending_deadline_ms()``, which is ``max_interkey_ms`` after
the last key, so people see their key at most that much later.

Scanners often send one suffix too many: CR LF where Enter was configured, or Enter twice. A
terminator character arriving within ``max_interkey_ms`` of a completed scan is dropped. A
scanner in continuous mode reads a code again while it stays in view, so the same text again
within ``repeat_window_ms`` of the previous read is also dropped.

Timestamps are milliseconds from any monotonic clock: key event times mapped by the Qt filter,
or the kernel's input event times in the evdev reader.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from drivers.scanner.base import Layout, ScanError, ScanResult, ScanSource, normalize_scan

logger = logging.getLogger(__name__)

SUFFIXES = {"enter": "\r", "tab": "\t", "cr": "\r", "lf": "\n", "crlf": "\r\n"}
TERMINATORS = frozenset("\r\n\t")
# A payment code paired with a coupon, the longest code read here, has at most 803 characters
# (terminal.coupon_pairing), and an EMV payload at most 512. A burst longer than that plus
# prefix and suffix is a stuck key or an automated paste, so it is not a scan.
MAX_BURST_LENGTH = 900


@dataclass(frozen=True)
class WedgeOutput:
    """The result of one key event: text for the focused widget, a scan, or a rejected scan."""

    passthrough: str = ""
    scan: ScanResult | None = None
    error: ScanError | None = None

    def merged(self, later: WedgeOutput) -> WedgeOutput:
        return WedgeOutput(
            passthrough=self.passthrough + later.passthrough,
            scan=later.scan or self.scan,
            error=later.error or self.error,
        )


@dataclass
class _Burst:
    chars: list[str] = field(default_factory=list)
    last_ms: float = 0.0

    @property
    def text(self) -> str:
        return "".join(self.chars)


class WedgeDetector:
    """Splits a stream of key events into scans and typing. See the module docstring."""

    def __init__(
        self,
        *,
        prefix: str = "",
        suffix: str = "enter",
        max_interkey_ms: float = 30,
        min_length: int = 6,
        layout: Layout = "same",
        repeat_window_ms: float = 1500,
        source: ScanSource = "wedge",
    ) -> None:
        if suffix not in SUFFIXES:
            raise ValueError(f"scanner suffix {suffix!r} is not one of {', '.join(SUFFIXES)}")
        self.prefix = prefix
        self.suffix = SUFFIXES[suffix]
        self.max_interkey_ms = max_interkey_ms
        self.min_length = min_length
        self.layout: Layout = layout
        self.repeat_window_ms = repeat_window_ms
        self.source: ScanSource = source

        self._burst = _Burst()
        self._scan_end_ms: float | None = None
        self._last_scan: tuple[str, float] | None = None

    def feed(self, key_text: str, timestamp_ms: float) -> WedgeOutput:
        """Take the text of one key event; an event without text (a modifier) is ignored."""
        output = WedgeOutput()
        for char in key_text:
            output = output.merged(self._feed_char(char, timestamp_ms))
        return output

    def feed_enter(self, timestamp_ms: float) -> WedgeOutput:
        """Take an Enter or Return key event, which is CR for the suffix."""
        return self.feed("\r", timestamp_ms)

    def flush(self, now_ms: float) -> WedgeOutput:
        """Hand back held keys once no key has followed them within ``max_interkey_ms``."""
        if self._burst.chars and now_ms - self._burst.last_ms > self.max_interkey_ms:
            return WedgeOutput(passthrough=self._take_burst())
        return WedgeOutput()

    def pending_deadline_ms(self) -> float | None:
        """Return the time to call ``flush()``, or None when no key is held."""
        if not self._burst.chars:
            return None
        return self._burst.last_ms + self.max_interkey_ms + 1

    # --- one character -----------------------------------------------------------------

    def _feed_char(self, char: str, timestamp_ms: float) -> WedgeOutput:
        passthrough = ""
        if self._burst.chars and timestamp_ms - self._burst.last_ms > self.max_interkey_ms:
            passthrough = self._take_burst()

        if not self._burst.chars and char in TERMINATORS and self._follows_scan(timestamp_ms):
            self._scan_end_ms = timestamp_ms
            return WedgeOutput(passthrough=passthrough)

        self._burst.chars.append(char)
        self._burst.last_ms = timestamp_ms
        text = self._burst.text

        if text.endswith(self.suffix):
            return WedgeOutput(passthrough=passthrough).merged(self._end_burst(timestamp_ms))
        if len(text) > MAX_BURST_LENGTH or (char in TERMINATORS and not self._suffix_may_follow()):
            passthrough += self._take_burst()
        return WedgeOutput(passthrough=passthrough)

    def _follows_scan(self, timestamp_ms: float) -> bool:
        return (
            self._scan_end_ms is not None
            and timestamp_ms - self._scan_end_ms <= self.max_interkey_ms
        )

    def _suffix_may_follow(self) -> bool:
        # With a CR LF suffix, the CR alone is the start of the suffix, not the end of a burst.
        text = self._burst.text
        return any(text.endswith(self.suffix[:cut]) for cut in range(1, len(self.suffix)))

    def _take_burst(self) -> str:
        text = self._burst.text
        self._burst = _Burst()
        return text

    # --- a complete burst --------------------------------------------------------------

    def _end_burst(self, timestamp_ms: float) -> WedgeOutput:
        """Decide whether the burst that just received its suffix is a scan."""
        text = self._take_burst()
        body = text[: -len(self.suffix)]
        if not body.startswith(self.prefix) or len(body) - len(self.prefix) < self.min_length:
            return WedgeOutput(passthrough=text)

        self._scan_end_ms = timestamp_ms
        try:
            scanned = normalize_scan(body[len(self.prefix) :], self.layout)
        except ScanError as exc:
            logger.warning("rejected a scan of %d characters: %s", len(body), exc)
            return WedgeOutput(error=exc)

        if self._is_repeat(scanned, timestamp_ms):
            logger.debug("dropped a repeated scan of %d characters", len(scanned))
            return WedgeOutput()
        self._last_scan = (scanned, timestamp_ms)
        return WedgeOutput(scan=ScanResult(text=scanned, source=self.source))

    def _is_repeat(self, scanned: str, timestamp_ms: float) -> bool:
        if self._last_scan is None:
            return False
        last_text, last_ms = self._last_scan
        if scanned != last_text or timestamp_ms - last_ms > self.repeat_window_ms:
            return False
        # Counting from the latest read keeps a code that stays under the scanner from
        # registering again every repeat_window_ms.
        self._last_scan = (scanned, timestamp_ms)
        return True
