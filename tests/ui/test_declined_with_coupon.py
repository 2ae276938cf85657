"""A declined payment with a coupon shows the amount that was asked for and the coupon."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal.api_client import Declined
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode
from tests.ui.conftest import ReceiptLog
from tests.ui.test_coupon_counter_screens import (  # noqa: F401 - fixtures used by name
    CouponFakeApi,
    fake_api,
    make_coupon,
    scan_coupon,
    terminal_config,
)
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal


def test_declined_shows_discounted_amount(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    result = controller.screens.result
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon())
    fake_api.redeem_errors.append(Declined("low", ErrorCode.INSUFFICIENT_FUNDS, 409))

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.screens.cpm.amount.text() == "￥2,700"
    scan(controller.screens.cpm, new_payment_code())
    qtbot.waitUntil(lambda: controller.current() is result, timeout=5000)

    assert result.headline.text() == "お支払いできませんでした"
    assert result.amount.text() == "￥2,700"
    assert result.donation.text() == "クーポン「秋の市」 ￥300引き（お会計 ￥3,000）"
    assert receipt_log.payments == []


def test_declined_without_coupon_has_no_line(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    result = controller.screens.result
    enter_amount(qtbot, terminal, "3000")
    fake_api.redeem_errors.append(Declined("low", ErrorCode.INSUFFICIENT_FUNDS, 409))

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(controller.screens.cpm, new_payment_code())
    qtbot.waitUntil(lambda: controller.current() is result, timeout=5000)

    assert result.amount.text() == "￥3,000"
    assert result.donation.text() == ""
