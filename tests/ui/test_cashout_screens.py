"""The cash-out screens behind the manager PIN, driven through the terminal window."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from terminal import protocol
from tests.ui.cashout_fakes import ACCOUNT, FIXED_FEE_YEN, FakeMoneyApi, fee_yen
from tests.ui.conftest import MANAGER_PIN, FakeApi
from ui.app import Terminal
from ui.cashout_flow import MoneyFlow
from ui.cashout_presenter import format_date, payout_date_text
from ui.terminal_window import TerminalController


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeMoneyApi()


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def money_of(controller: TerminalController) -> MoneyFlow:
    assert controller.money is not None
    return controller.money


def enter_pin(qtbot: QtBot, controller: TerminalController, pin: str) -> None:
    click(qtbot, controller.screens.sale.history_button)
    click(qtbot, controller.screens.history.money_button)
    pad = money_of(controller).screens.pin.pad
    for digit in pin:
        click(qtbot, pad.keypad.buttons[digit])
    click(qtbot, pad.ok_button)


def open_amount(qtbot: QtBot, controller: TerminalController) -> MoneyFlow:
    enter_pin(qtbot, controller, MANAGER_PIN)
    money = money_of(controller)
    qtbot.waitUntil(lambda: controller.current() is money.screens.menu, timeout=3000)
    click(qtbot, money.screens.menu.cash_out_button)
    qtbot.waitUntil(lambda: money.screens.amount.full_button.isEnabled(), timeout=3000)
    return money


def type_amount(qtbot: QtBot, money: MoneyFlow, digits: str) -> None:
    for key in ("clear", *digits):
        click(qtbot, money.screens.amount.keypad.buttons[key])


def test_money_screens_need_manager_pin(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    controller = make_terminal().window.controller
    money = money_of(controller)

    enter_pin(qtbot, controller, "1111")
    qtbot.waitUntil(lambda: "違います" in money.screens.pin.message.text(), timeout=3000)

    assert controller.current() is money.screens.pin
    assert "暗証番号" in money.screens.pin.title.text()


def test_money_button_hidden_without_money_calls(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MoneyFlow, "available", staticmethod(lambda services: False))
    controller = make_terminal().window.controller
    click(qtbot, controller.screens.sale.history_button)

    assert controller.money is None
    assert not controller.screens.history.money_button.isVisible()


def test_full_amount_preview_shows_fee_net_date_account(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    controller = make_terminal().window.controller
    money = open_amount(qtbot, controller)
    screens = money.screens

    assert "￥12,000" in screens.amount.balance.text()
    click(qtbot, screens.amount.full_button)
    click(qtbot, screens.amount.next_button)
    qtbot.waitUntil(lambda: controller.current() is screens.confirm, timeout=3000)

    fee = fee_yen(12_000)
    assert screens.amount.amount_yen == 12_000
    assert screens.confirm.amount.text() == "￥12,000"
    assert screens.confirm.fee.text() == f"￥{fee}　（うち月額 ￥{FIXED_FEE_YEN}）"
    assert screens.confirm.net.text() == f"￥{12_000 - fee:,}"
    assert screens.confirm.date.text().startswith("12月7日（月）")
    assert screens.confirm.account.text() == "銀行 東邦　支店 会津営業部　普通 ****4567　ｱｲﾂﾞｺｲﾝｼﾖｳﾃﾝ"
    assert ("preview_cash_out", (12_000,)) in fake_api.calls


def test_lost_response_resent_with_same_key(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    controller = make_terminal().window.controller
    money = open_amount(qtbot, controller)
    money.cash_out._resend_timer.setInterval(50)
    screens = money.screens
    type_amount(qtbot, money, "5000")
    click(qtbot, screens.amount.next_button)
    qtbot.waitUntil(lambda: controller.current() is screens.confirm, timeout=3000)
    fake_api.lose_responses = 2

    click(qtbot, screens.confirm.confirm_button)
    qtbot.waitUntil(lambda: "結果を確認しています" in screens.confirm.message.text(), timeout=3000)
    assert not screens.confirm.confirm_button.isEnabled()
    qtbot.waitUntil(lambda: screens.confirm.list_button.isVisible(), timeout=5000)

    keys = [args[1] for name, args in fake_api.calls if name == "request_cash_out"]
    assert len(keys) == 3
    assert len(set(keys)) == 1
    assert len(fake_api.cash_outs) == 1
    assert fake_api.balance_yen == 12_000 - 5000
    assert screens.confirm.title.text() == "円への交換を受け付けました"
    assert money.cash_out.pending is None


def test_second_cash_out_gets_new_key(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    controller = make_terminal().window.controller
    money = open_amount(qtbot, controller)
    screens = money.screens
    for round_number in range(2):
        if round_number:
            click(qtbot, screens.confirm.back_button)
            qtbot.waitUntil(lambda: screens.amount.full_button.isEnabled(), timeout=3000)
        type_amount(qtbot, money, "2000")
        click(qtbot, screens.amount.next_button)
        qtbot.waitUntil(lambda: screens.confirm.confirm_button.isVisible(), timeout=3000)
        click(qtbot, screens.confirm.confirm_button)
        qtbot.waitUntil(lambda: screens.confirm.list_button.isVisible(), timeout=3000)

    keys = [args[1] for name, args in fake_api.calls if name == "request_cash_out"]
    assert len(set(keys)) == 2
    assert len(fake_api.cash_outs) == 2


@pytest.mark.parametrize(("setup", "digits", "expected"), [
    ("bank_account_missing", "5000", "運営事務局に口座の登録を依頼してください"),
    ("none", "300", "この金額の手数料は ￥306"),
    ("none", "20000", "残高 ￥12,000 を超えています"),
])
def test_rejections_in_plain_japanese(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi,
    setup: str, digits: str, expected: str,
) -> None:
    controller = make_terminal().window.controller
    money = open_amount(qtbot, controller)
    if setup == "bank_account_missing":
        fake_api.bank_account_missing = True
    type_amount(qtbot, money, digits)

    click(qtbot, money.screens.amount.next_button)
    qtbot.waitUntil(lambda: expected in money.screens.amount.message.text(), timeout=3000)

    assert controller.current() is money.screens.amount
    assert fake_api.cash_outs == []


def test_unreachable_server_needs_connection(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    controller = make_terminal().window.controller
    fake_api.unreachable = True
    enter_pin(qtbot, controller, MANAGER_PIN)
    money = money_of(controller)
    qtbot.waitUntil(lambda: controller.current() is money.screens.menu, timeout=3000)

    click(qtbot, money.screens.menu.cash_out_button)
    qtbot.waitUntil(lambda: "接続が必要" in money.screens.amount.message.text(), timeout=3000)

    assert not money.screens.amount.full_button.isEnabled()


def cash_out(cash_out_id: str, status: protocol.CashOutStatus,
             reason: str | None = None) -> protocol.CashOut:
    return protocol.CashOut(
        cash_out_id=cash_out_id, status=status, amount_yen=5000, fee_yen=400,
        fixed_fee_yen=300, metered_fee_yen=100, net_yen=4600, payout_date="2026-12-07",
        month="2026-12", created_at="2026-12-04T06:00:00+00:00", failure_reason=reason,
        bank_account=ACCOUNT,
    )


def test_list_shows_each_status(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    fake_api.cash_outs = [
        cash_out("co-4", "failed", "口座番号の誤り"), cash_out("co-3", "paid"),
        cash_out("co-2", "in_file"), cash_out("co-1", "requested"),
    ]
    controller = make_terminal().window.controller
    enter_pin(qtbot, controller, MANAGER_PIN)
    money = money_of(controller)
    qtbot.waitUntil(lambda: controller.current() is money.screens.menu, timeout=3000)

    click(qtbot, money.screens.menu.list_button)
    rows = money.screens.list.list
    qtbot.waitUntil(lambda: rows.count() == 4, timeout=3000)

    texts = [rows.item(index).text() for index in range(rows.count())]
    assert texts[0].endswith("失敗（口座番号の誤り）")
    assert texts[1].endswith("入金済み")
    assert texts[2].endswith("振込ファイル作成済み")
    assert texts[3].endswith("申請済み")
    assert texts[3].startswith("12/04 15:00　￥5,000 → 口座へ ￥4,600（12月7日（月））")


def test_date_formats() -> None:
    assert format_date(date(2026, 12, 7), "ja") == "12月7日（月）"
    assert format_date(date(2027, 1, 4), "en") == "Mon 4 Jan"
    assert payout_date_text("2026-12-04", "ja", date(2026, 12, 4)) == "本日 12月4日（金）"
    assert payout_date_text("2026-12-07", "ja", date(2026, 12, 5)) == (
        "12月7日（月）（次の銀行営業日）")


def test_leaving_while_checking_keeps_key(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    controller = make_terminal().window.controller
    money = open_amount(qtbot, controller)
    screens = money.screens
    type_amount(qtbot, money, "3000")
    click(qtbot, screens.amount.next_button)
    qtbot.waitUntil(lambda: controller.current() is screens.confirm, timeout=3000)
    fake_api.lose_responses = 1

    click(qtbot, screens.confirm.confirm_button)
    qtbot.waitUntil(lambda: "結果を確認しています" in screens.confirm.message.text(), timeout=3000)
    click(qtbot, screens.confirm.back_button)
    assert controller.current() is screens.menu
    assert money.cash_out.pending is not None
    click(qtbot, screens.menu.cash_out_button)
    qtbot.waitUntil(lambda: screens.confirm.list_button.isVisible(), timeout=3000)

    keys = [args[1] for name, args in fake_api.calls if name == "request_cash_out"]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(fake_api.cash_outs) == 1
    assert money.cash_out.pending is None


def test_unanswered_request_kept_in_store(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    store = terminal.offline.store
    money = open_amount(qtbot, controller)
    money.cash_out.stop()
    type_amount(qtbot, money, "5000")
    click(qtbot, money.screens.amount.next_button)
    qtbot.waitUntil(lambda: controller.current() is money.screens.confirm, timeout=3000)
    fake_api.lose_responses = 1

    click(qtbot, money.screens.confirm.confirm_button)
    qtbot.waitUntil(lambda: "結果を確認しています" in money.screens.confirm.message.text(), timeout=3000)

    pending = money.cash_out.pending
    assert pending is not None
    assert store.pending_cash_out() == (pending.idempotency_key, 5000)


def test_restart_resends_unanswered_request(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    terminal = make_terminal()
    store = terminal.offline.store
    store.open_cash_out("cashout-restart-0001", 3000, datetime.now(UTC))

    open_amount(qtbot, terminal.window.controller)
    qtbot.waitUntil(lambda: len(fake_api.cash_outs) == 1, timeout=3000)

    keys = [args[1] for name, args in fake_api.calls if name == "request_cash_out"]
    assert keys == ["cashout-restart-0001"]
    assert fake_api.balance_yen == 12_000 - 3000
    qtbot.waitUntil(lambda: store.pending_cash_out() is None, timeout=3000)
