"""Every coupon reason fits the coupon frame of the sale screen, in portrait and landscape."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from terminal import messages
from terminal.coupons import CouponRejected, coupon_message
from terminal.protocol import ErrorCode
from tests.ui.test_coupon_counter_screens import (  # noqa: F401 - fixtures used by name
    CouponFakeApi,
    fake_api,
    make_coupon,
    scan_coupon,
    terminal_config,
)
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal
from ui.coupon import CouponStatus

SIZES = [(1024, 600), (1024, 640), (720, 1280)]
# The reasons a coupon can be rejected for: the server's coupon codes and the terminal's checks.
REJECTION_REASONS = [
    *(code.value for code in ErrorCode if code.value.startswith("coupon_")),
    messages.NO_ISSUER_KEYS, messages.NEEDS_CONNECTION, messages.CHECK_FAILED,
]
# The notices the sale screen shows below a rejected coupon.
NOTICES = [messages.REMOVE_REJECTED, messages.PAIRED_NOT_PAID]


def screenshot(terminal: Terminal, name: str) -> None:
    directory = os.environ.get("CHIIKI_SCREENSHOT_DIR")
    if directory:
        terminal.window.grab().save(str(Path(directory) / name))


def shown_height_px(label: QLabel) -> int:
    """Return how much of ``label``'s height its frame and the other parents leave visible.

    A squeezed layout may give a label its minimum height but push it past the frame's border,
    where the parents clip it.
    """
    top_px = label.mapTo(label.window(), QPoint(0, 0)).y()
    bottom_px = top_px + label.height()
    parent = label.parentWidget()
    while parent is not None:
        parent_top_px = parent.mapTo(label.window(), QPoint(0, 0)).y()
        inside = parent.contentsRect()
        bottom_px = min(bottom_px, parent_top_px + inside.bottom() + 1)
        parent = parent.parentWidget()
    return max(bottom_px - top_px, 0)


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("size", SIZES, ids=["1024x600", "1024x640", "720x1280"])
def test_every_coupon_reason_fits_panel(
    qtbot: QtBot, make_terminal: Callable[[str], Terminal], fake_api: CouponFakeApi,
    lang: messages.Language, size: tuple[int, int],
) -> None:
    terminal = make_terminal(lang)
    window = terminal.window
    controller = window.controller
    panel = controller.screens.sale.coupon_panel
    window.resize(*size)
    qtbot.waitUntil(lambda: window.size().toTuple() == size, timeout=2000)
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon(minimum_spend_yen=100))
    assert controller.sale.coupons.status is CouponStatus.APPLIED

    clipped = []
    for notice, reason in itertools.product(NOTICES, REJECTION_REASONS):
        # The notice shown below the frame with a rejected coupon takes room from the frame.
        controller.screens.sale.show_hint(coupon_message(notice, lang))
        controller.sale.sale.coupon_rejection = CouponRejected(
            reason, "test", minimum_spend_yen=12_000)
        panel.refresh()
        # A longer reason may have made the window grow, so each starts at the screen's size.
        window.resize(*size)
        qtbot.wait(10)
        headline = panel.headline
        needed_px = headline.heightForWidth(headline.width())
        shown_px = shown_height_px(headline)
        if needed_px > shown_px:
            clipped.append(f"{notice}, {reason}: needs {needed_px} px, shows {shown_px} px")
        if window.size().toTuple() != size:
            clipped.append(f"{notice}, {reason}: the window grew to {window.size().toTuple()}")
        button = panel.remove_button
        if not button.isVisible() or button.height() < button.sizeHint().height():
            clipped.append(f"{notice}, {reason}: the remove button is hidden or cut")
    screenshot(terminal, f"coupon_panel_{lang}_{size[0]}x{size[1]}.png")

    assert clipped == []
