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

from PySide6.QtWidgets import QApplication

from terminal.api_client import ApiClient, ApiError
from terminal.config import ConfigError, TerminalConfig, load_config, verify_pin
from terminal.enrolment import EnrolmentError, load_enrolment
from terminal.protocol import TerminalInfo
from ui.i18n import TranslationError, install_translator
from ui.printing import PrinterReceipts
from ui.scanning import ScanFilter, detector_for
from ui.services import PaymentApi, ReceiptSink, TerminalServices
from ui.terminal_window import TerminalWindow
from ui.theme import apply_theme
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

@dataclass
class Terminal:
    """A running terminal: its window and the parts tests and the demo reach into."""

    window: TerminalWindow
    services: TerminalServices
    scan_filter: ScanFilter


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
) -> Terminal:
    """Assemble the terminal window, its services and the application-wide scan filter."""
    runner = TaskRunner(app)
    pin_hash = config.manager_pin_hash
    services = TerminalServices(
        api=api,
        receipts=receipts
        or PrinterReceipts(info, config.printer.url, config.printer.paper_width_mm),
        runner=runner,
        lang=lang,
        verify_manager_pin=lambda pin: verify_pin(pin, pin_hash),
        max_amount_yen=info.max_amount_yen,
        long_poll_s=long_poll_s,
    )
    scan_filter = ScanFilter(detector_for(config.scanner), app)
    scan_filter.install(app)
    window = TerminalWindow(services, scan_filter)
    return Terminal(window, services, scan_filter)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="chiiki-pos", description="Open the counter terminal.")
    parser.add_argument("--config", type=Path, help="TOML configuration file")
    parser.add_argument("--lang", choices=("ja", "en"), help="screen language (default: config)")
    return parser.parse_args(list(argv))


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
        api = ApiClient(config.server_url, terminal_id, signer)
        # NOTE: the shop's details come from the server at startup, so the terminal does not
        # start while the server is unreachable. They are not cached in the data directory yet.
        info = api.terminal_info()
        app = create_application(argv, lang)
    except (ConfigError, EnrolmentError, TranslationError, ApiError) as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    terminal = build_terminal(app, config, api, info, lang)
    terminal.window.showMaximized()
    code = app.exec()
    terminal.services.runner.wait()
    api.close()
    return code
