"""Offline, a coupon of another wallet sends the clerk back to the sale screen, as online."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import coupon_pairing
from terminal.coupons import CouponUses
from terminal.sale import SaleState
from tests.ui.conftest import ReceiptLog
from tests.ui.test_coupon_counter_screens import (  # noqa: F401 - fixtures used by name
    CouponFakeApi,
    cache_issuer_key,
    fake_api,
    make_coupon,
    scan_coupon,
    terminal_config,
)
from tests.ui.test_offline_screens import OfflineWallet
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal
from ui.coupon import CouponStatus

WRONG_WALLET_TEXT = (
    "このクーポンはお支払いのアプリとは別の方のものです。クーポンを外して、"
    "もう一度お支払いを始めてください。"
)


def start_offline_sale(qtbot: QtBot, terminal: Terminal) -> OfflineWallet:
    """Take ``terminal`` offline, enter a 3,000 yen sale, and return a wallet with an offline
    certificate that names wallet w-test."""
    controller = terminal.window.controller
    controller.services.is_offline = lambda: True  # type: ignore[method-assign]
    wallet = OfflineWallet(terminal.offline.store)
    cache_issuer_key(terminal)
    enter_amount(qtbot, terminal, "3000")
    return wallet


def open_code_screen(qtbot: QtBot, terminal: Terminal) -> None:
    controller = terminal.window.controller
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.cpm


def assert_back_on_sale_screen_unpaid(terminal: Terminal, receipt_log: ReceiptLog) -> None:
    controller = terminal.window.controller
    store = terminal.offline.store
    assert controller.sale.state is SaleState.AMOUNT_ENTRY
    assert controller.sale.coupons.status is CouponStatus.REJECTED
    assert controller.screens.sale.coupon_panel.headline.text() == WRONG_WALLET_TEXT
    assert controller.screens.sale.coupon_panel.remove_button.isVisible()
    assert receipt_log.payments == []
    assert store.captures() == []
    assert store.pending_entries(10) == []
    assert not CouponUses(store).is_used("cp-1")


def remove_coupon_and_pay(
    qtbot: QtBot, terminal: Terminal, wallet: OfflineWallet, receipt_log: ReceiptLog
) -> None:
    controller = terminal.window.controller
    qtbot.mouseClick(controller.screens.sale.coupon_panel.remove_button,
                     Qt.MouseButton.LeftButton)
    open_code_screen(qtbot, terminal)
    controller.on_scan(wallet.code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)


def test_separate_coupon_of_other_wallet_goes_back(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    wallet = start_offline_sale(qtbot, terminal)
    scan_coupon(qtbot, terminal, make_coupon(wallet_id="w-someone-else"))
    assert controller.sale.due_yen == 2700
    open_code_screen(qtbot, terminal)

    controller.on_scan(wallet.code())
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=5000)

    assert_back_on_sale_screen_unpaid(terminal, receipt_log)
    assert controller.screens.sale.hint.text() == ""

    remove_coupon_and_pay(qtbot, terminal, wallet, receipt_log)

    [payment] = receipt_log.payments
    assert payment.method == "offline"
    assert payment.amount_yen == 3000
    assert payment.coupon is None


def test_paired_coupon_of_other_wallet_goes_back(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    wallet = start_offline_sale(qtbot, terminal)
    open_code_screen(qtbot, terminal)

    paired = coupon_pairing.join(wallet.code(), make_coupon(wallet_id="w-someone-else"))
    controller.on_scan(paired)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=5000)

    assert_back_on_sale_screen_unpaid(terminal, receipt_log)
    assert "quote_coupon" not in fake_api.names()

    remove_coupon_and_pay(qtbot, terminal, wallet, receipt_log)

    [payment] = receipt_log.payments
    assert payment.amount_yen == 3000
    assert payment.coupon is None
    assert controller.sale.state is SaleState.APPROVED
