"""Keyboard-wedge scans as Qt key events carrying window-system timestamps.

Each event is stamped with the time a scanner or a person would have pressed the key and sent
at once, so only the timestamps tell a scan from typing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from drivers.scanner.base import Layout
from drivers.scanner.wedge import WedgeDetector
from terminal import messages
from terminal.paycode import new_payment_code
from terminal.sale import SaleState
from tests.ui.conftest import FakeApi
from ui.app import Terminal
import ui.scanning
from ui.scanning import KeyClock, ScanFilter

SCANNER_GAP_MS = 4
HUMAN_GAP_MS = 150
START_MS = 500_000

KEYS_WITHOUT_TEXT_CHANGE = {
    "\r": Qt.Key.Key_Return,
    "\t": Qt.Key.Key_Tab,
}


def key_event(char: str, timestamp_ms: int) -> QKeyEvent:
    """A key press as the window system delivers it; Ctrl+J for a line feed."""
    modifiers = Qt.KeyboardModifier.NoModifier
    if char in KEYS_WITHOUT_TEXT_CHANGE:
        key = KEYS_WITHOUT_TEXT_CHANGE[char]
    elif char == "\n":
        key, modifiers = Qt.Key.Key_J, Qt.KeyboardModifier.ControlModifier
    elif char.isascii() and char.isalnum():
        key = Qt.Key(ord(char.upper()))
    else:
        key = Qt.Key.Key_unknown
    event = QKeyEvent(QEvent.Type.KeyPress, key, modifiers, char)
    event.setTimestamp(timestamp_ms)
    return event


def send_keys(
    target: QWidget, text: str, start_ms: int = START_MS, gap_ms: int = SCANNER_GAP_MS
) -> int:
    """Send ``text`` one key every ``gap_ms`` of event time; return the next free time."""
    now_ms = start_ms
    for char in text:
        QApplication.sendEvent(target, key_event(char, now_ms))
        now_ms += gap_ms
    return now_ms


def full_width(text: str) -> str:
    return "".join(chr(ord(char) + 0xFEE0) for char in text)


@dataclass
class Seen:
    scans: list[str] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)


@dataclass
class FilterUnderTest:
    scan_filter: ScanFilter
    target: QPushButton
    seen: Seen


@pytest.fixture
def make_filter(qapp: QApplication) -> Iterator[Callable[..., FilterUnderTest]]:
    """Install a ScanFilter with the given WedgeDetector settings in front of a lone button."""
    installed: list[FilterUnderTest] = []

    def make(**settings: object) -> FilterUnderTest:
        scan_filter = ScanFilter(WedgeDetector(**settings))  # type: ignore[arg-type]
        scan_filter.install(qapp)
        target = QPushButton("target")
        target.show()
        seen = Seen()
        scan_filter.scanned.connect(seen.scans.append)
        scan_filter.typed.connect(seen.typed.append)
        scan_filter.rejected.connect(seen.rejected.append)
        installed.append(FilterUnderTest(scan_filter, target, seen))
        return installed[-1]

    yield make
    for under_test in installed:
        qapp.removeEventFilter(under_test.scan_filter)
        under_test.target.close()


def test_ime_full_width_burst_folded(
    qtbot: QtBot, make_filter: Callable[..., FilterUnderTest]
) -> None:
    under_test = make_filter()
    code = new_payment_code()

    send_keys(under_test.target, full_width(code) + "\r")

    assert under_test.seen.scans == [code]
    assert under_test.seen.typed == []


def test_kana_burst_rejected_with_hint(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    rejected: list[str] = []
    scans: list[str] = []
    terminal.scan_filter.rejected.connect(rejected.append)
    terminal.scan_filter.scanned.connect(scans.append)
    screen = terminal.window.controller.screens.sale

    # Digits typed by the scanner on a JIS keyboard while the input method is in kana mode.
    send_keys(screen.keypad.buttons["1"], "ぬふあうえおやゆわほへ\r")

    assert rejected == [messages.SCANNER_KANA_MODE]
    assert scans == []
    assert "日本語入力をオフ" in screen.hint.text()
    assert screen.entry.text() == "￥0"
    assert fake_api.names() == []


@pytest.mark.parametrize(
    ("layout", "typed_by_host", "meant"),
    [
        ("us_on_jis", 'pay"shop+1=2@3[4]\r', "pay@shop:1_2[3]4\\"),
        ("jis_on_us", "pay[shop'1_2@3\r", 'pay@shop:1=2"3'),
    ],
)
def test_layout_swap_repaired(
    qtbot: QtBot,
    make_filter: Callable[..., FilterUnderTest],
    layout: Layout,
    typed_by_host: str,
    meant: str,
) -> None:
    under_test = make_filter(layout=layout)

    send_keys(under_test.target, typed_by_host)

    assert under_test.seen.scans == [meant]


@pytest.mark.parametrize("extra", ["\n", "\r"], ids=["crlf", "enter-twice"])
def test_doubled_suffix_is_one_scan(
    qtbot: QtBot, make_filter: Callable[..., FilterUnderTest], extra: str
) -> None:
    under_test = make_filter(suffix="enter")
    code = new_payment_code()

    send_keys(under_test.target, code + "\r" + extra)
    qtbot.wait(50)

    assert under_test.seen.scans == [code]
    assert under_test.seen.typed == []


@pytest.mark.parametrize(("suffix", "sent"), [("tab", "\t"), ("lf", "\n"), ("crlf", "\r\n")])
def test_configured_suffix_ends_scan(
    qtbot: QtBot, make_filter: Callable[..., FilterUnderTest], suffix: str, sent: str
) -> None:
    under_test = make_filter(suffix=suffix)
    code = new_payment_code()

    send_keys(under_test.target, code + sent)

    assert under_test.seen.scans == [code]


def test_prefix_required_and_stripped(
    qtbot: QtBot, make_filter: Callable[..., FilterUnderTest]
) -> None:
    under_test = make_filter(prefix="]Q1")
    code = new_payment_code()

    send_keys(under_test.target, "]Q1" + code + "\r")

    assert under_test.seen.scans == [code]


def test_repeated_burst_in_window_is_one_scan(
    qtbot: QtBot, make_filter: Callable[..., FilterUnderTest]
) -> None:
    under_test = make_filter(repeat_window_ms=1500)
    code = new_payment_code()

    next_ms = send_keys(under_test.target, code + "\r")
    next_ms = send_keys(under_test.target, code + "\r", start_ms=next_ms + 250)
    send_keys(under_test.target, code + "\r", start_ms=next_ms + 250)

    assert under_test.seen.scans == [code]
    assert under_test.seen.typed == []


def test_human_typing_passes_through(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale
    scans: list[str] = []
    terminal.scan_filter.scanned.connect(scans.append)

    # As fast a burst, six digits and Enter would be a scan (min_length is 6).
    send_keys(screen.keypad.buttons["1"], "123456\r", gap_ms=HUMAN_GAP_MS)
    qtbot.waitUntil(lambda: screen.entry.text() == "￥123,456", timeout=3000)
    qtbot.wait(100)

    assert scans == []
    assert screen.entry.text() == "￥123,456"


def test_key_clock_keeps_gaps_and_resyncs(monkeypatch: pytest.MonkeyPatch) -> None:
    now_ms = [10_000.0]
    monkeypatch.setattr(ui.scanning, "_now_ms", lambda: now_ms[0])
    clock = KeyClock()

    first = clock.time_of(500)
    second = clock.time_of(650)  # arrives with the first, stamped 150 ms later
    now_ms[0] = 14_000.0  # the GUI thread stalled for 4 s
    queued = clock.time_of(800)
    other_origin = clock.time_of(90_000_000)
    unstamped = clock.time_of(0)

    assert first == 10_000.0
    assert second == 10_150.0
    assert queued == 10_300.0
    assert other_origin == 14_000.0
    assert unstamped == 14_000.0


def start_code_payment(qtbot: QtBot, terminal: Terminal, digits: str = "500") -> None:
    controller = terminal.window.controller
    screen = controller.screens.sale
    for digit in digits:
        qtbot.mouseClick(screen.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.standard_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.code_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.cpm


@pytest.mark.parametrize("damage", ["dropped", "extra"])
def test_damaged_scan_rejected_and_not_looked_up(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi, damage: str
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    start_code_payment(qtbot, terminal)
    code = new_payment_code()
    damaged = code[:9] + code[10:] if damage == "dropped" else code[:9] + "7" + code[9:]

    send_keys(controller.screens.cpm.back_button, damaged + "\r")
    qtbot.waitUntil(lambda: "読み取れません" in controller.screens.cpm.status.text(), timeout=2000)
    qtbot.wait(100)

    assert controller.current() is controller.screens.cpm
    assert controller.sale.state is SaleState.CPM_WAITING
    assert "redeem_cpm" not in fake_api.names()
    assert fake_api.payments == []


def test_damaged_scan_message_in_english(
    qtbot: QtBot, make_terminal: Callable[[str], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal("en")
    controller = terminal.window.controller
    start_code_payment(qtbot, terminal)

    send_keys(controller.screens.cpm.back_button, new_payment_code()[:-1] + "\r")
    qtbot.waitUntil(lambda: "Scan it again" in controller.screens.cpm.status.text(), timeout=2000)

    assert "redeem_cpm" not in fake_api.names()


def test_scan_taken_with_focus_elsewhere(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    start_code_payment(qtbot, terminal, "1990")
    back = controller.screens.cpm.back_button
    back.setFocus()
    code = new_payment_code()

    # The window system sends keys to the focus widget, here the code screen's back button.
    send_keys(back, code + "\r")
    qtbot.waitUntil(lambda: controller.current() is controller.screens.result, timeout=3000)

    assert controller.sale.state is SaleState.APPROVED
    assert fake_api.used_codes == {code}
    assert fake_api.names().count("redeem_cpm") == 1
