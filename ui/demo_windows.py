"""Where the demo's three windows go: the terminal, the printed receipts and the customer phone.

At their preferred sizes the three sit side by side and need about 1,860 pixels of width. On a
smaller screen the terminal keeps its size, because it is the window being demonstrated. The two
side windows shrink first, then stack in one column at the right edge. On a screen too narrow
for the terminal and that column, the column overlaps the terminal's right-hand side.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

log = logging.getLogger(__name__)

TERMINAL_SIZE = QSize(1024, 640)
PREVIEW_SIZE = QSize(420, 760)
PHONE_SIZE = QSize(400, 760)
# The phone's widest button needs about 230 px at the theme's 20 pt, and a 58 mm receipt picture
# is 192 px at the preview's half scale plus a scroll bar, so narrower side windows clip.
SIDE_MIN_WIDTH_PX = 260
# The receipt preview scrolls, so it still works this short; the phone does not scroll, so it
# gets at least its layout's minimum height.
PREVIEW_MIN_HEIGHT_PX = 200
# The terminal's own layout needs this much, so it is never planned smaller.
TERMINAL_MIN_SIZE = QSize(1024, 600)
GAP_PX = 8
# Room left for a window manager's title bar above each window, which Qt does not count in the
# window's size. 32 px covers common desktop themes.
TITLE_BAR_PX = 32
SIDE_BY_SIDE_WIDTH_PX = (
    TERMINAL_SIZE.width() + PREVIEW_SIZE.width() + PHONE_SIZE.width() + 2 * GAP_PX
)


@dataclass(frozen=True)
class WindowPlan:
    """Each window's rectangle: top-left of its frame (as ``QWidget.move`` takes it) and the size
    of its contents (as ``QWidget.resize`` takes it)."""

    terminal: QRect
    preview: QRect
    phone: QRect


def preferred_plan() -> WindowPlan:
    """Place the windows side by side at their preferred sizes, ignoring the screen."""
    screen = QRect(0, 0, SIDE_BY_SIDE_WIDTH_PX, PREVIEW_SIZE.height() + TITLE_BAR_PX)
    return plan_windows(screen, PHONE_SIZE.height())


def plan_windows(available: QRect, phone_min_height: int) -> WindowPlan:
    """Fit the three windows into ``available`` (a screen's available geometry)."""
    left, top = available.x(), available.y()
    width, height = available.width(), available.height() - TITLE_BAR_PX
    terminal_width = max(min(TERMINAL_SIZE.width(), width), TERMINAL_MIN_SIZE.width())
    terminal_height = max(min(TERMINAL_SIZE.height(), height), TERMINAL_MIN_SIZE.height())
    terminal = QRect(left, top, terminal_width, terminal_height)
    side_height = min(PREVIEW_SIZE.height(), height)

    if width >= SIDE_BY_SIDE_WIDTH_PX:
        preview = QRect(terminal.right() + 1 + GAP_PX, top, PREVIEW_SIZE.width(), side_height)
        phone = QRect(preview.right() + 1 + GAP_PX, top, PHONE_SIZE.width(), side_height)
        return WindowPlan(terminal, preview, phone)

    room = width - terminal_width - 2 * GAP_PX
    if room >= 2 * SIDE_MIN_WIDTH_PX:
        side_width = min(room // 2, PREVIEW_SIZE.width())
        preview = QRect(terminal.right() + 1 + GAP_PX, top, side_width, side_height)
        phone = QRect(preview.right() + 1 + GAP_PX, top, side_width, side_height)
        return WindowPlan(terminal, preview, phone)

    column_width = min(max(room + GAP_PX, SIDE_MIN_WIDTH_PX), PHONE_SIZE.width())
    column_left = max(left + width - column_width, left)
    return _column_plan(terminal, QRect(column_left, top, column_width, height), phone_min_height)


def _column_plan(terminal: QRect, column: QRect, phone_min_height: int) -> WindowPlan:
    """Stack the preview above the phone in ``column`` (frame top-left, usable size).

    When the column is wider than the room beside the terminal, it overlaps the terminal's
    right-hand side. When it is too short for both windows, the phone overlaps the preview.
    """
    phone_height = min(max(phone_min_height, PHONE_SIZE.height() // 2), column.height())
    preview_height = column.height() - phone_height - TITLE_BAR_PX - GAP_PX
    preview_height = max(preview_height, PREVIEW_MIN_HEIGHT_PX)
    preview = QRect(column.x(), column.y(), column.width(), preview_height)
    phone_top = column.y() + column.height() - phone_height
    phone = QRect(column.x(), phone_top, column.width(), phone_height)
    return WindowPlan(terminal, preview, phone)


def arrange_windows(terminal: QWidget, preview: QWidget, phone: QWidget, offscreen: bool) -> None:
    """Move and resize the windows to fit the primary screen.

    Off screen there is no screen to fit, so the windows keep their preferred sizes, which are
    also the sizes of the screenshots in the user guide.
    """
    screen = QGuiApplication.primaryScreen()
    if offscreen or screen is None:
        plan = preferred_plan()
    else:
        available = screen.availableGeometry()
        plan = plan_windows(available, phone.minimumSizeHint().height())
        if available.width() < TERMINAL_MIN_SIZE.width() or available.height() < (
            TERMINAL_MIN_SIZE.height() + TITLE_BAR_PX
        ):
            log.warning(
                "the screen has %dx%d pixels available, less than the terminal's %dx%d; with "
                "xvfb-run, give a larger screen: xvfb-run -a -s '-screen 0 1920x1080x24'",
                available.width(),
                available.height(),
                TERMINAL_MIN_SIZE.width(),
                TERMINAL_MIN_SIZE.height() + TITLE_BAR_PX,
            )
    for window, rect in ((terminal, plan.terminal), (preview, plan.preview), (phone, plan.phone)):
        window.resize(rect.size())
        window.move(rect.topLeft())
