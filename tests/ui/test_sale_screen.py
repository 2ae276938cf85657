from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractSpinBox, QLineEdit, QPlainTextEdit, QPushButton, QTextEdit
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

    assert screen.lines.text() == "　10%\u00a0￥1,100\u3000\u3000※8%\u00a0￥890"
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


def test_department_keys_say_they_add(make_terminal: Callable[[], Terminal]) -> None:
    screen = make_terminal().window.controller.screens.sale

    assert screen.standard_button.text() == "10%で確定"
    assert screen.reduced_button.text() == "8%（軽減）で確定"
    assert screen.standard_button.height() >= 64
    assert screen.reduced_button.height() >= 64


def test_department_labels_not_clipped(make_terminal: Callable[[], Terminal]) -> None:
    screen = make_terminal().window.controller.screens.sale

    for button in (screen.standard_button, screen.reduced_button):
        text_width = button.fontMetrics().horizontalAdvance(button.text())
        assert button.width() > text_width


def _centre_colour(button: QPushButton) -> QColor:
    image = button.grab().toImage()
    # Sample left of centre, in the padding between the border and the label text.
    return image.pixelColor(12, image.height() // 2)


def test_disabled_refund_button_is_grey(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    controller = make_terminal().window.controller
    qtbot.mouseClick(controller.screens.sale.history_button, Qt.MouseButton.LeftButton)
    refund_button = controller.screens.history.refund_button

    assert not refund_button.isEnabled()
    disabled = _centre_colour(refund_button)
    refund_button.setEnabled(True)
    enabled = _centre_colour(refund_button)

    assert enabled.red() > 150 and enabled.green() < 80
    assert abs(disabled.red() - disabled.green()) < 16
    assert abs(disabled.green() - disabled.blue()) < 16


@pytest.mark.parametrize("with_banner", [False, True])
def test_terminal_fits_small_tablet(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], with_banner: bool
) -> None:
    window = make_terminal().window
    if with_banner:
        window.show_hint("サーバーに接続できません。ネットワークの接続を確認してください。")
        qtbot.waitUntil(window.hint.isVisible, timeout=1000)

    minimum = window.minimumSizeHint()

    assert minimum.width() <= 1024
    assert minimum.height() <= 600
