"""Scanners read from a grabbed Linux evdev device, in the Qt application.

``EvdevScanning`` runs a ``drivers.scanner.evdev_reader.EvdevScanner`` and emits what it reads
as the same signals as the keyboard-wedge ``ScanFilter``: ``scanned`` with the code and
``rejected`` with a ``terminal.messages`` key. The reader calls back on its own thread, and
private signals carry each call to the thread that owns the adapter (the GUI thread), so the
public signals are only ever emitted there.

``connection_changed`` carries ``SCANNER_CONNECTED`` or ``SCANNER_DISCONNECTED``, the keys the
serial scanner uses, so the same status line shows them. ``device_failed`` carries a key for a
device that is present but cannot be used (no permission, grabbed by another program). The
details for the technician, with the device path and the fix, go to the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QMainWindow

from drivers.scanner.base import KanaInputError, ScanError, ScanResult
from drivers.scanner.evdev_reader import (
    DeviceBusy,
    DeviceLost,
    DeviceNotFound,
    DeviceStatus,
    EvdevScanner,
    EventDevice,
    LinuxEventDevice,
)
from drivers.scanner.keymaps import KeyTranslator
from terminal import messages
from terminal.config import ScannerConfig
from ui.errors import clerk_message
from ui.scanning import ScanFilter, detector_for
from ui.serial_scanning import ScannerStateLine

log = logging.getLogger(__name__)


def status_key(status: DeviceStatus) -> str:
    """Return the ``terminal.messages`` key of the clerk's message for a device status."""
    error = status.error
    if error is None:
        return messages.SCANNER_CONNECTED
    if isinstance(error, DeviceNotFound | DeviceLost):
        return messages.SCANNER_DISCONNECTED
    if isinstance(error, DeviceBusy):
        return messages.SCANNER_DEVICE_BUSY
    return messages.SCANNER_DEVICE_UNUSABLE


class EvdevScanning(QObject):
    """Reads an evdev scanner off the GUI thread, as the module docstring describes."""

    scanned = Signal(str)
    rejected = Signal(str)  # the terminal.messages key for a scan that cannot be used
    connection_changed = Signal(str)  # SCANNER_CONNECTED or SCANNER_DISCONNECTED
    device_failed = Signal(str)  # SCANNER_DEVICE_BUSY or SCANNER_DEVICE_UNUSABLE

    _scan_arrived = Signal(object)
    _rejection_arrived = Signal(object)
    _status_arrived = Signal(object)

    def __init__(
        self,
        config: ScannerConfig,
        parent: QObject | None = None,
        *,
        open_device: Callable[[str], EventDevice] | None = None,
        reopen_interval_s: float = 1.0,
    ) -> None:
        super().__init__(parent)
        self.status: DeviceStatus | None = None
        self._scan_arrived.connect(self._on_scan_arrived)
        self._rejection_arrived.connect(self._on_rejection_arrived)
        self._status_arrived.connect(self._on_status_arrived)
        self._reader = EvdevScanner(
            config.device,
            detector_for(config, source="evdev"),
            KeyTranslator.for_keymap(config.keymap),
            on_scan=self._scan_arrived.emit,
            on_rejected=self._rejection_arrived.emit,
            on_status=self._status_arrived.emit,
            open_device=open_device or LinuxEventDevice,
            reopen_interval_s=reopen_interval_s,
        )

    def start(self) -> None:
        self._reader.start()

    def stop(self) -> None:
        """Stop the reader thread and release the device. Safe to call twice."""
        self._reader.stop()

    @Slot(object)
    def _on_scan_arrived(self, scan: ScanResult) -> None:
        self.scanned.emit(scan.text)

    @Slot(object)
    def _on_rejection_arrived(self, error: ScanError) -> None:
        kana = isinstance(error, KanaInputError)
        self.rejected.emit(messages.SCANNER_KANA_MODE if kana else messages.CODE_MALFORMED)

    @Slot(object)
    def _on_status_arrived(self, status: DeviceStatus) -> None:
        self.status = status
        key = status_key(status)
        if key in (messages.SCANNER_CONNECTED, messages.SCANNER_DISCONNECTED):
            self.connection_changed.emit(key)
        else:
            self.device_failed.emit(key)


def attach_evdev_scanner(
    config: ScannerConfig,
    lang: str,
    scan_filter: ScanFilter,
    window: QMainWindow,
    show_notice: Callable[[str], None],
) -> EvdevScanning:
    """Start reading the evdev scanner of ``config`` and pass its scans on to the app.

    Scans and rejections are re-emitted as the ``ScanFilter``'s own signals, so every screen
    that takes keyboard-wedge scans takes these the same way. The connection state is shown in
    the window's status bar, and a device that cannot be used through ``show_notice``.
    """
    scanning = EvdevScanning(config, window)
    scanning.scanned.connect(scan_filter.scanned)
    scanning.rejected.connect(scan_filter.rejected)

    bar = window.statusBar()
    bar.setSizeGripEnabled(False)
    line = ScannerStateLine(lang)
    bar.addWidget(line, 1)
    bar.hide()
    scanning.connection_changed.connect(line.show_connection)
    scanning.device_failed.connect(lambda key: show_notice(clerk_message(key, lang)))

    scanning.start()
    return scanning
