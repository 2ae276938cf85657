from __future__ import annotations

from pathlib import Path

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from drivers.scanner.qrimage import read_valid_qr
from server.db import init_db
from server.demo import seed_demo_campaigns
from terminal import emv
from terminal.protocol import ValueKind
from terminal.receipt import format_yen
from terminal.sale import SaleState
from terminal.value_split import KIND_NAMES_JA, format_split, split_parts
from tests.e2e.conftest import MANAGER_PIN, SHOP_NAME, WALLET_TOPUP_YEN, World
from ui.phone import qimage_to_pil
from ui.terminal_window import TerminalController

REPEAT_WINDOW_S = 1.6


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def enter_line(qtbot: QtBot, controller: TerminalController, digits: str, rate: int) -> None:
    sale = controller.screens.sale
    for digit in digits:
        click(qtbot, sale.keypad.buttons[digit])
    click(qtbot, sale.standard_button if rate == 10 else sale.reduced_button)


def wait_for_result(qtbot: QtBot, controller: TerminalController) -> None:
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=10_000)


def screen_qr_payload(world: World) -> str:
    picture: Image.Image = qimage_to_pil(world.terminal.window.grab().toImage())
    return read_valid_qr(picture, emv.parse_payload)


def test_mpm_payment_prints_receipt(qtbot: QtBot, world: World) -> None:
    controller = world.terminal.window.controller
    enter_line(qtbot, controller, "1100", 10)
    enter_line(qtbot, controller, "890", 8)

    click(qtbot, controller.screens.sale.qr_button)
    qtbot.waitUntil(lambda: controller.sale.state is SaleState.MPM_WAITING, timeout=10_000)
    qtbot.wait(200)
    payload = screen_qr_payload(world)
    request = emv.read_payment_request(payload)
    assert request.amount_yen == 1990

    world.wallet.pay_payload(payload)
    wait_for_result(qtbot, controller)
    job = world.printer.wait_for_job(timeout_s=10)

    assert controller.screens.result.headline.text() == "承認"
    assert world.wallet.balance().total_yen == WALLET_TOPUP_YEN - 1990
    assert any(SHOP_NAME in line for line in job.lines)
    assert any("￥1,990" in line for line in job.lines)


def test_cpm_scan_pays_once(qtbot: QtBot, world: World) -> None:
    controller = world.terminal.window.controller
    elsewhere = controller.screens.sale.history_button
    code = world.wallet.payment_code().code

    enter_line(qtbot, controller, "500", 10)
    click(qtbot, controller.screens.sale.code_button)
    QTest.keyClicks(elsewhere, code)
    QTest.keyClick(elsewhere, Qt.Key.Key_Return)
    wait_for_result(qtbot, controller)
    job = world.printer.wait_for_job(timeout_s=10)

    assert controller.sale.state is SaleState.APPROVED
    assert world.wallet.balance().total_yen == WALLET_TOPUP_YEN - 500
    assert any("￥500" in line for line in job.lines)

    click(qtbot, controller.screens.result.next_button)
    enter_line(qtbot, controller, "500", 10)
    click(qtbot, controller.screens.sale.code_button)
    # A repeat of the same text within the scanner's repeat window is dropped as a double read.
    qtbot.wait(int(REPEAT_WINDOW_S * 1000))
    QTest.keyClicks(elsewhere, code)
    QTest.keyClick(elsewhere, Qt.Key.Key_Return)
    wait_for_result(qtbot, controller)

    assert controller.sale.state is SaleState.DECLINED
    assert "使用済み" in controller.screens.result.detail.text()
    assert world.wallet.balance().total_yen == WALLET_TOPUP_YEN - 500


def give_premium_points(world: World, tmp_path: Path) -> None:
    """Seed the demo's campaigns for the world's wallet: premium points, a coupon, a donation."""
    credentials = world.wallet.credentials
    assert credentials is not None
    # The world fixture keeps its server database in the test's tmp_path.
    database = init_db(f"sqlite:///{tmp_path / 'settle.db'}")
    try:
        seed_demo_campaigns(
            database, world.terminal.offline.acceptor.merchant_id, credentials.wallet_id
        )
    finally:
        database.dispose()


def test_refund_with_manager_pin(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    give_premium_points(world, tmp_path)
    controller = world.terminal.window.controller
    screens = controller.screens
    code = world.wallet.payment_code().code
    enter_line(qtbot, controller, "1200", 10)
    click(qtbot, screens.sale.code_button)
    QTest.keyClicks(screens.sale.history_button, code)
    QTest.keyClick(screens.sale.history_button, Qt.Key.Key_Return)
    wait_for_result(qtbot, controller)
    world.printer.wait_for_job(timeout_s=10)
    assert "地元専用" in screens.result.split.text()
    click(qtbot, screens.result.next_button)
    before = world.wallet.balance()

    click(qtbot, screens.sale.history_button)
    qtbot.waitUntil(lambda: screens.history.list.count() == 1, timeout=10_000)
    screens.history.list.setCurrentRow(0)
    click(qtbot, screens.history.refund_button)
    for digit in MANAGER_PIN:
        click(qtbot, screens.pin.pad.keypad.buttons[digit])
    click(qtbot, screens.pin.pad.ok_button)
    qtbot.waitUntil(lambda: controller.current() is screens.refund_amount, timeout=10_000)
    for key in ("clear", "6", "0", "0"):
        click(qtbot, screens.refund_amount.keypad.buttons[key])
    click(qtbot, screens.refund_amount.confirm_button)
    wait_for_result(qtbot, controller)
    job = world.printer.wait_for_job(timeout_s=10)

    assert screens.result.headline.text() == "返金しました"
    # The refund is sent at once and through the outbox with one key, so the server applies it
    # once.
    store = world.terminal.offline.store
    qtbot.waitUntil(lambda: store.waiting().count == 0, timeout=10_000)
    after = world.wallet.balance()
    assert after.total_yen == before.total_yen + 600
    [payment] = world.server_api.list_payments(1)
    assert payment.refunded_yen == 600
    # The wallet got back what the screen and the receipt name, and premium points among it.
    returned = {kind: after.kinds.get(kind, 0) - before.kinds.get(kind, 0) for kind in ValueKind}
    assert returned.get(ValueKind.PREMIUM_ALL, 0) > 0
    assert screens.result.split.text() == f"返金の内訳 {format_split(600, returned)}"
    words = [" ".join(line.split()) for line in job.lines]
    start = words.index("返金方法 地域コイン")
    kind_lines = [f"{KIND_NAMES_JA[part.kind]} {format_yen(part.amount_yen)}"
                  for part in split_parts(600, returned) or []]
    assert words[start + 1:start + 1 + len(kind_lines)] == kind_lines
    assert any("￥600" in line for line in job.lines)
