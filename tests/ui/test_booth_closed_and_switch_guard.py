"""The booth screen says when its rally is closed, and the switch waits for an empty sale."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from terminal import protocol
from terminal.config import load_config
from tests.ui.test_coupon_counter_screens import make_coupon
from tests.ui.test_mode_switch import (  # noqa: F401 - fixtures used by name
    ENDED_RALLY,
    UPCOMING_RALLY,
    FakeBoothServer,
    click,
    config_path,
    make_switchable,
    modes_of,
    open_mode_page,
    screenshot,
    stamp_screen_of,
)
from tests.ui.test_scanning import enter_amount
from tests.ui.test_stamp_mode import participant, scan
from ui.app import Terminal
from ui.technician.screen import TechnicianScreen

SALE_STARTED = (
    "お会計の途中のため切り替えられません。お会計を終えるか、金額を「C（クリア）」で、"
    "クーポンを「クーポンを外す」で消してから、もう一度開いてください"
)


@pytest.mark.parametrize(("rally", "headline", "detail"), [
    (ENDED_RALLY, "このスタンプラリーは終了しました",
     "期間：2001-04-01 〜 2001-04-30\nスタンプは押せません。係の責任者に確認してください"),
    (UPCOMING_RALLY, "このスタンプラリーはまだ始まっていません",
     "期間：2098-04-01 〜 2098-04-30\n開始日からスタンプを押せます"),
], ids=["ended", "upcoming"])
def test_booth_says_rally_closed(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], rally: protocol.RallyInfo,
    headline: str, detail: str,
) -> None:
    terminal = make_switchable(mode="stamp", server=FakeBoothServer(rally=rally),
                               cached_rally=rally)
    screen = stamp_screen_of(terminal)
    qtbot.waitUntil(lambda: screen.headline.text() == headline, timeout=5000)
    screenshot(screen, f"booth-closed-{rally.starts_on[:4]}-ja.png")

    assert screen.detail.text() == detail
    assert screen.panel.property("state") == "error"

    scan(qtbot, screen, participant())
    assert screen.headline.text() == "スタンプラリーの期間外です"
    click(qtbot, screen.next_button)
    assert screen.headline.text() == headline


def refusal_shown(qtbot: QtBot, terminal: Terminal) -> TechnicianScreen:
    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(lambda: technician.mode.message.text() != "", timeout=5000)
    return technician


def test_switch_refused_with_amount(
    qtbot: QtBot, make_switchable: Callable[..., Terminal], config_path: Path,
) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    enter_amount(qtbot, terminal, "500")

    technician = refusal_shown(qtbot, terminal)
    screenshot(technician, "stamp-mode-refused-amount-ja.png")

    assert technician.mode.message.text() == SALE_STARTED
    assert not technician.mode.confirm_button.isEnabled()
    click(qtbot, technician.mode.confirm_button)
    assert load_config(config_path).mode == "sale"
    assert modes_of(terminal).stamp_screen is None


def test_switch_refused_with_typed_digits(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    terminal.window.controller.sale.press("5")

    assert modes_of(terminal).busy_reason() == SALE_STARTED


def test_switch_refused_with_coupon(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    coupons = terminal.window.controller.sale.coupons
    coupons.scan(make_coupon())

    assert modes_of(terminal).busy_reason() == SALE_STARTED
    coupons.remove()
    assert modes_of(terminal).busy_reason() is None


def test_switch_allowed_after_clear(
    qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(server=FakeBoothServer())
    sale = terminal.window.controller.sale
    enter_amount(qtbot, terminal, "500")
    sale.press("clear")

    assert modes_of(terminal).busy_reason() is None
    technician = open_mode_page(qtbot, terminal)
    qtbot.waitUntil(technician.mode.confirm_button.isEnabled, timeout=5000)
    assert technician.mode.message.text() == ""


def test_closed_booth_and_refusal_english(
    english: None, qtbot: QtBot, make_switchable: Callable[..., Terminal]
) -> None:
    terminal = make_switchable(mode="stamp", server=FakeBoothServer(rally=ENDED_RALLY),
                               cached_rally=ENDED_RALLY, lang="en")
    screen = stamp_screen_of(terminal)
    qtbot.waitUntil(lambda: screen.headline.text() == "This stamp rally has ended", timeout=5000)
    screenshot(screen, "booth-closed-2001-en.png")

    assert screen.detail.text() == (
        "Period: 2001-04-01 to 2001-04-30\nNo stamps can be given. Ask the person in charge")

    terminal.window.controller.sale.press("5")
    assert modes_of(terminal).busy_reason() == (
        'A sale is in progress, so the terminal cannot be switched. Finish the sale, or clear '
        'the amount with "C (Clear)" and the coupon with "Remove coupon", then open this screen '
        'again.')
