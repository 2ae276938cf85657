from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QPlainTextEdit, QTextEdit
from pytestqt.qtbot import QtBot

from terminal.sale import SaleState
from ui.app import Terminal


def press(qtbot: QtBot, terminal: Terminal, *keys: str) -> None:
    keypad = terminal.window.controller.screens.sale.keypad
    for key in keys:
        qtbot.mouseClick(keypad.buttons[key], Qt.MouseButton.LeftButton)


def test_keypad_drives_amount(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale

    press(qtbot, terminal, "1", "9", "9", "0")
    assert screen.entry.text() == "￥1,990"

    press(qtbot, terminal, "backspace")
    assert screen.entry.text() == "￥199"

    press(qtbot, terminal, "00")
    assert screen.entry.text() == "￥19,900"

    press(qtbot, terminal, "clear")
    assert screen.entry.text() == "￥0"


def test_department_keys_build_lines(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale

    press(qtbot, terminal, "1", "1", "0", "0")
    qtbot.mouseClick(screen.standard_button, Qt.MouseButton.LeftButton)
    press(qtbot, terminal, "8", "9", "0")
    qtbot.mouseClick(screen.reduced_button, Qt.MouseButton.LeftButton)

    assert screen.lines.text().splitlines() == ["　10%　￥1,100", "※8%　￥890"]
    assert screen.total.text() == "合計 ￥1,990"
    assert screen.entry.text() == "￥0"


def test_no_text_entry_widget_exists(make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    text_widgets = (QLineEdit, QTextEdit, QPlainTextEdit, QAbstractSpinBox)

    found = [w for kind in text_widgets for w in terminal.window.findChildren(kind)]

    assert found == []


def test_touch_targets_are_large(make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale

    buttons = [*screen.keypad.buttons.values(), screen.qr_button, screen.code_button]

    assert min(button.height() for button in buttons) >= 64


def test_physical_digits_typed_slowly(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale

    for key in (Qt.Key.Key_5, Qt.Key.Key_0, Qt.Key.Key_0):
        qtbot.keyClick(screen.keypad.buttons["5"], key)
        qtbot.wait(80)
    qtbot.waitUntil(lambda: screen.entry.text() == "￥500", timeout=2000)


def test_payment_without_amount_stays(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    screen = controller.screens.sale

    qtbot.mouseClick(screen.qr_button, Qt.MouseButton.LeftButton)

    assert controller.current() is screen
    assert "金額" in screen.hint.text()
    assert controller.sale.state is SaleState.IDLE
