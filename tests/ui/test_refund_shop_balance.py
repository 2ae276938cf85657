"""A refund the shop's balance cannot cover: refund advice, not the customer's payment advice."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal import messages, protocol
from terminal.api_client import Declined
from terminal.protocol import ErrorCode, SyncResult
from terminal.store import NewCapture
from tests.ui.conftest import MANAGER_PIN, FakeApi, ReceiptLog, make_payment
from ui.app import Terminal
from ui.history import HistoryPresenter
from ui.services import TerminalServices
from ui.worker import TaskRunner

CUSTOMER_ADVICE = "お客様に別の支払い方法"


@dataclass
class LowBalanceApi(FakeApi):
    """The scripted API whose refunds fail because the shop's balance is too low."""

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        self._record("refund", payment_id, amount_yen, idempotency_key)
        raise Declined("the merchant balance is too low", ErrorCode.INSUFFICIENT_FUNDS, 409)


@pytest.fixture
def online_history(qapp: QApplication) -> Iterator[tuple[HistoryPresenter, LowBalanceApi]]:
    """A history presenter without the terminal database, so refunds go to the server at once."""
    api = LowBalanceApi()
    api.payments.append(make_payment("pay-1", 1000))
    runner = TaskRunner()
    services = TerminalServices(
        api=api,
        receipts=ReceiptLog(),
        runner=runner,
        lang="ja",
        verify_manager_pin=lambda pin: pin == MANAGER_PIN,
        max_amount_yen=100_000,
    )
    yield HistoryPresenter(services), api
    runner.wait(5000)


def test_online_refund_low_balance_advice(
    qtbot: QtBot, online_history: tuple[HistoryPresenter, LowBalanceApi]
) -> None:
    presenter, api = online_history
    presenter.payments = list(api.payments)
    presenter.select(0)

    with qtbot.waitSignal(presenter.refund_rejected, timeout=3000) as rejected:
        assert presenter.refund(1000)

    assert rejected.args == [messages.message_for(messages.REFUND_INSUFFICIENT_FUNDS, "ja")]
    assert "お店の残高が足りないため返金できません" in rejected.args[0]
    assert CUSTOMER_ADVICE not in rejected.args[0]
    assert api.names() == ["refund"]


def test_day_close_declined_refund_advice(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    terminal = make_terminal()
    store = terminal.offline.store
    store.record_capture(
        NewCapture(
            capture_id="cap-refund-1",
            kind="refund",
            amount_yen=700,
            method="refund",
            captured_at=datetime.now(UTC),
            payment_id="pay-1",
        )
    )
    store.apply_results(
        [
            SyncResult(
                entry_id="cap-refund-1",
                status="declined",
                reason=ErrorCode.INSUFFICIENT_FUNDS,
                message="declined",
            )
        ]
    )
    controller = terminal.window.controller
    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.history.day_close_button, Qt.MouseButton.LeftButton)
    flow = controller.day_close
    for digit in MANAGER_PIN:
        qtbot.mouseClick(flow.pin.pad.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(flow.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.menu, timeout=3000)

    qtbot.mouseClick(flow.menu.x_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is flow.report, timeout=3000)

    text = flow.report.lines.text()
    assert "お店の残高が足りないため返金できません" in text
    assert CUSTOMER_ADVICE not in text


def test_refund_message_key_low_balance() -> None:
    error = Declined("the merchant balance is too low", ErrorCode.INSUFFICIENT_FUNDS, 409)

    assert messages.refund_message_key(error) == messages.REFUND_INSUFFICIENT_FUNDS
    assert messages.refund_message_key(ErrorCode.INSUFFICIENT_FUNDS) == (
        messages.REFUND_INSUFFICIENT_FUNDS
    )
    assert messages.refund_message_key(ErrorCode.NOT_FOUND) == messages.REFUND_PAYMENT_NOT_FOUND
    assert "shop's balance" in messages.message_for(messages.REFUND_INSUFFICIENT_FUNDS, "en")
