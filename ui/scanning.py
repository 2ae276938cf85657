"""The application-wide key filter that takes keyboard-wedge scans wherever focus is.

``ScanFilter`` is installed on the QApplication. It hands the text of every key press to
``drivers.scanner.wedge.WedgeDetector`` and swallows the event, so neither a scan nor a stray
key ever reaches a widget. The detector decides afterwards. A fast burst ending with the suffix
becomes ``scanned``, and keys typed at human speed come back as ``typed`` at most
``max_interkey_ms`` late. The terminal has no text fields, so no widget needs raw key text.

Keys without text (arrows, Escape, function keys) pass through untouched.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

from drivers.scanner.base import KanaInputError, ScanError
from drivers.scanner.wedge import WedgeDetector, WedgeOutput
from terminal import messages
from terminal.config import ScannerConfig

log = logging.getLogger(__name__)

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
BACKSPACE = "\b"


def detector_for(config: ScannerConfig) -> WedgeDetector:
    return WedgeDetector(
        prefix=config.prefix,
        suffix=config.suffix,
        max_interkey_ms=config.max_interkey_ms,
        min_length=config.min_length,
        layout=config.layout,
        repeat_window_ms=config.repeat_window_ms,
    )


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class ScanFilter(QObject):
    """Splits key presses into scans and typing; see the module docstring."""

    scanned = Signal(str)
    typed = Signal(str)  # one character typed at human speed, or "\b" for backspace
    rejected = Signal(str)  # the terminal.messages key for a scan that cannot be used

    def __init__(self, detector: WedgeDetector, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._detector = detector
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
        # Reception time, not event.timestamp(), because events sent by tests and by the demo's
        # simulated scanner carry no window-system timestamp.
        # NOTE: when the GUI thread stalls while a person types, their queued keys arrive as a
        # burst. Unless the burst ends with the suffix it is still delivered as typing.
        now_ms = _now_ms()
        if event.key() in ENTER_KEYS:
            self._handle(self._detector.feed_enter(now_ms))
            return True
        if event.key() == Qt.Key.Key_Backspace:
            self._handle(self._detector.flush(now_ms))
            self.typed.emit(BACKSPACE)
            return True
        text = event.text()
        if not text or not text.isprintable():
            return False
        self._handle(self._detector.feed(text, now_ms))
        return True

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
