from __future__ import annotations

import pytest
from PySide6.QtCore import QRect

from ui.demo_windows import (
    PHONE_SIZE,
    SIDE_MIN_WIDTH_PX,
    TERMINAL_SIZE,
    TITLE_BAR_PX,
    WindowPlan,
    plan_windows,
    preferred_plan,
)

PHONE_MIN_HEIGHT = 680


def windows(plan: WindowPlan) -> list[QRect]:
    return [plan.terminal, plan.preview, plan.phone]


def framed(rect: QRect) -> QRect:
    """The rectangle with the title bar that the window manager adds above it."""
    return QRect(rect.x(), rect.y(), rect.width(), rect.height() + TITLE_BAR_PX)


def test_wide_screen_keeps_preferred_sizes() -> None:
    plan = plan_windows(QRect(0, 0, 1920, 1080), PHONE_MIN_HEIGHT)

    assert plan == preferred_plan()
    assert plan.terminal.size() == TERMINAL_SIZE
    assert plan.phone.size() == PHONE_SIZE


@pytest.mark.parametrize("screen", [QRect(0, 0, 1600, 1000), QRect(0, 0, 1920, 1080)])
def test_windows_fit_without_overlap(screen: QRect) -> None:
    plan = plan_windows(screen, PHONE_MIN_HEIGHT)

    for rect in windows(plan):
        assert screen.contains(framed(rect))
        assert rect.width() >= SIDE_MIN_WIDTH_PX
    assert not framed(plan.terminal).intersects(framed(plan.preview))
    assert not framed(plan.preview).intersects(framed(plan.phone))
    assert plan.phone.height() >= PHONE_MIN_HEIGHT


def test_narrow_screen_stacks_side_windows() -> None:
    screen = QRect(0, 0, 1366, 768)

    plan = plan_windows(screen, PHONE_MIN_HEIGHT)

    assert plan.preview.x() == plan.phone.x()
    assert plan.phone.y() > plan.preview.y()
    assert not framed(plan.terminal).intersects(framed(plan.phone))
    assert screen.contains(framed(plan.phone))


@pytest.mark.parametrize("screen", [QRect(0, 0, 1024, 600), QRect(0, 0, 640, 480)])
def test_small_screen_keeps_terminal_usable(screen: QRect) -> None:
    plan = plan_windows(screen, PHONE_MIN_HEIGHT)

    assert plan.terminal.width() >= 1024
    assert plan.terminal.height() >= 600
    for rect in (plan.preview, plan.phone):
        assert rect.right() <= max(screen.right(), plan.terminal.right())
        assert rect.x() >= screen.x()


def test_screen_offset_respected() -> None:
    screen = QRect(1920, 40, 1920, 1040)

    plan = plan_windows(screen, PHONE_MIN_HEIGHT)

    assert plan.terminal.topLeft() == screen.topLeft()
    assert all(screen.contains(framed(rect)) for rect in windows(plan))
