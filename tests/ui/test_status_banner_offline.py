"""The connection strip while offline: no leftover progress bar, and the text stays short."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from terminal.sync import OutboxStatus
from ui.app import Terminal
from ui.status_banner import ConnectionBanner

OFFLINE = OutboxStatus(online=False, waiting_count=0, waiting_total_yen=0)


def deliver(terminal: Terminal, qtbot: QtBot, status: OutboxStatus) -> None:
    bridge = terminal.offline.status
    with qtbot.waitSignal(bridge.changed, timeout=2000):
        bridge.deliver(status)


def wrapped_line_count(label: QLabel) -> int:
    metrics = QFontMetrics(label.font())
    bounds = metrics.boundingRect(
        QRect(0, 0, label.contentsRect().width(), 10_000),
        int(Qt.TextFlag.TextWordWrap),
        label.text(),
    )
    return round(bounds.height() / metrics.lineSpacing())


def test_sent_bar_hidden_when_offline(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")
    banner.show_status(OutboxStatus(online=True, waiting_count=1, backlog_sent=9, backlog_total=10))
    banner.show_status(OutboxStatus(online=True))
    assert banner.progress.format() == "送信しました"

    banner.show_status(OFFLINE)

    assert banner.progress.isHidden()
    assert banner.state_text.startswith("オフライン　未送信 0件 ￥0")


def test_sent_bar_stays_hidden_after_offline(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")
    banner.show_status(OutboxStatus(online=True, waiting_count=1, backlog_sent=9, backlog_total=10))
    banner.show_status(OutboxStatus(online=True))
    banner.show_status(OFFLINE)

    banner.show_status(OutboxStatus(online=True))

    assert banner.progress.isHidden()


def test_drain_ending_offline_not_sent(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")
    banner.show_status(OutboxStatus(online=True, waiting_count=1, backlog_sent=9, backlog_total=10))

    banner.show_status(OFFLINE)

    assert banner.progress.isHidden()
    assert banner.progress.format() != "送信しました"


def test_english_offline_text_two_lines(
    english: None, qtbot: QtBot, make_terminal: Callable[[str], Terminal]
) -> None:
    terminal = make_terminal("en")
    sale = terminal.window.controller.screens.sale
    banner = sale.banner
    online_keypad_top = sale.keypad.mapTo(terminal.window, sale.keypad.rect().topLeft()).y()

    deliver(
        terminal,
        qtbot,
        OutboxStatus(online=False, waiting_count=3, waiting_total_yen=4_200, declined_count=2),
    )
    qtbot.wait(50)

    screenshot_dir = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if screenshot_dir:
        terminal.window.grab().save(str(Path(screenshot_dir) / "banner_offline_en.png"))
    assert banner.state_text.startswith("Offline")
    assert wrapped_line_count(banner.state.label) <= 2
    offline_keypad_top = sale.keypad.mapTo(terminal.window, sale.keypad.rect().topLeft()).y()
    line_spacing = QFontMetrics(banner.state.label.font()).lineSpacing()
    # The connecting line has one line of text, so the offline text may add one line but not two.
    assert offline_keypad_top - online_keypad_top < line_spacing * 2
