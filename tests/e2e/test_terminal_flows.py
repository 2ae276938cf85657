from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from drivers.scanner.qrimage import read_valid_qr
from terminal import emv
from terminal.sale import SaleState
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


def test_refund_with_manager_pin(qtbot: QtBot, world: World) -> None:
    controller = world.terminal.window.controller
    screens = controller.screens
    code = world.wallet.payment_code().code
    enter_line(qtbot, controller, "1200", 10)
    click(qtbot, screens.sale.code_button)
    QTest.keyClicks(screens.sale.history_button, code)
    QTest.keyClick(screens.sale.history_button, Qt.Key.Key_Return)
    wait_for_result(qtbot, controller)
    world.printer.wait_for_job(timeout_s=10)
    click(qtbot, screens.result.next_button)

    click(qtbot, screens.sale.history_button)
    qtbot.waitUntil(lambda: screens.history.list.count() == 1, timeout=10_000)
    screens.history.list.setCurrentRow(0)
    click(qtbot, screens.history.refund_button)
    for digit in MANAGER_PIN:
        click(qtbot, screens.pin.pad.keypad.buttons[digit])
    click(qtbot, screens.pin.pad.ok_button)
    qtbot.waitUntil(lambda: controller.current() is screens.refund_amount, timeout=10_000)
    for key in ("clear", "3", "0", "0"):
        click(qtbot, screens.refund_amount.keypad.buttons[key])
    click(qtbot, screens.refund_amount.confirm_button)
    wait_for_result(qtbot, controller)
    job = world.printer.wait_for_job(timeout_s=10)

    assert screens.result.headline.text() == "返金しました"
    # The refund reaches the server through the outbox, which the sync worker sends at once.
    qtbot.waitUntil(
        lambda: world.wallet.balance().total_yen == WALLET_TOPUP_YEN - 1200 + 300, timeout=10_000
    )
    assert any("返金" in line for line in job.lines)
    assert any("￥300" in line for line in job.lines)
