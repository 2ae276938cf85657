"""Run the whole product on this machine for a first look (chiiki-pos demo).

One process starts the settlement server on loopback with a SQLite file, seeds the demo shop,
starts the printer emulator, enrols the terminal, creates a wallet with coin, and opens three
windows: the terminal (the clerk's side), the receipts the emulator printed, and a customer
phone that pays the terminal's QR or shows a payment code. All network traffic stays on
127.0.0.1.

Ctrl+C (SIGINT) and SIGTERM close the windows, stop the server and the printer emulator, and
delete the temporary data directory. A directory given with --data-dir is kept.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Literal

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget

from drivers.printer.emulator import PrinterEmulator
from drivers.printer.received import ReceivedJob
from server.db import init_db
from server.demo import renew_demo_coupon, seed_demo, seed_demo_campaigns
from server.embedded import start_embedded_server
from server.wallet_cli import WalletClient, WalletCredentials
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.config import PrinterConfig, TerminalConfig, hash_pin
from terminal.keys import Signer, load_or_create_private_key
from terminal.enrolment import save_terminal_id
from ui.app import Terminal, build_terminal, create_application, has_display
from ui.demo_relay import Relay
from ui.demo_windows import arrange_windows
from ui.phone import PhoneWindow
from ui.receipt_preview import ReceiptPreview
from ui.terminal_info import load_terminal_info
from ui.worker import TaskRunner

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
DEMO_TOPUP_YEN = 30_000
# The manager PIN of the demo terminal; the receipt window shows it so refunds can be tried.
DEMO_MANAGER_PIN = "1234"
DEMO_PAPER_WIDTH_MM: Literal[58, 80] = 58
STATE_FILE = "demo-state.json"
OFFLINE_WALLET_FILE = "demo-offline-wallet.json"
# The demo's terminal checks the server this often, so switching the network back on shows
# within seconds; a shop terminal checks every 30 s (terminal.sync.PROBE_INTERVAL_S).
DEMO_PROBE_INTERVAL_S = 5.0
# Windows settle (fonts, layout, the first balance request) before screenshots are taken.
SCREENSHOT_DELAY_MS = 1500
# Python runs signal handlers only between bytecodes, and Qt's event loop runs in C++, so a
# timer this often hands control back to Python for a pending Ctrl+C or SIGTERM.
SIGNAL_POLL_MS = 200
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class DemoWorld:
    """The running back end of the demo: server, printer and the parties' credentials."""

    server_url: str
    printer: PrinterEmulator
    terminal_id: str
    wallet: WalletCredentials
    data_dir: Path
    relay: Relay


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="chiiki-pos demo",
        description=(
            "Run the whole product on this machine: a settlement server, a printer emulator, "
            "the terminal and a customer phone. Press Ctrl+C to stop."
        ),
    )
    parser.add_argument("--lang", choices=("ja", "en"), default="ja", help="terminal language")
    parser.add_argument(
        "--data-dir", type=Path, help="keep the demo database and keys here (default: a temporary directory)"
    )
    parser.add_argument(
        "--screenshot", type=Path, metavar="DIR", help="save a PNG of each window into DIR and exit"
    )
    parser.add_argument(
        "--tour", action="store_true", help="with --screenshot: take a QR payment and a code payment first"
    )
    parser.add_argument("--offscreen", action="store_true", help="draw without a display (Qt offscreen)")
    return parser.parse_args(list(argv))


def start_world(stack: ExitStack, data_dir: Path, on_job: Callable[[ReceivedJob], None]) -> DemoWorld:
    """Start the server and printer, then enrol the terminal and fund a wallet (first run)."""
    db_url = f"sqlite:///{data_dir / 'settle.db'}"
    state_path = data_dir / STATE_FILE
    fresh = not state_path.exists()
    if fresh:
        seed = seed_demo(init_db(db_url))
    server = start_embedded_server(db_url, host=LOOPBACK, port=0, demo=True)
    stack.callback(server.stop)
    printer = PrinterEmulator(LOOPBACK, 0, paper_width_mm=DEMO_PAPER_WIDTH_MM, on_job=on_job)
    printer.start()
    stack.callback(printer.stop)

    if fresh:
        terminal_id, wallet = _enrol_and_fund(server.url, data_dir, seed.activation_code)
        _seed_campaigns(db_url, seed.merchant_id, wallet.wallet_id)
        state = {"terminal_id": terminal_id, "wallet_id": wallet.wallet_id, "wallet_token": wallet.token}
        state_path.write_text(json.dumps(state), encoding="utf-8")
    else:
        state = json.loads(state_path.read_text(encoding="utf-8"))
        terminal_id = state["terminal_id"]
        wallet = WalletCredentials(server.url, state["wallet_id"], state["wallet_token"])
        _renew_coupon(db_url, wallet.wallet_id)
    # The terminal reaches the server through the relay, so the demo can cut it off.
    port = int(server.url.rsplit(":", 1)[1])
    relay = Relay(port)
    relay.start()
    stack.callback(relay.stop)
    return DemoWorld(
        server.url, printer, terminal_id, _with_url(wallet, server.url), data_dir, relay
    )


def _seed_campaigns(db_url: str, merchant_id: str, wallet_id: str) -> None:
    database = init_db(db_url)
    try:
        seed_demo_campaigns(database, merchant_id, wallet_id)
    finally:
        database.dispose()


def _renew_coupon(db_url: str, wallet_id: str) -> None:
    database = init_db(db_url)
    try:
        if renew_demo_coupon(database, wallet_id):
            log.info("demo wallet %s received a new demo coupon", wallet_id)
    finally:
        database.dispose()


def _with_url(wallet: WalletCredentials, server_url: str) -> WalletCredentials:
    return WalletCredentials(server_url, wallet.wallet_id, wallet.token)


def _enrol_and_fund(server_url: str, data_dir: Path, activation_code: str) -> tuple[str, WalletCredentials]:
    signer = Signer(load_or_create_private_key(data_dir))
    with ApiClient(server_url, None, signer) as api:
        info = api.enrol(activation_code)
    save_terminal_id(data_dir, info.terminal_id)
    wallet = WalletClient(server_url)
    try:
        credentials = wallet.create()
        wallet.topup(DEMO_TOPUP_YEN)
    finally:
        wallet.close()
    log.info("demo terminal %s enrolled, wallet %s funded", info.terminal_id, credentials.wallet_id)
    return info.terminal_id, credentials


def demo_config(world: DemoWorld, lang: str) -> TerminalConfig:
    return TerminalConfig(
        server_url=world.relay.url,
        data_dir=world.data_dir,
        language="en" if lang == "en" else "ja",
        manager_pin_hash=hash_pin(DEMO_MANAGER_PIN),
        printer=PrinterConfig(url=world.printer.url, paper_width_mm=DEMO_PAPER_WIDTH_MM),
    )


def open_windows(app: QApplication, world: DemoWorld, preview: ReceiptPreview, lang: str,
                 stack: ExitStack) -> tuple[Terminal, PhoneWindow]:
    config = demo_config(world, lang)
    clock = ServerClock()
    signer = Signer(load_or_create_private_key(world.data_dir), clock=clock.now)
    api = ApiClient(config.server_url, world.terminal_id, signer)
    stack.callback(api.close)
    sync_api = ApiClient(config.server_url, world.terminal_id, signer, retry_delays_s=())
    stack.callback(sync_api.close)
    info = load_terminal_info(api, world.data_dir, config.server_url)
    terminal = build_terminal(
        app,
        config,
        api,
        info,
        lang,
        clock=clock,
        sync_api=sync_api,
        probe_interval_s=DEMO_PROBE_INTERVAL_S,
    )
    stack.callback(terminal.close)
    wallet = WalletClient(world.server_url, world.wallet)
    stack.callback(wallet.close)
    phone = PhoneWindow(
        wallet,
        TaskRunner(app),
        lambda: terminal.window,
        offline_wallet_path=world.data_dir / OFFLINE_WALLET_FILE,
    )
    preview.show_demo_pin(DEMO_MANAGER_PIN)
    preview.show_network_toggle()
    preview.network_changed.connect(lambda online: switch_network(world, terminal, online))

    offscreen = os.environ.get("QT_QPA_PLATFORM", "").startswith("offscreen")
    arrange_windows(terminal.window, preview, phone, offscreen)
    for window in (terminal.window, preview, phone):
        window.show()
    return terminal, phone


def switch_network(world: DemoWorld, terminal: Terminal, online: bool) -> None:
    """Connect the terminal to the server or cut it off, and let the sync worker notice now."""
    world.relay.set_online(online)
    if online:
        terminal.offline.retry_now()
    else:
        terminal.offline.wake()


def save_screenshots(directory: Path, windows: dict[str, QWidget]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for name, window in windows.items():
        path = directory / f"{name}.png"
        window.grab().save(str(path))
        saved.append(path)
    log.info("saved screenshots: %s", ", ".join(str(path) for path in saved))
    return saved


class _StopRequest:
    """Records a stop signal and quits the Qt event loop once it runs."""

    def __init__(self) -> None:
        self.signal_name = ""
        self.app: QApplication | None = None

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.signal_name = signal.Signals(signum).name
        log.info("%s received; stopping the demo", self.signal_name)
        if self.app is not None:
            self.app.quit()


@contextmanager
def _stop_on_signals() -> Iterator[_StopRequest]:
    """Route SIGINT and SIGTERM to a clean stop for the duration of the block."""
    request = _StopRequest()
    previous = {signum: signal.signal(signum, request.handle) for signum in STOP_SIGNALS}
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str]) -> int:
    args = _parse_args(argv)
    if args.offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    elif not has_display():
        sys.stderr.write(
            "no display found; run chiiki-pos demo --offscreen --screenshot DIR, "
            "or xvfb-run -a chiiki-pos demo\n"
        )
        return 2

    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="chiiki-demo-")) if temporary else args.data_dir
    try:
        with _stop_on_signals() as stop:
            data_dir.mkdir(parents=True, exist_ok=True)
            return _run(args, data_dir, stop)
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
            log.info("removed the demo data directory %s", data_dir)


def _run(args: argparse.Namespace, data_dir: Path, stop: _StopRequest) -> int:
    app = create_application([], args.lang)
    stop.app = app
    signal_poll = QTimer(app)
    signal_poll.timeout.connect(lambda: None)
    signal_poll.start(SIGNAL_POLL_MS)
    preview = ReceiptPreview()
    with ExitStack() as stack:
        world = start_world(stack, data_dir, preview.bridge.deliver)
        terminal, phone = open_windows(app, world, preview, args.lang, stack)
        windows: dict[str, QWidget] = {"terminal": terminal.window, "receipts": preview, "phone": phone}
        if args.screenshot is not None:
            if args.tour:
                from ui.demo_tour import Tour

                tour = Tour(app, terminal, phone, preview, args.screenshot)
                QTimer.singleShot(SCREENSHOT_DELAY_MS, tour.start)
            else:
                QTimer.singleShot(SCREENSHOT_DELAY_MS, lambda: (save_screenshots(args.screenshot, windows), app.quit()))
        log.info("demo running: server %s, printer %s; press Ctrl+C to stop", world.server_url,
                 world.printer.url)
        # A signal that arrived while the server was starting has already run its handler.
        code = 0 if stop.signal_name else app.exec()
        terminal.window.controller.shutdown()
        terminal.services.runner.wait(5000)
        for window in windows.values():
            window.close()
    signal_poll.stop()
    return code
