from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from terminal.paycode import new_payment_code
from terminal.sale import SaleState
from tests.ui.conftest import FakeApi
from ui.app import Terminal


def scan(target: QWidget, text: str) -> None:
    """Type ``text`` and Enter as fast as Qt delivers it, like a keyboard-wedge scanner."""
    QTest.keyClicks(target, text)
    QTest.keyClick(target, Qt.Key.Key_Return)


def send_text_keys(target: QWidget, text: str) -> None:
    """Send one key press per character, for text QTest cannot map to keys (full width)."""
    for char in text:
        event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char)
        QApplication.sendEvent(target, event)


def enter_amount(qtbot: QtBot, terminal: Terminal, digits: str) -> None:
    screen = terminal.window.controller.screens.sale
    for digit in digits:
        qtbot.mouseClick(screen.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.standard_button, Qt.MouseButton.LeftButton)


def test_scan_burst_is_swallowed(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale
    code = new_payment_code()

    with qtbot.waitSignal(terminal.scan_filter.scanned, timeout=2000) as blocker:
        scan(screen.keypad.buttons["7"], code)
    qtbot.wait(100)

    assert blocker.args == [code]
    assert screen.entry.text() == "￥0"
    assert terminal.window.hint.text() == "先に金額を入力して「コードを読む」を押してください"


def test_full_width_scan_is_folded(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    code = new_payment_code()
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in code)

    with qtbot.waitSignal(terminal.scan_filter.scanned, timeout=2000) as blocker:
        send_text_keys(terminal.window, full_width)
        QTest.keyClick(terminal.window, Qt.Key.Key_Return)

    assert blocker.args == [code]


def test_human_typing_is_not_a_scan(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale
    scans: list[str] = []
    terminal.scan_filter.scanned.connect(scans.append)

    for digit in "12345":
        QTest.keyClick(screen.keypad.buttons["1"], digit)
        qtbot.wait(90)
    QTest.keyClick(screen.keypad.buttons["1"], Qt.Key.Key_Return)
    qtbot.wait(100)

    assert scans == []
    assert screen.entry.text() == "￥12,345"


def test_scan_in_code_screen_pays(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "1990")
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.cpm
    code = new_payment_code()

    scan(controller.screens.cpm.back_button, code)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)

    assert controller.sale.state is SaleState.APPROVED
    assert controller.screens.result.headline.text() == "承認"
    assert controller.screens.result.amount.text() == "￥1,990"
    assert fake_api.names().count("redeem_cpm") == 1


def test_same_code_twice_is_declined(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    code = new_payment_code()
    for _ in range(2):
        controller.next_sale()
        enter_amount(qtbot, terminal, "500")
        qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
        scan(terminal.window, code)
        qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)

    assert controller.sale.state is SaleState.DECLINED
    assert "使用済み" in controller.screens.result.detail.text()
    assert len(fake_api.payments) == 1


def test_malformed_code_is_reported(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "500")
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    scan(terminal.window, "91234567890123456789")
    qtbot.waitUntil(lambda: "読み取れません" in controller.screens.cpm.status.text(), timeout=2000)

    assert controller.current() is controller.screens.cpm
    assert "redeem_cpm" not in fake_api.names()
