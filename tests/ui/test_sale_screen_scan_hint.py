"""A payment code scanned on the sale screen gets a hint that matches what the clerk did."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from terminal import coupon_pairing
from terminal.paycode import new_payment_code
from tests.ui.test_coupon_counter_screens import (  # noqa: F401 - fixtures used by name
    CouponFakeApi,
    fake_api,
    make_coupon,
    terminal_config,
)
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal

PRESS_CODE_FIRST = "「コードを読む」を押してから、お客様のコードを読み取ってください"
ENTER_AMOUNT_FIRST = "先に金額を入力して「コードを読む」を押してください"


def paired_code() -> str:
    return coupon_pairing.join(new_payment_code(), make_coupon())


@pytest.mark.parametrize("make_code", [new_payment_code, paired_code], ids=["plain", "paired"])
def test_code_after_amount_asks_for_button(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    make_code: Callable[[], str],
) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale
    enter_amount(qtbot, terminal, "3000")

    scan(screen.keypad.buttons["7"], make_code())
    qtbot.waitUntil(lambda: terminal.window.hint.text() != "", timeout=5000)

    assert terminal.window.hint.text() == PRESS_CODE_FIRST
    assert [name for name in fake_api.names() if name != "coupon_campaigns"] == []


def test_typed_amount_counts_as_entered(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale
    terminal.window.controller.sale.press("5")

    scan(screen.keypad.buttons["7"], new_payment_code())
    qtbot.waitUntil(lambda: terminal.window.hint.text() != "", timeout=5000)

    assert terminal.window.hint.text() == PRESS_CODE_FIRST


def test_code_before_amount_asks_for_amount(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale

    scan(screen.keypad.buttons["7"], new_payment_code())
    qtbot.waitUntil(lambda: terminal.window.hint.text() != "", timeout=5000)

    assert terminal.window.hint.text() == ENTER_AMOUNT_FIRST


def test_hint_after_amount_english(
    english: None, qtbot: QtBot, make_terminal: Callable[[str], Terminal],
    fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal("en")
    screen = terminal.window.controller.screens.sale
    enter_amount(qtbot, terminal, "3000")

    scan(screen.keypad.buttons["7"], new_payment_code())
    qtbot.waitUntil(lambda: terminal.window.hint.text() != "", timeout=5000)

    assert terminal.window.hint.text() == 'Press "Scan code" first, then scan the customer\'s code'
