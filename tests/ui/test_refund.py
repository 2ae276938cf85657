from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.ui.conftest import MANAGER_PIN, FakeApi, ReceiptLog, make_payment
from ui.app import Terminal
from ui.terminal_window import TerminalController


def open_refund_for_first_payment(qtbot: QtBot, controller: TerminalController) -> None:
    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.screens.history.list.count() > 0, timeout=2000)
    controller.screens.history.list.setCurrentRow(0)
    qtbot.mouseClick(controller.screens.history.refund_button, Qt.MouseButton.LeftButton)


def type_pin(qtbot: QtBot, controller: TerminalController, pin: str) -> None:
    pad = controller.screens.pin.pad
    for digit in pin:
        qtbot.mouseClick(pad.keypad.buttons[digit], Qt.MouseButton.LeftButton)


def test_pin_pad_masks_digits(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000))
    controller = make_terminal().window.controller
    open_refund_for_first_payment(qtbot, controller)

    type_pin(qtbot, controller, "1357")

    assert controller.current() is controller.screens.pin
    assert controller.screens.pin.pad.display.text() == "●●●●"


def test_wrong_pin_is_rejected(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000))
    controller = make_terminal().window.controller
    open_refund_for_first_payment(qtbot, controller)

    type_pin(qtbot, controller, "1111")
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "違います" in controller.screens.pin.message.text(), timeout=3000)

    assert controller.current() is controller.screens.pin
    assert "refund" not in fake_api.names()


def test_refund_defaults_to_remaining(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000, refunded_yen=400))
    controller = make_terminal().window.controller
    open_refund_for_first_payment(qtbot, controller)

    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.refund_amount, timeout=3000)

    assert controller.screens.refund_amount.amount.text() == "￥600"


def test_refund_over_remaining_is_refused(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000, refunded_yen=400))
    controller = make_terminal().window.controller
    open_refund_for_first_payment(qtbot, controller)
    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.refund_amount, timeout=3000)
    amount_screen = controller.screens.refund_amount

    for key in ("clear", "7", "0", "0"):
        qtbot.mouseClick(amount_screen.keypad.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(amount_screen.confirm_button, Qt.MouseButton.LeftButton)

    assert amount_screen.amount.text() == "￥700"
    assert "超えています" in amount_screen.message.text()
    assert "refund" not in fake_api.names()


def test_partial_refund_prints_receipt(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi, receipt_log: ReceiptLog
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000))
    controller = make_terminal().window.controller
    open_refund_for_first_payment(qtbot, controller)
    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.refund_amount, timeout=3000)
    amount_screen = controller.screens.refund_amount

    for key in ("clear", "2", "5", "0"):
        qtbot.mouseClick(amount_screen.keypad.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(amount_screen.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(receipt_log.refunds) == 1, timeout=3000)

    assert receipt_log.refunds[0].amount_yen == 250
    assert fake_api.payments[0].refunded_yen == 250
    assert controller.screens.result.headline.text() == "返金しました"
