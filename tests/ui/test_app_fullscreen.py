"""How ``chiiki-pos run`` shows the terminal window: maximised, or full screen for the kiosk."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.app import Terminal, _parse_args, show_window


def test_run_parses_fullscreen_option() -> None:
    assert _parse_args(["--fullscreen"]).fullscreen is True
    assert _parse_args([]).fullscreen is False


def test_fullscreen_window_fills_screen(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    window = make_terminal().window
    window.resize(640, 400)

    show_window(window, fullscreen=True)
    qtbot.waitUntil(window.isFullScreen, timeout=2000)

    assert window.windowState() & Qt.WindowState.WindowFullScreen
    screen = window.screen().geometry()
    qtbot.waitUntil(lambda: window.geometry().size() == screen.size(), timeout=2000)
    assert window.geometry().size() == screen.size()


def test_window_without_fullscreen_is_maximised(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    window = make_terminal().window

    show_window(window, fullscreen=False)
    qtbot.waitUntil(window.isMaximized, timeout=2000)

    assert not window.isFullScreen()
    assert window.windowState() & Qt.WindowState.WindowMaximized
