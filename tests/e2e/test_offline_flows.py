"""Offline payments against the real server: cut the terminal off, take codes, reconnect."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from server.wallet_cli import OfflineWallet
from terminal import messages
from terminal.sale import SaleState
from tests.e2e.conftest import WALLET_TOPUP_YEN, World
from tests.e2e.test_terminal_flows import click, enter_line, wait_for_result
from ui.phone import next_offline_code

SYNC_TIMEOUT_MS = 20_000


def scan_with_keys(world: World, code: str) -> None:
    """Type the code and Enter as key events, as a keyboard-wedge scanner does."""
    target = world.terminal.window.controller.screens.sale.history_button
    QTest.keyClicks(target, code)
    QTest.keyClick(target, Qt.Key.Key_Return)


def go_offline(qtbot: QtBot, world: World) -> None:
    world.go_offline()
    status = world.terminal.offline.status
    qtbot.waitUntil(lambda: status.status.online is False, timeout=SYNC_TIMEOUT_MS)


def pay_offline(qtbot: QtBot, world: World, code: str, amount: str) -> None:
    controller = world.terminal.window.controller
    enter_line(qtbot, controller, amount, 10)
    click(qtbot, controller.screens.sale.code_button)
    scan_with_keys(world, code)
    wait_for_result(qtbot, controller)
    assert controller.sale.state is SaleState.APPROVED
    world.printer.wait_for_job(timeout_s=10)
    click(qtbot, controller.screens.result.next_button)


def offline_payment_amounts(world: World) -> list[int]:
    payments = world.server_api.list_payments(50)
    return sorted(payment.amount_yen for payment in payments if payment.method == "offline")


def test_offline_payments_reach_server(qtbot: QtBot, world: World) -> None:
    offline_wallet = OfflineWallet.generate()
    first = next_offline_code(world.wallet, offline_wallet, None)
    second = next_offline_code(world.wallet, offline_wallet, None)
    controller = world.terminal.window.controller
    banner = controller.screens.sale.banner
    go_offline(qtbot, world)

    pay_offline(qtbot, world, first, "800")
    pay_offline(qtbot, world, second, "1200")
    qtbot.waitUntil(lambda: banner.status.waiting_count == 2, timeout=SYNC_TIMEOUT_MS)

    assert banner.state_text.startswith("オフライン　未送信 2件 ￥2,000")
    assert offline_payment_amounts(world) == []

    world.go_online()
    qtbot.waitUntil(lambda: offline_payment_amounts(world) == [800, 1200], timeout=SYNC_TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: banner.status.online is True and banner.status.waiting_count == 0,
        timeout=SYNC_TIMEOUT_MS,
    )

    assert banner.state_text == "オンライン"
    assert world.terminal.offline.store.captures("waiting") == []
    assert [c.state for c in world.terminal.offline.store.captures()] == ["confirmed", "confirmed"]
    # The reserve for offline payments was taken from the balance when the certificate was
    # issued; the shop was paid from it.
    assert world.wallet.balance().total_yen < WALLET_TOPUP_YEN


def test_online_code_offline_books_nothing(qtbot: QtBot, world: World) -> None:
    controller = world.terminal.window.controller
    code = world.wallet.payment_code().code
    go_offline(qtbot, world)
    enter_line(qtbot, controller, "500", 10)
    click(qtbot, controller.screens.sale.code_button)

    scan_with_keys(world, code)
    qtbot.waitUntil(lambda: controller.screens.cpm.status.text() != "", timeout=SYNC_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not controller.sale.busy, timeout=SYNC_TIMEOUT_MS)

    assert controller.screens.cpm.status.text() == messages.message_for(
        messages.SHOW_OFFLINE_CODE, "ja"
    )
    assert controller.sale.state is SaleState.CPM_WAITING
    assert world.terminal.offline.store.captures() == []
    assert world.server_api.list_payments(50) == []
    assert world.wallet.balance().total_yen == WALLET_TOPUP_YEN


def test_qr_offline_needs_connection(qtbot: QtBot, world: World) -> None:
    controller = world.terminal.window.controller
    go_offline(qtbot, world)
    enter_line(qtbot, controller, "500", 10)

    click(qtbot, controller.screens.sale.qr_button)

    assert controller.current() is controller.screens.sale
    assert controller.screens.sale.hint.text() == messages.message_for(
        messages.QR_NEEDS_CONNECTION, "ja"
    )
    assert world.server_api.list_payments(50) == []
