"""Serial and USB CDC scanners in the Qt application.

``SerialScanning`` runs a ``drivers.scanner.serial_reader.SerialScanner`` and emits what it
reads as the same signals as the keyboard-wedge ``ScanFilter``: ``scanned`` with the code and
``rejected`` with a ``terminal.messages`` key. The reader calls back on its own thread, and a
private queued signal carries each call to the thread that owns the adapter (the GUI thread),
so the public signals are only ever emitted there.

``connection_changed`` carries a ``terminal.messages`` key each time the scanner is connected or
disconnected. ``ScannerStateLine`` shows it to the clerk: a red line stays up while the scanner
is away, and a short confirmation follows when it is back.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel, QMainWindow, QStatusBar, QWidget

from drivers.scanner.base import KanaInputError, ScanError, ScanResult
from drivers.scanner.serial_framing import (
    FramingSettings,
    UnreadableDataError,
    UnterminatedDataError,
)
from drivers.scanner.serial_ports import BY_ID_DIR
from drivers.scanner.serial_reader import (
    RETRY_DELAYS_S,
    ScannerState,
    SerialScanner,
    SerialSettings,
)
from terminal import messages
from terminal.config import ScannerConfig
from terminal.protocol import ErrorCode
from ui.errors import clerk_message
from ui.scanning import ScanFilter

log = logging.getLogger(__name__)

# How long "the scanner is connected" stays up after a reconnection.
CONNECTED_SHOWN_MS = 4000


def serial_settings_for(config: ScannerConfig) -> SerialSettings:
    """Build the reader's settings from the ``[scanner]`` table."""
    framing = FramingSettings(
        terminator=config.terminator,
        prefix=config.prefix,
        inter_byte_timeout_s=config.inter_byte_timeout_ms / 1000,
        repeat_window_s=config.repeat_window_ms / 1000,
    )
    return SerialSettings(port=config.port, baudrate=config.baudrate, framing=framing)


def rejection_key(error: ScanError) -> str:
    """Return the ``terminal.messages`` key for the clerk's notice about a rejected serial scan."""
    if isinstance(error, UnreadableDataError):
        return messages.SCANNER_DATA_UNREADABLE
    if isinstance(error, UnterminatedDataError):
        return messages.SCANNER_DATA_UNTERMINATED
    if isinstance(error, KanaInputError):
        # Serial scanners send the code's own characters, so kana come from the code itself and
        # not from an input method as with a keyboard wedge.
        return str(ErrorCode.CODE_INVALID)
    return messages.CODE_MALFORMED


class SerialScanning(QObject):
    """Reads a serial scanner off the GUI thread; see the module docstring."""

    scanned = Signal(str)
    rejected = Signal(str)  # the terminal.messages key for a scan that cannot be used
    connection_changed = Signal(str)  # SCANNER_CONNECTED or SCANNER_DISCONNECTED

    _scan_arrived = Signal(object)
    _rejection_arrived = Signal(object)
    _state_arrived = Signal(object)

    def __init__(
        self,
        settings: SerialSettings,
        parent: QObject | None = None,
        *,
        by_id_dir: Path = BY_ID_DIR,
        retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        super().__init__(parent)
        self.connected = False
        self.state: ScannerState | None = None
        # Signals emitted on the reader thread reach these slots through the event queue of the
        # adapter's thread, because the adapter lives on the GUI thread.
        self._scan_arrived.connect(self._on_scan_arrived)
        self._rejection_arrived.connect(self._on_rejection_arrived)
        self._state_arrived.connect(self._on_state_arrived)
        self._reader = SerialScanner(
            settings, self, by_id_dir=by_id_dir, retry_delays_s=retry_delays_s
        )

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        """Stop the reader thread and close the port; safe to call twice."""
        self._reader.stop()

    # --- ScannerListener, called on the reader thread ---------------------------------

    def on_scan(self, scan: ScanResult) -> None:
        self._scan_arrived.emit(scan)

    def on_rejected(self, error: ScanError) -> None:
        self._rejection_arrived.emit(error)

    def on_state(self, state: ScannerState) -> None:
        self._state_arrived.emit(state)

    # --- on the GUI thread ------------------------------------------------------------

    @Slot(object)
    def _on_scan_arrived(self, scan: ScanResult) -> None:
        log.info("scan of %d characters from the serial scanner", len(scan.text))
        self.scanned.emit(scan.text)

    @Slot(object)
    def _on_rejection_arrived(self, error: ScanError) -> None:
        self.rejected.emit(rejection_key(error))

    @Slot(object)
    def _on_state_arrived(self, state: ScannerState) -> None:
        self.state = state
        connected = state.status == "connected"
        if connected == self.connected and state.status != "disconnected":
            return
        self.connected = connected
        key = messages.SCANNER_CONNECTED if connected else messages.SCANNER_DISCONNECTED
        self.connection_changed.emit(key)


class ScannerStateLine(QLabel):
    """A line for the clerk about the serial scanner's connection; hidden while all is well.

    Placed in a status bar, it shows and hides that bar with itself.
    """

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanner_state")
        self.setWordWrap(True)
        self._lang = lang
        self._hide_timer = QTimer(self)
        self._hide_timer.setSingleShot(True)
        self._hide_timer.setInterval(CONNECTED_SHOWN_MS)
        self._hide_timer.timeout.connect(lambda: self._set_visible(False))
        self._was_disconnected = False
        self.hide()

    def show_connection(self, key: str) -> None:
        """Show a ``connection_changed`` key: a lasting warning, or a short confirmation."""
        if key == messages.SCANNER_DISCONNECTED:
            self._was_disconnected = True
            self._hide_timer.stop()
            self._show_text(key, "banner")
        elif self._was_disconnected:
            # Only a return after a loss needs a notice, not the first connection after start.
            self._was_disconnected = False
            self._show_text(key, "")
            self._hide_timer.start()

    def _show_text(self, key: str, role: str) -> None:
        self.setText(clerk_message(key, self._lang))
        self.setProperty("role", role)
        # A changed dynamic property takes effect in the style sheet only after a re-polish.
        self.style().unpolish(self)
        self.style().polish(self)
        self._set_visible(True)

    def _set_visible(self, visible: bool) -> None:
        self.setVisible(visible)
        bar = self.parentWidget()
        if isinstance(bar, QStatusBar):
            bar.setVisible(visible)


def attach_serial_scanner(
    config: ScannerConfig,
    lang: str,
    scan_filter: ScanFilter,
    window: QMainWindow,
    *,
    by_id_dir: Path = BY_ID_DIR,
) -> SerialScanning:
    """Start reading the serial scanner of ``config`` and pass its scans on to the app.

    Scans and rejections are re-emitted as the ``ScanFilter``'s own signals, so every screen
    that takes keyboard-wedge scans takes serial ones the same way. The connection state is
    shown in the window's status bar.
    """
    scanning = SerialScanning(serial_settings_for(config), window, by_id_dir=by_id_dir)
    scanning.scanned.connect(scan_filter.scanned)
    scanning.rejected.connect(scan_filter.rejected)

    bar = window.statusBar()
    bar.setSizeGripEnabled(False)
    line = ScannerStateLine(lang)
    bar.addWidget(line, 1)
    bar.hide()
    scanning.connection_changed.connect(line.show_connection)

    scanning.start()
    return scanning
