"""Serial scanners in the Qt app: scans on the GUI thread, rejections and the connection line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QThread, Qt
from PySide6.QtWidgets import QApplication, QMainWindow
from pytestqt.qtbot import QtBot

from drivers.scanner.serial_framing import FramingSettings
from drivers.scanner.serial_reader import SerialSettings
from terminal import messages
from terminal.config import PrinterConfig, ScannerConfig, TerminalConfig
from terminal.paycode import new_payment_code
from terminal.sale import SaleState
from tests.drivers.scanner.serial_pty import ByIdDir, PtyScanner
from tests.ui.conftest import PIN_HASH, FakeApi
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal
from ui.scanning import ScanFilter, detector_for
from ui.serial_scanning import ScannerStateLine, SerialScanning, attach_serial_scanner

WAIT_MS = 10_000
FAST_RETRY_S = (0.05,)


@pytest.fixture
def device() -> Iterator[PtyScanner]:
    scanner = PtyScanner()
    yield scanner
    scanner.unplug()


@pytest.fixture
def terminal_config(tmp_path: Path, device: PtyScanner) -> TerminalConfig:
    return TerminalConfig(
        data_dir=tmp_path,
        manager_pin_hash=PIN_HASH,
        printer=PrinterConfig(url="dummy://"),
        scanner=ScannerConfig(kind="serial", port=device.node, repeat_window_ms=0),
    )


@pytest.fixture
def scanning(
    qapp: QApplication, tmp_path: Path, device: PtyScanner
) -> Iterator[SerialScanning]:
    adapter = SerialScanning(
        SerialSettings(device.node, framing=FramingSettings()),
        by_id_dir=tmp_path / "serial" / "by-id",
        retry_delays_s=FAST_RETRY_S,
    )
    yield adapter
    adapter.stop()


def test_serial_scan_is_emitted_on_gui_thread(
    qtbot: QtBot, qapp: QApplication, scanning: SerialScanning, device: PtyScanner
) -> None:
    threads: list[QThread] = []
    scanning.scanned.connect(lambda code: threads.append(QThread.currentThread()))
    code = new_payment_code()

    with qtbot.waitSignal(scanning.connection_changed, timeout=WAIT_MS) as connected:
        scanning.start()
    with qtbot.waitSignal(scanning.scanned, timeout=WAIT_MS) as blocker:
        device.send(code.encode() + b"\r\n")

    assert connected.args == [messages.SCANNER_CONNECTED]
    assert blocker.args == [code]
    assert threads == [qapp.thread()]


def test_serial_garbage_emits_rejection_key(
    qtbot: QtBot, scanning: SerialScanning, device: PtyScanner
) -> None:
    with qtbot.waitSignal(scanning.connection_changed, timeout=WAIT_MS):
        scanning.start()

    with qtbot.waitSignal(scanning.rejected, timeout=WAIT_MS) as unreadable:
        device.send(b"\x9f\x00\xfe\r")
    with qtbot.waitSignal(scanning.rejected, timeout=WAIT_MS) as kana:
        device.send("ぬふあう".encode() + b"\r")

    assert unreadable.args == [messages.SCANNER_DATA_UNREADABLE]
    assert kana.args == ["code_invalid"]


def test_serial_replug_shows_then_clears_warning(
    qtbot: QtBot, qapp: QApplication, tmp_path: Path
) -> None:
    by_id = ByIdDir(tmp_path)
    first = PtyScanner()
    second = PtyScanner()
    by_id.point_at(first.node)
    window = QMainWindow()
    qtbot.addWidget(window)
    scan_filter = ScanFilter(detector_for(ScannerConfig()), window)
    config = ScannerConfig(kind="serial", port=str(by_id.link))
    scanning = attach_serial_scanner(config, "ja", scan_filter, window, by_id_dir=by_id.path)
    line = window.statusBar().findChild(ScannerStateLine, "scanner_state")
    window.show()
    code = new_payment_code()
    try:
        qtbot.waitUntil(lambda: scanning.connected, timeout=WAIT_MS)
        hidden_while_connected = window.statusBar().isVisible()

        first.unplug()
        by_id.remove()
        qtbot.waitUntil(lambda: not scanning.connected, timeout=WAIT_MS)
        warning = line.text()
        warning_visible = line.isVisible()
        warning_role = line.property("role")

        by_id.point_at(second.node)
        qtbot.waitUntil(lambda: scanning.connected, timeout=WAIT_MS)
        confirmation = line.text()
        with qtbot.waitSignal(scan_filter.scanned, timeout=WAIT_MS) as blocker:
            second.send(code.encode() + b"\r")
    finally:
        scanning.stop()
        first.unplug()
        second.unplug()

    assert hidden_while_connected is False
    assert warning == messages.message_for(messages.SCANNER_DISCONNECTED, "ja")
    assert warning.startswith("スキャナーが外れました。")
    assert warning_visible is True
    assert warning_role == "banner"
    assert confirmation == messages.message_for(messages.SCANNER_CONNECTED, "ja")
    assert blocker.args == [code]


def test_serial_kind_pays_from_pty(
    qtbot: QtBot,
    make_terminal: Callable[[], Terminal],
    fake_api: FakeApi,
    device: PtyScanner,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    code = new_payment_code()
    serial_scanner = terminal.serial_scanner
    assert serial_scanner is not None
    try:
        qtbot.waitUntil(lambda: serial_scanner.connected, timeout=WAIT_MS)
        enter_amount(qtbot, terminal, "1990")
        qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

        device.send(b"\xff\xfe\r")
        qtbot.waitUntil(
            lambda: "読み取れないデータ" in controller.screens.cpm.status.text(), timeout=WAIT_MS
        )
        device.send(code.encode() + b"\r")
        qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=WAIT_MS)
    finally:
        terminal.close()

    assert controller.sale.state is SaleState.APPROVED
    redeemed = [args[0] for name, args in fake_api.calls if name == "redeem_cpm"]
    assert redeemed == [code]
