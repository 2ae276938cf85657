"""What a counter refund shows the clerk: the amount really left, and a refund counted once.

Set CHIIKI_SCREENSHOT_DIR to save refund-left-ja.png, refund-left-en.png,
refund-payment-missing-ja.png and declined-refund-balance-ja.png there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import messages, protocol
from terminal.api_client import Declined, Unreachable
from terminal.protocol import ErrorCode, SyncResult
from terminal.store import NewCapture
from tests.ui.test_payment_split import save_screenshot
from tests.ui.test_refund_declined_screen import (
    DecliningApi,
    api,
    back_to_history,
    counter,
    reopen_refund,
    wait_for_outcome,
)
from tests.ui.test_refund_shop_balance import LowBalanceApi, online_history
from tests.ui.test_refund_split import confirm_refund, refund_requests
from ui.app import Terminal
from ui.history import HistoryPresenter

__all__ = ["api", "counter", "online_history"]  # fixtures shared with the modules above

TOO_MUCH = Declined("refund of 1200 yen exceeds the 200 yen not yet refunded",
                    ErrorCode.REFUND_EXCEEDS_PAYMENT, 409)


def refunded_elsewhere(api: DecliningApi, refunded_yen: int) -> Callable[[str], None]:
    """Return a ``during`` hook: another terminal refunded the payment before this request."""

    def refund_first(key: str) -> None:
        [payment] = api.payments
        api.payments[0] = payment.model_copy(update={"refunded_yen": refunded_yen})

    return refund_first


def detail_lines(terminal: Terminal) -> list[str]:
    return terminal.window.controller.screens.result.detail.text().split("\n")


def test_decline_names_amount_left(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
) -> None:
    api.error = TOO_MUCH
    api.during = refunded_elsewhere(api, 1000)
    terminal = counter("ja")

    confirm_refund(qtbot, terminal.window.controller)
    wait_for_outcome(qtbot, terminal)

    save_screenshot(terminal.window, "refund-left-ja.png")
    # The history still showed ￥1,200 left, so the payment was read again from the server.
    assert detail_lines(terminal)[0] == messages.message_for(
        messages.REFUND_LEFT_EXCEEDED, "ja", left="￥200")
    assert "get_payment" in api.names()


def test_decline_names_amount_left_english(
    english: None, qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
) -> None:
    api.error = TOO_MUCH
    api.during = refunded_elsewhere(api, 1000)
    terminal = counter("en")

    confirm_refund(qtbot, terminal.window.controller)
    wait_for_outcome(qtbot, terminal)

    save_screenshot(terminal.window, "refund-left-en.png")
    assert detail_lines(terminal)[0] == (
        "The refund is more than the ￥200 left to refund of this payment. Enter ￥200 or less."
    )


def test_decline_names_nothing_left(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
) -> None:
    api.error = TOO_MUCH
    api.during = refunded_elsewhere(api, 1200)
    terminal = counter("ja")

    confirm_refund(qtbot, terminal.window.controller)
    wait_for_outcome(qtbot, terminal)

    assert detail_lines(terminal)[0] == messages.message_for(
        messages.REFUND_NOTHING_LEFT, "ja", left="￥0")


def test_decline_left_unreadable(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api.error = TOO_MUCH

    def unreachable(payment_id: str) -> protocol.Payment:
        raise Unreachable(f"GET /v1/payments/{payment_id} timed out")

    monkeypatch.setattr(api, "get_payment", unreachable)
    terminal = counter("ja")

    confirm_refund(qtbot, terminal.window.controller)
    wait_for_outcome(qtbot, terminal)

    # The history's own payment shows more left than was asked, so no amount is named.
    assert detail_lines(terminal)[0] == messages.message_for(
        ErrorCode.REFUND_EXCEEDS_PAYMENT, "ja")


def test_decline_payment_missing(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
) -> None:
    api.error = Declined("payment pay-1 does not exist for this merchant", ErrorCode.NOT_FOUND,
                         404)
    terminal = counter("ja")

    confirm_refund(qtbot, terminal.window.controller)
    wait_for_outcome(qtbot, terminal)

    save_screenshot(terminal.window, "refund-payment-missing-ja.png")
    first = detail_lines(terminal)[0]
    assert first == messages.message_for(messages.REFUND_PAYMENT_NOT_FOUND, "ja")
    # The clerk chose the payment from the history and never typed its number.
    assert "取引番号を確認" not in first


def test_applied_refund_counted_once(
    qtbot: QtBot, counter: Callable[[str], Terminal], api: DecliningApi,
) -> None:
    api.error = None
    terminal = counter("ja")
    controller = terminal.window.controller

    confirm_refund(qtbot, controller, "500")
    wait_for_outcome(qtbot, terminal)
    assert controller.screens.result.headline.text() == "返金しました"
    history = controller.history
    assert history.selected is not None
    assert history.refundable_yen(history.selected) == 700

    reopen_refund(qtbot, controller)

    # The server's refunded_yen has the refund, and the entry waiting to be sent does not
    # lower what is left a second time.
    item = controller.screens.history.list.item(0).text()
    assert "一部返金 ￥500" in item
    assert "送信待ち" not in item
    assert controller.screens.refund_amount.amount.text() == "￥700"
    [(_, _, key)] = refund_requests(api)
    capture = terminal.offline.store.capture(str(key))
    assert capture is not None
    assert capture.refund_id is not None


def test_key_renewed_after_decline(
    qtbot: QtBot, online_history: tuple[HistoryPresenter, LowBalanceApi]
) -> None:
    presenter, api = online_history
    presenter.payments = list(api.payments)
    presenter.select(0)

    for _ in range(2):
        with qtbot.waitSignal(presenter.refund_rejected, timeout=3000):
            assert presenter.refund(1000)

    first, second = [args for name, args in api.calls if name == "refund"]
    # The server applied nothing under the first key, so the second press is a new refund.
    assert first[2] != second[2]


def test_key_kept_after_lost_response(
    qtbot: QtBot, online_history: tuple[HistoryPresenter, LowBalanceApi],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    presenter, api = online_history
    presenter.payments = list(api.payments)
    presenter.select(0)
    keys: list[str] = []

    def lost(payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        keys.append(idempotency_key)
        raise Unreachable("POST refund timed out: ReadTimeout")

    monkeypatch.setattr(api, "refund", lost)
    for _ in range(2):
        with qtbot.waitSignal(presenter.refund_rejected, timeout=3000):
            assert presenter.refund(1000)

    # The first request may have been applied, so pressing again repeats it.
    assert keys[0] == keys[1]


def test_declined_refund_names_shop_balance(
    qtbot: QtBot, counter: Callable[[str], Terminal],
) -> None:
    terminal = counter("ja")
    store = terminal.offline.store
    store.record_capture(NewCapture(capture_id="cap-refund-1", kind="refund", amount_yen=700,
                                    method="refund", captured_at=datetime.now(UTC),
                                    payment_id="pay-1"))
    store.apply_results([SyncResult(entry_id="cap-refund-1", status="declined",
                                    reason=ErrorCode.INSUFFICIENT_FUNDS, message="too low")])
    controller = terminal.window.controller
    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    declined = controller.screens.declined
    with qtbot.waitSignal(declined.presenter.loaded, timeout=3000):
        qtbot.mouseClick(controller.screens.history.declined_button, Qt.MouseButton.LeftButton)
    declined.list.setCurrentRow(0)
    qtbot.wait(50)

    save_screenshot(terminal.window, "declined-refund-balance-ja.png")
    assert "理由: お店の残高が返金額に足りませんでした" in declined.list.item(0).text()
