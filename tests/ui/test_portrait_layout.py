"""The terminal on a 720 x 1280 portrait screen and on a 1024 x 600 landscape tablet.

A label is clipped when its text is wider than the space the button's style leaves for it:
the contents rectangle less the style sheet's border and padding (SE_PushButtonContents).
``contentsRect`` alone ignores the padding, so a label 20 pixels too wide for a padded button
would pass.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QPushButton, QStyle, QStyleOptionButton, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import make_payment
from ui.app import Terminal
from ui.terminal_window import TerminalWindow

PORTRAIT = (720, 1280)
LANDSCAPE = (1024, 600)


def _text_room_px(button: QPushButton) -> int:
    option = QStyleOptionButton()
    button.initStyleOption(option)
    style = button.style()
    inside = style.subElementRect(QStyle.SubElement.SE_PushButtonContents, option, button)
    return min(inside.width(), button.contentsRect().width())


def clipped_buttons(screen: QWidget) -> list[str]:
    """List the visible buttons on ``screen`` whose label is wider than the room for it."""
    clipped = []
    for button in screen.findChildren(QPushButton):
        if not button.isVisible():
            continue
        metrics = QFontMetrics(button.font())
        widest_px = max(metrics.horizontalAdvance(line) for line in button.text().split("\n"))
        room_px = _text_room_px(button)
        if widest_px > room_px:
            clipped.append(f"{button.text()!r}: text {widest_px} px, room {room_px} px")
    return clipped


def _resize(qtbot: QtBot, window: TerminalWindow, size: tuple[int, int]) -> None:
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size, timeout=2000)


def _screens_to_check(terminal: Terminal) -> list[tuple[str, Callable[[], QWidget]]]:
    controller = terminal.window.controller
    screens = controller.screens

    def sale() -> QWidget:
        return screens.sale

    def code() -> QWidget:
        screens.cpm.prepare(1990)
        return screens.cpm

    def qr() -> QWidget:
        screens.mpm.prepare(1990)
        return screens.mpm

    def approved() -> QWidget:
        screens.result.show_approved(make_payment("pay-1", 1990))
        screens.result.show_print_failed("プリンターの用紙がありません")
        return screens.result

    def declined() -> QWidget:
        screens.result.show_declined("お支払いできませんでした", "残高が足りません", 1990)
        return screens.result

    return [("sale", sale), ("code", code), ("qr", qr), ("approved", approved), ("declined", declined)]


@pytest.mark.parametrize("size", [PORTRAIT, LANDSCAPE], ids=["720x1280", "1024x600"])
def test_button_labels_fit(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], size: tuple[int, int]
) -> None:
    terminal = make_terminal()
    window = terminal.window
    _resize(qtbot, window, size)

    for name, show in _screens_to_check(terminal):
        screen = show()
        window.controller.show(screen)
        qtbot.waitExposed(window)
        qtbot.wait(20)

        assert clipped_buttons(screen) == [], name


def test_sale_keypad_below_amount_in_portrait(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    window = make_terminal().window
    sale = window.controller.screens.sale

    _resize(qtbot, window, PORTRAIT)
    qtbot.waitUntil(lambda: sale.portrait, timeout=2000)
    qtbot.waitUntil(lambda: sale.keypad.geometry().top() > sale.code_button.geometry().bottom(), timeout=2000)

    assert sale.keypad.width() > sale.width() * 0.9
    assert sale.reduced_button.width() > sale.width() * 0.4


def test_sale_keypad_beside_amount_in_landscape(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    window = make_terminal().window
    sale = window.controller.screens.sale

    _resize(qtbot, window, LANDSCAPE)

    assert not sale.portrait
    assert sale.keypad.geometry().left() > sale.code_button.geometry().right()


def test_window_fits_portrait_width(make_terminal: Callable[[], Terminal]) -> None:
    window = make_terminal().window

    assert window.minimumSizeHint().width() <= PORTRAIT[0]
