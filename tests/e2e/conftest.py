"""Whole-product fixtures: the settlement server on loopback, the printer emulator, an enrolled
terminal driven through its Qt window, and a funded wallet.

The terminal reaches the server through the demo's loopback relay, so a test can cut it off
the network while the wallet keeps its own connection."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from drivers.printer.emulator import PrinterEmulator
from server.db import init_db
from server.demo import DEMO_MERCHANT, seed_demo
from server.embedded import EmbeddedServer, start_embedded_server
from server.ledger import verify_ledger
from server.wallet_cli import WalletClient
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.config import PrinterConfig, ScannerConfig, TerminalConfig, hash_pin
from terminal.keys import Signer, load_or_create_private_key
from ui.app import Terminal, build_terminal
from ui.demo_relay import Relay
from ui.theme import apply_theme

LOOPBACK = "127.0.0.1"
MANAGER_PIN = "2468"
WALLET_TOPUP_YEN = 30_000
SHOP_NAME = DEMO_MERCHANT.name
# The sync worker checks the server this often, so tests see reconnection quickly.
PROBE_INTERVAL_S = 1.0


@dataclass
class World:
    server: EmbeddedServer
    printer: PrinterEmulator
    terminal: Terminal
    wallet: WalletClient
    relay: Relay
    server_api: ApiClient  # the terminal's identity, straight to the server, for checks

    def go_offline(self) -> None:
        self.relay.set_online(False)
        self.terminal.offline.wake()

    def go_online(self) -> None:
        self.relay.set_online(True)
        self.terminal.offline.retry_now()


@pytest.fixture
def world(qapp: QApplication, tmp_path: Path) -> Iterator[World]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    seed = seed_demo(init_db(db_url))
    server = start_embedded_server(db_url, host=LOOPBACK, port=0, demo=True)
    printer = PrinterEmulator(LOOPBACK, 0, paper_width_mm=80)
    printer.start()

    clock = ServerClock()
    signer = Signer(load_or_create_private_key(tmp_path), clock=clock.now)
    with ApiClient(server.url, None, signer) as enrolment:
        info = enrolment.enrol(seed.activation_code)
    relay = Relay(int(server.url.rsplit(":", 1)[1]))
    relay.start()
    api = ApiClient(relay.url, info.terminal_id, signer)
    sync_api = ApiClient(relay.url, info.terminal_id, signer, retry_delays_s=())
    server_api = ApiClient(server.url, info.terminal_id, signer)
    wallet = WalletClient(server.url)
    wallet.create()
    wallet.topup(WALLET_TOPUP_YEN)

    config = TerminalConfig(
        server_url=relay.url,
        data_dir=tmp_path,
        manager_pin_hash=hash_pin(MANAGER_PIN, iterations=1000),
        printer=PrinterConfig(url=printer.url, paper_width_mm=80),
        scanner=ScannerConfig(),
    )
    apply_theme(qapp)
    terminal = build_terminal(
        qapp,
        config,
        api,
        info,
        "ja",
        long_poll_s=5,
        clock=clock,
        sync_api=sync_api,
        probe_interval_s=PROBE_INTERVAL_S,
    )
    terminal.window.resize(1024, 640)
    terminal.window.show()

    try:
        yield World(server, printer, terminal, wallet, relay, server_api)
    finally:
        # Stop every thread even when the test failed, so none outlives it into the next one.
        terminal.window.close()
        terminal.close()
        qapp.removeEventFilter(terminal.scan_filter)
        relay.stop()
        server.stop()
        terminal.services.runner.wait(10_000)
        printer.stop()
        for client in (api, sync_api, server_api):
            client.close()
        wallet.close()

    # Whatever the test did, money must be conserved: every kind's postings sum to zero and
    # each account's lots match its postings.
    database = init_db(db_url)
    with database.read() as session:
        audit = verify_ledger(session)
    database.dispose()
    assert all(total == 0 for total in audit.totals_by_kind.values())
