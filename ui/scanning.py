"""The application-wide key filter that takes keyboard-wedge scans wherever focus is.

``ScanFilter`` is installed on the QApplication. It hands the text of every key press to
``drivers.scanner.wedge.WedgeDetector`` and swallows the event, so neither a scan nor a stray
key ever reaches a widget. The detector decides afterwards. A fast burst ending with the suffix
becomes ``scanned``, and keys typed at human speed come back as ``typed`` at most
``max_interkey_ms`` late. The terminal has no text fields, so no widget needs raw key text.

Key times come from the window system's event timestamps where events carry one (X11 and
Wayland stamp each key when it happened), so keys queued while the GUI thread was busy keep
their real gaps. ``KeyClock`` explains the mapping.

Keys without text (arrows, Escape, function keys) pass through untouched. Tab and line feed
(Ctrl+J) pass through too unless they may end a scan.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from drivers.scanner.base import KanaInputError, ScanError, ScanSource
from drivers.scanner.wedge import TERMINATORS, WedgeDetector, WedgeOutput
from terminal import messages
from terminal.config import ScannerConfig

log = logging.getLogger(__name__)

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
BACKSPACE = "\b"


# A key that maps further from its arrival than these limits has a timestamp from a clock with
# another origin, or one that jumped, so the mapping is measured again from that key. Keys queued
# behind a stalled GUI thread arrive late, so the limit behind is the larger one. A key mapped
# ahead of its arrival flushes typed keys that much later, so that limit is kept short.
KEY_CLOCK_MAX_AHEAD_MS = 1_000.0
KEY_CLOCK_MAX_BEHIND_MS = 10_000.0


def detector_for(config: ScannerConfig, source: ScanSource = "wedge") -> WedgeDetector:
    """Build the burst detector for the ``[scanner]`` settings.

    The evdev reader translates key codes with the scanner's own layout, so no layout repair
    applies to it.
    """
    return WedgeDetector(
        prefix=config.prefix,
        suffix=config.suffix,
        max_interkey_ms=config.max_interkey_ms,
        min_length=config.min_length,
        layout="same" if source == "evdev" else config.layout,
        repeat_window_ms=config.repeat_window_ms,
        source=source,
    )


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class KeyClock:
    """Places key events on the monotonic clock while keeping the gaps between their timestamps.

    Window-system timestamps count milliseconds from an origin of their own. The first stamped
    key fixes the offset to the monotonic clock, so later keys keep the exact gaps the window
    system saw, even when they arrive together after a stall. A key without a timestamp (zero,
    as in events that tests and the demo send) gets its arrival time.
    """

    def __init__(self) -> None:
        self._offset_ms: float | None = None

    def time_of(self, timestamp_ms: int) -> float:
        now_ms = _now_ms()
        if timestamp_ms <= 0:
            return now_ms
        offset_ms = self._offset_ms
        if offset_ms is None or not self._within_limits(timestamp_ms + offset_ms, now_ms):
            offset_ms = self._offset_ms = now_ms - timestamp_ms
        return timestamp_ms + offset_ms

    @staticmethod
    def _within_limits(mapped_ms: float, now_ms: float) -> bool:
        ahead_ms = mapped_ms - now_ms
        return -KEY_CLOCK_MAX_BEHIND_MS <= ahead_ms <= KEY_CLOCK_MAX_AHEAD_MS


class ScanFilter(QObject):
    """Splits key presses into scans and typing; see the module docstring."""

    scanned = Signal(str)
    typed = Signal(str)  # one character typed at human speed, or "\b" for backspace
    rejected = Signal(str)  # the terminal.messages key for a scan that cannot be used
    # The text of every key the filter takes, "\r" for Enter, before the detector decides;
    # the technician's scan test shows it.
    key_received = Signal(str)

    def __init__(self, detector: WedgeDetector, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._detector = detector
        self._clock = KeyClock()
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.timeout.connect(self._flush)

    def install(self, app: QCoreApplication) -> None:
        app.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
        # The window system delivers a key to the QWindow first, which forwards it to the focus
        # widget. Filtering at the widget receives each key once, whether it came from a
        # keyboard or was sent or posted to a widget.
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWidget):
            return False
        assert isinstance(event, QKeyEvent)
        return self.take_key(event)

    def take_key(self, event: QKeyEvent) -> bool:
        """Feed one key press to the detector; True when the event must not reach a widget."""
        now_ms = self._clock.time_of(event.timestamp())
        if event.key() in ENTER_KEYS:
            self.key_received.emit("\r")
            self._handle(self._detector.feed_enter(now_ms))
            return True
        if event.key() == Qt.Key.Key_Backspace:
            self._handle(self._detector.flush(now_ms))
            self.typed.emit(BACKSPACE)
            return True
        text = "\t" if event.key() == Qt.Key.Key_Tab else event.text()
        if text in TERMINATORS and self._may_end_scan(text):
            self.key_received.emit(text)
            self._handle(self._detector.feed(text, now_ms))
            return True
        if not text or not text.isprintable():
            return False
        self.key_received.emit(text)
        self._handle(self._detector.feed(text, now_ms))
        return True

    def _may_end_scan(self, terminator: str) -> bool:
        # Tab and line feed (Ctrl+J) reach the detector only as part of the configured suffix or
        # while keys are held, so Tab still moves the focus between widgets.
        holding_keys = self._detector.pending_deadline_ms() is not None
        return terminator in self._detector.suffix or holding_keys

    def _flush(self) -> None:
        self._handle(self._detector.flush(_now_ms()))

    def _handle(self, output: WedgeOutput) -> None:
        for char in output.passthrough:
            self.typed.emit(char)
        if output.error is not None:
            self._reject(output.error)
        if output.scan is not None:
            log.info("scan of %d characters", len(output.scan.text))
            self.scanned.emit(output.scan.text)
        self._schedule_flush()

    def _reject(self, error: ScanError) -> None:
        log.info("scan rejected: %s", error)
        key = messages.SCANNER_KANA_MODE if isinstance(error, KanaInputError) else messages.CODE_MALFORMED
        self.rejected.emit(key)

    def _schedule_flush(self) -> None:
        deadline_ms = self._detector.pending_deadline_ms()
        if deadline_ms is None:
            self._flush_timer.stop()
            return
        self._flush_timer.start(max(0, int(deadline_ms - _now_ms()) + 1))
