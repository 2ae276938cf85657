from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal import refunds
from terminal.config import TerminalConfig
from tests.ui.conftest import MANAGER_PIN, FakeApi, ReceiptLog, make_info, make_payment
from ui.app import Terminal, build_terminal
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
    assert "返金できる残り ￥600" in amount_screen.message.text()
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

    refund = receipt_log.refunds[0]
    assert refund.amount_yen == 250
    assert refund.payment.refunded_yen == 250
    assert controller.screens.result.headline.text() == "返金しました"
    # Sent at once under the key of the refund's outbox entry, so the server applies it once.
    assert [args for name, args in fake_api.calls if name == "refund"] == [
        ("pay-1", 250, refund.refund_id)
    ]


def test_refund_waits_in_outbox(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi, receipt_log: ReceiptLog
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000))
    terminal = make_terminal()
    controller = terminal.window.controller
    open_refund_for_first_payment(qtbot, controller)
    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.refund_amount, timeout=3000)
    for key in ("clear", "4", "0", "0"):
        qtbot.mouseClick(controller.screens.refund_amount.keypad.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.refund_amount.confirm_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(receipt_log.refunds) == 1, timeout=3000)

    captures = terminal.offline.store.captures("waiting")
    assert [(c.kind, c.payment_id, c.amount_yen) for c in captures] == [("refund", "pay-1", 400)]
    assert captures[0].capture_id == receipt_log.refunds[0].refund_id
    assert terminal.offline.store.waiting().count == 1


def test_refund_cap_counts_waiting(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    fake_api.payments.append(make_payment("pay-1", 1000))
    terminal = make_terminal()
    controller = terminal.window.controller
    refunds.record_refund(terminal.offline.store, "pay-1", 700, "refund-a", datetime.now(UTC))

    open_refund_for_first_payment(qtbot, controller)
    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.refund_amount, timeout=3000)

    assert controller.screens.refund_amount.amount_yen == 300
    assert "送信待ち" in controller.screens.history.list.item(0).text()
    for key in ("clear", "5", "0", "0"):
        qtbot.mouseClick(controller.screens.refund_amount.keypad.buttons[key], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.refund_amount.confirm_button, Qt.MouseButton.LeftButton)
    assert terminal.offline.store.waiting().count == 1


def test_history_shows_japan_time(
    qtbot: QtBot,
    make_terminal: Callable[[], Terminal],
    fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    payment = make_payment("pay-1", 1000).model_copy(
        update={"created_at": "2024-07-01T03:00:00+00:00"}
    )
    fake_api.payments.append(payment)
    controller = make_terminal().window.controller

    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.screens.history.list.count() > 0, timeout=2000)
    monkeypatch.delenv("TZ")
    time.tzset()

    assert controller.screens.history.list.item(0).text().startswith("07/01 12:00")


def test_malformed_pin_hash_rejects_pin(
    qtbot: QtBot,
    qapp: QApplication,
    fake_api: FakeApi,
    receipt_log: ReceiptLog,
    terminal_config: TerminalConfig,
) -> None:
    zero_iterations = "pbkdf2_sha256$0$AAAAAAAAAAAAAAAAAAAAAA$" + "A" * 43
    config = replace(terminal_config, manager_pin_hash=zero_iterations)
    terminal = build_terminal(qapp, config, fake_api, make_info(), "ja", receipts=receipt_log)
    terminal.window.show()
    fake_api.payments.append(make_payment("pay-1", 1000))
    controller = terminal.window.controller
    try:
        open_refund_for_first_payment(qtbot, controller)
        type_pin(qtbot, controller, "1234")
        qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "違います" in controller.screens.pin.message.text(), timeout=3000)

        assert "エラーが発生しました" not in controller.screens.pin.message.text()
        assert "refund" not in fake_api.names()
    finally:
        terminal.window.close()
        qapp.removeEventFilter(terminal.scan_filter)
