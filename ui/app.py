"""Start the clerk's terminal: ``chiiki-pos`` (``chiiki-pos run``) lands in ``main``.

``build_terminal`` assembles the window from a config, an API client and the terminal's
details; the demo and the tests call it with their own parts.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from terminal.api_client import ApiClient, ApiError
from terminal.clock import ServerClock
from terminal.config import (
    ConfigError,
    TerminalConfig,
    default_config_path,
    load_config,
    verify_pin,
)
from terminal.enrolment import EnrolmentError, load_enrolment
from terminal.offline import OfflineAcceptor
from terminal.protocol import TerminalInfo
from terminal.receipt_jobs import open_receipt_jobs
from terminal.store import Store, StoreError, open_store
from terminal.sync import PROBE_INTERVAL_S, SyncApi, SyncEngine, SyncWorker
from ui.camera import CameraScanner, attach_camera_scanner
from ui.collector import install_collector
from ui.connection import OfflineParts, SyncStatusBridge
from ui.evdev_scanning import EvdevScanning, attach_evdev_scanner
from ui.i18n import TranslationError, install_translator
from ui.printing import PrinterReceipts
from ui.scanning import ScanFilter, detector_for
from ui.serial_scanning import SerialScanning, attach_serial_scanner
from ui.mode_switch import ModeSwitcher
from ui.services import PaymentApi, ReceiptSink, TerminalServices, new_idempotency_key
from ui.terminal_window import TerminalWindow
from ui.terminal_info import TerminalInfoError, load_terminal_info
from ui.technician.context import TechnicianContext
from ui.technician.setup import run_setup
from ui.theme import apply_theme
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

@dataclass
class Terminal:
    """A running terminal: its window and the parts tests and the demo reach into."""

    window: TerminalWindow
    services: TerminalServices
    scan_filter: ScanFilter
    offline: OfflineParts
    camera: CameraScanner | None = None  # set when the [scanner] kind is "camera"
    serial_scanner: SerialScanning | None = None  # set when the [scanner] kind is "serial"
    evdev_scanner: EvdevScanning | None = None  # set when the [scanner] kind is "evdev"
    modes: ModeSwitcher | None = None  # shows the sale or the stamp booth screen

    def close(self) -> None:
        """Stop the scanner reader, the sale's timers, the sync worker and the database.

        Safe to call twice.
        """
        if self.camera is not None:
            self.camera.close()
        if self.serial_scanner is not None:
            self.serial_scanner.stop()
        if self.evdev_scanner is not None:
            self.evdev_scanner.stop()
        self.window.controller.shutdown()


def has_display() -> bool:
    """Tell whether a window system is reachable, or Qt was asked to draw off screen."""
    if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal", "vnc")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def create_application(argv: Sequence[str], lang: str) -> QApplication:
    """Create (or reuse) the QApplication with the terminal's theme and language."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(["chiiki-pos", *argv])
    app.setApplicationName("chiiki-pos")
    install_collector(app)
    apply_theme(app)
    install_translator(app, lang)
    return app


def build_terminal(
    app: QApplication,
    config: TerminalConfig,
    api: PaymentApi,
    info: TerminalInfo,
    lang: str,
    receipts: ReceiptSink | None = None,
    long_poll_s: float = 25.0,
    *,
    store: Store | None = None,
    clock: ServerClock | None = None,
    sync_api: SyncApi | None = None,
    probe_interval_s: float = PROBE_INTERVAL_S,
    config_path: Path | None = None,
) -> Terminal:
    """Assemble the terminal window, its services and the application-wide scan filter.

    ``store`` defaults to the database in ``config.data_dir``. With ``sync_api`` (an
    ``ApiClient`` without retries of its own) a sync worker starts. It sends the outbox and
    reports to the screens whether the server is reachable. Without it nothing is sent, as in
    tests of the screens alone. ``clock`` should be the one the API client's signer uses.
    ``config_path`` (default: ``config.source``) is where the technician's screens save settings.
    """
    runner = TaskRunner(app)
    offline = _open_offline_parts(app, config, info, store, clock, sync_api, probe_interval_s)
    pin_hash = config.manager_pin_hash
    services = TerminalServices(
        api=api,
        receipts=receipts
        or PrinterReceipts(
            info, config.printer, open_receipt_jobs(config.data_dir), lock_dir=config.data_dir
        ),
        runner=runner,
        lang=lang,
        verify_manager_pin=lambda pin: verify_pin(pin, pin_hash),
        max_amount_yen=info.max_amount_yen,
        long_poll_s=long_poll_s,
        offline=offline,
        technician=TechnicianContext(
            config, config_path or config.source, info.terminal_id, health_api=sync_api
        ),
        clerks=config.clerks,
    )
    scan_filter = ScanFilter(detector_for(config.scanner), app)
    scan_filter.install(app)
    window = TerminalWindow(services, scan_filter)
    camera = None
    if config.scanner.kind == "camera":
        camera = attach_camera_scanner(
            config.scanner, window.controller, lang, window.controller
        )
    serial_scanner = None
    if config.scanner.kind == "serial":
        serial_scanner = attach_serial_scanner(config.scanner, lang, scan_filter, window)
    evdev_scanner = None
    if config.scanner.kind == "evdev":
        evdev_scanner = attach_evdev_scanner(
            config.scanner, lang, scan_filter, window, window.controller.on_notice
        )
    rally_api = api if isinstance(api, ApiClient) else None
    modes = ModeSwitcher(window.controller, offline, runner, rally_api, config.mode)
    if services.technician is not None:
        services.technician.modes = modes
    modes.show_current()
    if offline.worker is not None:
        offline.worker.start()
    return Terminal(
        window, services, scan_filter, offline, camera, serial_scanner, evdev_scanner, modes
    )


def _open_offline_parts(
    app: QApplication,
    config: TerminalConfig,
    info: TerminalInfo,
    store: Store | None,
    clock: ServerClock | None,
    sync_api: SyncApi | None,
    probe_interval_s: float,
) -> OfflineParts:
    store = store or open_store(config.data_dir)
    clock = clock or ServerClock()
    acceptor = OfflineAcceptor(
        store,
        config.offline,
        clock,
        new_capture_id=new_idempotency_key,
        merchant_id=info.merchant.merchant_id,
        terminal_id=info.terminal_id,
    )
    bridge = SyncStatusBridge(app)
    worker = None
    if sync_api is not None:
        engine = SyncEngine(store, sync_api, clock)
        worker = SyncWorker(engine, on_status=bridge.deliver, probe_interval_s=probe_interval_s)
    return OfflineParts(store, clock, acceptor, bridge, worker)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chiiki-pos", description="Open the counter terminal.")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--lang", choices=("ja", "en"), help="screen language (default: config)")
    parser.add_argument(
        "--fullscreen",
        action="store_true",
        help="fill the whole screen without a window frame, as the kiosk does "
        "(default: a maximised window)",
    )
    return parser.parse_args(list(argv))


def show_window(window: QWidget, fullscreen: bool) -> None:
    """Show ``window`` full screen (the kiosk) or maximised (a desktop)."""
    if fullscreen:
        window.showFullScreen()
    else:
        window.showMaximized()


def _run_setup(
    argv: Sequence[str], config: TerminalConfig, lang: str, config_path: Path, fullscreen: bool
) -> int:
    try:
        app = create_application(argv, lang)
    except TranslationError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    return run_setup(app, config, config_path, lang, fullscreen=fullscreen)


def main(argv: Sequence[str]) -> int:
    args = _parse_args(argv)
    if not has_display():
        sys.stderr.write(
            "no display found (DISPLAY and WAYLAND_DISPLAY are unset); run under xvfb-run "
            "or set QT_QPA_PLATFORM=offscreen\n"
        )
        return 2
    try:
        config = load_config(args.config)
        lang = args.lang or config.language
        signer, terminal_id = load_enrolment(config)
        store = open_store(config.data_dir)
    except EnrolmentError as exc:
        # A terminal that is not enrolled opens the technician's screens, which can enrol it.
        sys.stderr.write(f"error: {exc}\n")
        return _run_setup(
            argv, config, lang, args.config or default_config_path(), args.fullscreen
        )
    except (ConfigError, StoreError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1

    # Requests are signed with the server's time as last measured, so a terminal whose own
    # clock is wrong still authenticates from the first request on.
    clock = ServerClock(offset_s=store.clock_offset_s() or 0.0)
    signer.clock = clock.now
    api = ApiClient(config.server_url, terminal_id, signer)
    # The sync worker has its own backoff, so its client sends each request once.
    sync_api = ApiClient(config.server_url, terminal_id, signer, retry_delays_s=())
    try:
        info = load_terminal_info(api, config.data_dir, config.server_url)
        app = create_application(argv, lang)
    except (TerminalInfoError, TranslationError, ApiError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        store.close()
        return 1

    terminal = build_terminal(
        app,
        config,
        api,
        info,
        lang,
        store=store,
        clock=clock,
        sync_api=sync_api,
        config_path=args.config or default_config_path(),
    )
    show_window(terminal.window, args.fullscreen)
    terminal.window.controller.receipts.print_waiting_soon()
    code = app.exec()
    terminal.close()
    terminal.services.runner.wait()
    api.close()
    sync_api.close()
    return code
