"""A long sale never pushes the sale screen past a 1024 x 600 display."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from terminal import messages
from terminal.coupons import CouponRejected, coupon_message
from tests.ui.test_coupon_counter_screens import (  # noqa: F401 - fixtures used by name
    CouponFakeApi,
    fake_api,
    make_coupon,
    scan_coupon,
    terminal_config,
)
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal
from ui.sale_screen import MAX_ROWS, MAX_ROWS_WITH_COUPON

SIZES = [(1024, 600), (720, 1280)]
HINT = coupon_message(messages.REMOVE_REJECTED, "ja")


def shown_yen(text: str) -> int:
    """Sum every amount the lines show, the summed older lines included."""
    return sum(int(amount.replace(",", "")) for amount in re.findall(r"￥([\d,]+)", text))


def fill_sale(qtbot: QtBot, terminal: Terminal, count: int) -> int:
    amounts = [1_000 + index for index in range(count)]
    for amount in amounts:
        enter_amount(qtbot, terminal, str(amount))
    return sum(amounts)


@pytest.mark.parametrize("size", SIZES, ids=["1024x600", "720x1280"])
@pytest.mark.parametrize("count", [1, 2, 5, 12])
def test_lines_with_rejected_coupon_keep_window_size(
    qtbot: QtBot, make_terminal: Callable[[str], Terminal], fake_api: CouponFakeApi,
    size: tuple[int, int], count: int,
) -> None:
    terminal = make_terminal("ja")
    window = terminal.window
    window.resize(*size)
    screen = window.controller.screens.sale
    total_yen = fill_sale(qtbot, terminal, count)
    scan_coupon(qtbot, terminal, make_coupon(minimum_spend_yen=100))
    screen.show_hint(HINT)
    window.controller.sale.sale.coupon_rejection = CouponRejected(
        "coupon_used", "test", minimum_spend_yen=0)
    screen.coupon_panel.refresh()
    window.resize(*size)
    qtbot.wait(10)

    assert window.size().toTuple() == size
    assert screen.lines.text().count("\n") + 1 <= MAX_ROWS_WITH_COUPON
    assert shown_yen(screen.lines.text()) == total_yen


@pytest.mark.parametrize("count", [3, 9, 20])
def test_long_sale_sums_older_lines(
    qtbot: QtBot, make_terminal: Callable[[str], Terminal], count: int
) -> None:
    terminal = make_terminal("ja")
    window = terminal.window
    window.resize(1024, 600)
    screen = window.controller.screens.sale
    total_yen = fill_sale(qtbot, terminal, count)
    screen.show_hint(HINT)
    window.resize(1024, 600)
    qtbot.wait(10)

    text = screen.lines.text()
    assert window.size().toTuple() == (1024, 600)
    assert text.count("\n") + 1 <= MAX_ROWS
    assert shown_yen(text) == total_yen
    assert f"￥{1_000 + count - 1:,}" in text
    shown_entries = len(re.findall(r"10%", text))
    hidden = re.search(r"ほか(\d+)件", text)
    assert (int(hidden.group(1)) if hidden else 0) + shown_entries == count


def test_summary_in_english(
    qtbot: QtBot, english: None, make_terminal: Callable[[str], Terminal]
) -> None:
    terminal = make_terminal("en")
    terminal.window.resize(1024, 600)
    fill_sale(qtbot, terminal, 9)

    assert re.search(r"\d+\u00a0more\u00a0￥", terminal.window.controller.screens.sale.lines.text())
