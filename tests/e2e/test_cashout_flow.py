"""Cash-out from the terminal against the real server: preview, a lost response, the list."""

from __future__ import annotations

import threading
from datetime import time
from pathlib import Path

import httpx
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from server import business_days, fees
from server.demo import DEMO_FEE_PLAN_TOML
from server.settings import utc_now
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.keys import Signer, load_or_create_private_key
from tests.e2e.conftest import MANAGER_PIN, World
from ui.cashout_presenter import format_date, japan_today
from ui.terminal_window import TerminalController

SALES_YEN = (1200, 800)
# The server's default cut-off (server.settings.Settings.payout_cutoff).
PAYOUT_CUTOFF = time(14, 0)


class LosingTransport(httpx.BaseTransport):
    """Passes requests to the server, but drops the first responses to POST /v1/cash-outs.

    The server has handled each dropped request; the client sees a reset connection, as when
    the network fails while the response is on its way.
    """

    def __init__(self, responses_to_lose: int) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self.responses_to_lose = responses_to_lose
        self.cash_out_bodies: list[bytes] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        if request.method != "POST" or request.url.path != "/v1/cash-outs":
            return response
        with self._lock:
            self.cash_out_bodies.append(request.content)
            lose = self.responses_to_lose > 0
            self.responses_to_lose -= int(lose)
        if not lose:
            return response
        response.read()
        response.close()
        raise httpx.ReadError("connection reset while reading the response", request=request)

    def close(self) -> None:
        self._inner.close()


def click(qtbot: QtBot, button: QPushButton) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def sell(qtbot: QtBot, world: World, controller: TerminalController, amount_yen: int) -> None:
    screens = controller.screens
    code = world.wallet.payment_code().code
    for digit in str(amount_yen):
        click(qtbot, screens.sale.keypad.buttons[digit])
    click(qtbot, screens.sale.standard_button)
    click(qtbot, screens.sale.code_button)
    QTest.keyClicks(screens.sale.history_button, code)
    QTest.keyClick(screens.sale.history_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: controller.current() is screens.result, timeout=10_000)
    world.printer.wait_for_job(timeout_s=10)
    click(qtbot, screens.result.next_button)


def open_money_menu(qtbot: QtBot, controller: TerminalController) -> None:
    screens = controller.screens
    click(qtbot, screens.sale.history_button)
    click(qtbot, screens.history.money_button)
    assert controller.money is not None
    money = controller.money.screens
    for digit in MANAGER_PIN:
        click(qtbot, money.pin.pad.keypad.buttons[digit])
    click(qtbot, money.pin.pad.ok_button)
    qtbot.waitUntil(lambda: controller.current() is money.menu, timeout=10_000)


def test_cash_out_books_once_despite_lost_response(
    qtbot: QtBot, world: World, tmp_path: Path
) -> None:
    controller = world.terminal.window.controller
    for amount_yen in SALES_YEN:
        sell(qtbot, world, controller, amount_yen)
    # The same terminal key the fixture enrolled, behind a transport that loses responses.
    signer = Signer(load_or_create_private_key(tmp_path), clock=ServerClock().now)
    transport = LosingTransport(responses_to_lose=2)
    losing_api = ApiClient(world.relay.url, world.server_api.terminal_id, signer,
                           transport=transport, retry_delays_s=(0.2,))
    world.terminal.services.api = losing_api

    open_money_menu(qtbot, controller)
    assert controller.money is not None
    money = controller.money.screens
    click(qtbot, money.menu.cash_out_button)
    balance_yen = sum(SALES_YEN)
    qtbot.waitUntil(lambda: money.amount.full_button.isEnabled(), timeout=10_000)
    click(qtbot, money.amount.full_button)
    click(qtbot, money.amount.next_button)
    qtbot.waitUntil(lambda: controller.current() is money.confirm, timeout=10_000)

    plan = fees.parse_plans(DEMO_FEE_PLAN_TOML)[0]
    fee_yen = fees.quote(plan, 0, balance_yen, fixed_due=True).fee_yen
    payout = business_days.payout_date(utc_now(), PAYOUT_CUTOFF)
    assert money.amount.amount_yen == balance_yen
    assert money.confirm.amount.text() == f"￥{balance_yen:,}"
    assert money.confirm.fee.text().startswith(f"￥{fee_yen:,}")
    assert money.confirm.net.text() == f"￥{balance_yen - fee_yen:,}"
    assert format_date(payout, "ja") in money.confirm.date.text()
    assert ("本日" in money.confirm.date.text()) == (payout == japan_today())
    assert "東邦" in money.confirm.account.text()
    assert "会津営業部" in money.confirm.account.text()
    assert "****4567" in money.confirm.account.text()

    click(qtbot, money.confirm.confirm_button)
    qtbot.waitUntil(lambda: "結果を確認しています" in money.confirm.message.text(), timeout=10_000)
    qtbot.waitUntil(lambda: money.confirm.list_button.isVisible(), timeout=15_000)

    booked = world.server_api.list_cash_outs()
    assert len(booked) == 1
    assert booked[0].amount_yen == balance_yen
    assert booked[0].fee_yen == fee_yen
    assert booked[0].status == "requested"
    assert len(transport.cash_out_bodies) == 3
    assert len(set(transport.cash_out_bodies)) == 1
    assert world.server_api.merchant_balance().total_yen == 0

    click(qtbot, money.confirm.list_button)
    qtbot.waitUntil(lambda: money.list.list.count() == 1, timeout=10_000)
    row = money.list.list.item(0).text()
    assert f"￥{balance_yen:,}" in row
    assert f"￥{balance_yen - fee_yen:,}" in row
    assert "申請済み" in row
    losing_api.close()
