"""A counter refund the server declines when it is sent at once, shown as declined at once.

Set CHIIKI_SCREENSHOT_DIR to save refund-declined-ja.png, refund-declined-en.png and
refund-unconfirmed-ja.png there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from terminal import messages, protocol
from terminal.api_client import Declined
from terminal.config import TerminalConfig
from terminal.protocol import ErrorCode
from terminal.store import Store
from tests.ui.conftest import MANAGER_PIN, ReceiptLog, ShownTerminals, make_info, make_payment
from tests.ui.test_payment_split import LOCAL_AND_ALL, save_screenshot, with_kinds
from tests.ui.test_refund import open_refund_for_first_payment, type_pin
from tests.ui.test_refund_split import KindsApi, confirm_refund, refund_requests
from ui.app import Terminal, build_terminal
from ui.terminal_window import TerminalController
from ui.theme import apply_theme

RETRY_AT = datetime(2025, 5, 1, 3, 1, tzinfo=UTC)
LOW_BALANCE = Declined("merchant holds 200 yen, 1200 yen requested", ErrorCode.INSUFFICIENT_FUNDS,
                       402)


@dataclass
class DecliningApi(KindsApi):
    """The scripted refund API, which runs ``during`` with the key inside each refund request."""

    during: Callable[[str], None] = lambda key: None

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        self.during(idempotency_key)
        return super().refund(payment_id, amount_yen, idempotency_key)


@pytest.fixture
def api() -> DecliningApi:
    declining = DecliningApi(error=LOW_BALANCE)
    declining.payments.append(with_kinds(make_payment("pay-1", 1200), LOCAL_AND_ALL))
    return declining


@pytest.fixture
def counter(
    qapp: QApplication, api: DecliningApi, receipt_log: ReceiptLog,
    terminal_config: TerminalConfig, shown_terminals: ShownTerminals,
) -> Callable[[str], Terminal]:
    def build(lang: str = "ja") -> Terminal:
        apply_theme(qapp)
        terminal = build_terminal(qapp, terminal_config, api, make_info(), lang,
                                  receipts=receipt_log, long_poll_s=1)
        return shown_terminals.show(terminal)

    return build


def wait_for_outcome(qtbot: QtBot, terminal: Terminal) -> None:
    controller = terminal.window.controller
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)
    # A receipt would have been started by now, so let every job finish before counting them.
    terminal.services.runner.wait(5000)
    qtbot.wait(50)


def refund_capture(store: Store) -> str:
    [capture] = [c for c in store.captures() if c.kind == "refund"]
    return capture.capture_id


def test_declined_refund_shown(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = counter("ja")
    controller = terminal.window.controller

    confirm_refund(qtbot, controller)
    wait_for_outcome(qtbot, terminal)

    save_screenshot(terminal.window, "refund-declined-ja.png")
    result = controller.screens.result
    assert result.headline.text() == "返金できませんでした"
    assert result.headline.property("role") == "declined"
    assert result.amount.text() == "￥1,200"
    store = terminal.offline.store
    key = refund_capture(store)
    assert result.detail.text().split("\n") == [
        messages.message_for(messages.REFUND_INSUFFICIENT_FUNDS, "ja"),
        "お客様のアプリには返金されていません。返金のレシートは印刷しません。",
        f"取引番号 {key}（元の取引 pay-1）",
    ]
    assert result.split.text() == ""
    assert result.history_button.isVisibleTo(terminal.window)
    assert result.next_button.isVisibleTo(terminal.window)
    assert not result.reprint_button.isVisibleTo(terminal.window)
    assert receipt_log.refunds == []
    # The refund is declined in the terminal's records with the server's reason, so it is
    # never sent, and the merchant's declined list shows it.
    assert store.outbox_state(key) == "declined"
    capture = store.capture(key)
    assert capture is not None and capture.declined_reason == "insufficient_funds"
    assert refund_requests(api) == [("pay-1", 1200, key)]


def test_declined_refund_english(
    english: None, qtbot: QtBot, counter: Callable[[str], Terminal], receipt_log: ReceiptLog,
) -> None:
    terminal = counter("en")
    controller = terminal.window.controller

    confirm_refund(qtbot, controller)
    wait_for_outcome(qtbot, terminal)

    save_screenshot(terminal.window, "refund-declined-en.png")
    result = controller.screens.result
    key = refund_capture(terminal.offline.store)
    assert result.headline.text() == "Refund declined"
    assert result.detail.text().split("\n") == [
        messages.message_for(messages.REFUND_INSUFFICIENT_FUNDS, "en"),
        "Nothing was refunded to the customer's app. No refund receipt is printed.",
        f"Transaction number {key} (original payment pay-1)",
    ]
    assert result.history_button.text() == "Back to history"
    assert receipt_log.refunds == []


def test_already_refunded_reason(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
) -> None:
    api.error = Declined("refund of 1200 yen exceeds the 0 yen not yet refunded",
                         ErrorCode.REFUND_EXCEEDS_PAYMENT, 409)
    terminal = counter("ja")

    confirm_refund(qtbot, terminal.window.controller)
    wait_for_outcome(qtbot, terminal)

    detail = terminal.window.controller.screens.result.detail.text()
    assert detail.startswith(messages.message_for(ErrorCode.REFUND_EXCEEDS_PAYMENT, "ja"))


def back_to_history(qtbot: QtBot, controller: TerminalController) -> None:
    with qtbot.waitSignal(controller.history.loaded, timeout=3000):
        qtbot.mouseClick(controller.screens.result.history_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.history


def reopen_refund(qtbot: QtBot, controller: TerminalController) -> None:
    back_to_history(qtbot, controller)
    history = controller.screens.history
    history.list.setCurrentRow(0)
    qtbot.mouseClick(history.refund_button, Qt.MouseButton.LeftButton)
    type_pin(qtbot, controller, MANAGER_PIN)
    qtbot.mouseClick(controller.screens.pin.pad.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.refund_amount, timeout=3000)


def test_declined_refund_not_counted(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = counter("ja")
    controller = terminal.window.controller
    confirm_refund(qtbot, controller)
    wait_for_outcome(qtbot, terminal)

    reopen_refund(qtbot, controller)

    # The declined refund neither waits to be sent nor lowers what is left to refund.
    assert "送信待ち" not in controller.screens.history.list.item(0).text()
    assert controller.screens.refund_amount.amount.text() == "￥1,200"

    api.error = None
    qtbot.mouseClick(controller.screens.refund_amount.confirm_button, Qt.MouseButton.LeftButton)
    wait_for_outcome(qtbot, terminal)
    assert controller.screens.result.headline.text() == "返金しました"
    assert len(receipt_log.refunds) == 1
    # The second attempt is a new refund: the declined capture keeps the first key.
    first, second = refund_requests(api)
    assert first[2] != second[2]
    assert receipt_log.refunds[0].refund_id == second[2]


def test_unconfirmed_refund_shown(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = counter("ja")
    store = terminal.offline.store
    # An earlier send of the same entry timed out, so the server may have applied it.
    api.during = lambda key: store.record_failure([key], "read timed out", RETRY_AT)
    controller = terminal.window.controller

    confirm_refund(qtbot, controller)
    wait_for_outcome(qtbot, terminal)

    save_screenshot(terminal.window, "refund-unconfirmed-ja.png")
    result = controller.screens.result
    key = refund_capture(store)
    assert result.headline.text() == "返金はまだ確定していません"
    lines = result.detail.text().split("\n")
    assert lines[0] == messages.message_for(messages.REFUND_INSUFFICIENT_FUNDS, "ja")
    assert "端末がもう一度送信します" in lines[1]
    assert receipt_log.refunds == []
    assert store.outbox_state(key) == "pending"

    # Until the server settles it, the refund counts as waiting in the history.
    back_to_history(qtbot, controller)
    assert "返金 ￥1,200 送信待ち" in controller.screens.history.list.item(0).text()

