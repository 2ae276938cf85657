from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from drivers.printer.errors import PrinterConnectionError
from terminal import messages, protocol
from terminal.api_client import Unreachable
from terminal.paycode import new_payment_code
from terminal.sale import SaleState
from tests.ui.conftest import FakeApi, ReceiptLog
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal


def test_qr_shown_then_approved(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi, receipt_log: ReceiptLog
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "1990")

    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    mpm = controller.screens.mpm
    qtbot.waitUntil(lambda: not mpm.qr.pixmap().isNull(), timeout=3000)
    assert controller.current() is mpm
    assert mpm.amount.text() == "￥1,990"
    assert mpm.countdown.text() in ("有効期限まで 3:00", "有効期限まで 2:59")

    fake_api.intent_status = "approved"
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)

    assert controller.screens.result.headline.text() == "承認"
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=2000)
    assert receipt_log.payments[0].amount_yen == 1990


def test_cancel_returns_to_sale(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "800")
    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "wait_intent" in fake_api.names(), timeout=3000)

    qtbot.mouseClick(controller.screens.mpm.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=3000)

    assert "cancel_intent" in fake_api.names()
    assert controller.sale.state is SaleState.AMOUNT_ENTRY
    assert controller.screens.sale.total.text() == "合計 ￥800"


def test_cancel_while_qr_is_prepared_is_sent_once_the_intent_exists(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    created = FakeApi.create_intent
    release = threading.Event()

    def slow_create(*args: Any, **kwargs: Any) -> protocol.Intent:
        assert release.wait(5)
        return created(fake_api, *args, **kwargs)

    monkeypatch.setattr(fake_api, "create_intent", slow_create)
    enter_amount(qtbot, terminal, "800")
    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.mpm

    qtbot.mouseClick(controller.screens.mpm.cancel_button, Qt.MouseButton.LeftButton)
    assert controller.screens.mpm.status.text() == "取り消しています…"
    release.set()
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=3000)

    assert fake_api.names().count("cancel_intent") == 1
    assert controller.sale.state is SaleState.AMOUNT_ENTRY


def test_expired_qr_shows_message(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "300")
    fake_api.intent_status = "expired"

    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)

    assert controller.screens.result.headline.text() == "QRコードの有効期限が切れました"
    assert controller.screens.result.retry_button.isVisibleTo(terminal.window)
    qtbot.mouseClick(controller.screens.result.back_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.sale
    assert controller.screens.sale.total.text() == "合計 ￥300"


def test_print_failure_offers_reprint(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], receipt_log: ReceiptLog
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    result = controller.screens.result
    receipt_log.fail_with = PrinterConnectionError("refused", "network://127.0.0.1:9")
    enter_amount(qtbot, terminal, "1200")
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    scan(terminal.window, new_payment_code())
    qtbot.waitUntil(lambda: "もう一度印刷" in result.print_status.text(), timeout=3000)

    assert result.headline.text() == "承認"
    assert result.reprint_button.isVisibleTo(terminal.window)
    receipt_log.fail_with = None
    qtbot.mouseClick(result.reprint_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: result.print_status.text() == "印刷済み", timeout=2000)
    assert len(receipt_log.payments) == 1


def test_unreachable_server_offers_retry(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    result = controller.screens.result

    def refuse(*_args: object) -> None:
        raise Unreachable("POST /v1/intents failed: ConnectError")

    monkeypatch.setattr(fake_api, "create_intent", refuse)
    enter_amount(qtbot, terminal, "700")
    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is result, timeout=3000)

    assert result.headline.text() == "お支払いできませんでした"
    assert result.detail.text() == messages.message_for(messages.UNREACHABLE, "ja")
    assert result.retry_button.isVisibleTo(terminal.window)

    monkeypatch.undo()
    qtbot.mouseClick(result.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.sale.state is SaleState.MPM_WAITING, timeout=3000)
    assert controller.current() is controller.screens.mpm
