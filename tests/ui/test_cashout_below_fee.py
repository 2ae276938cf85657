"""A cash-out amount that does not cover its fee: the clerk sees the fee and 円に交換 wording."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from terminal import messages
from terminal.api_client import Declined
from terminal.protocol import ErrorCode
from tests.ui.cashout_fakes import FakeMoneyApi, fee_yen
from tests.ui.conftest import MANAGER_PIN, FakeApi
from ui.app import Terminal
from ui.cashout_flow import MoneyFlow
from ui.cashout_presenter import fee_in_message


@pytest.fixture
def fake_api() -> FakeApi:
    return FakeMoneyApi()


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def open_amount(qtbot: QtBot, terminal: Terminal) -> MoneyFlow:
    controller = terminal.window.controller
    click(qtbot, controller.screens.sale.history_button)
    click(qtbot, controller.screens.history.money_button)
    money = controller.money
    assert money is not None
    for digit in MANAGER_PIN:
        click(qtbot, money.screens.pin.pad.keypad.buttons[digit])
    click(qtbot, money.screens.pin.pad.ok_button)
    qtbot.waitUntil(lambda: controller.current() is money.screens.menu, timeout=3000)
    click(qtbot, money.screens.menu.cash_out_button)
    qtbot.waitUntil(lambda: money.screens.amount.full_button.isEnabled(), timeout=3000)
    return money


def test_below_fee_shows_fee(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeMoneyApi
) -> None:
    money = open_amount(qtbot, make_terminal())
    for key in ("clear", "3", "0", "0"):
        click(qtbot, money.screens.amount.keypad.buttons[key])

    click(qtbot, money.screens.amount.next_button)
    qtbot.waitUntil(lambda: money.screens.amount.message.text() != "", timeout=3000)

    text = money.screens.amount.message.text()
    assert fee_yen(300) == 306
    assert "この金額の手数料は ￥306" in text
    assert "円に交換できません" in text
    assert "出金" not in text
    assert fake_api.cash_outs == []


def test_fee_read_from_server_message() -> None:
    message = (
        "cash-out of 300 yen does not cover its fee of 1306 yen"
        " (1300 yen monthly, 6 yen metered); cash out a larger amount"
    )

    assert fee_in_message(message) == 1306
    assert fee_in_message("below fee") is None


def test_below_fee_without_fee_generic_text() -> None:
    error = Declined("below fee", ErrorCode.AMOUNT_BELOW_FEE, 422)

    text = messages.message_for(error, "ja")

    assert "円に交換できません" in text
    assert "手数料より多い金額" in text


@pytest.mark.parametrize(
    "key", [ErrorCode.AMOUNT_BELOW_FEE, ErrorCode.FEE_PLAN_MISSING, ErrorCode.BANK_ACCOUNT_MISSING,
            messages.CASH_OUT_BELOW_FEE],
)
def test_cash_out_messages_say_exchange(key: str) -> None:
    text = messages.message_for(key, "ja", fee="￥306")

    assert "出金" not in text
    assert "円に交換" in text
