"""A wallet that cannot pay the QR: the clerk reads why, and another wallet still pays it."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from server.wallet_cli import WalletClient, WalletDeclined
from terminal import messages
from terminal.sale import SaleState
from tests.e2e.conftest import WALLET_TOPUP_YEN, World
from tests.e2e.test_terminal_flows import click, enter_line, screen_qr_payload, wait_for_result


def test_rejected_wallet_shown_then_other_pays(qtbot: QtBot, world: World) -> None:
    controller = world.terminal.window.controller
    mpm = controller.screens.mpm
    enter_line(qtbot, controller, "1990", 10)
    click(qtbot, controller.screens.sale.qr_button)
    qtbot.waitUntil(lambda: controller.sale.state is SaleState.MPM_WAITING, timeout=10_000)
    qtbot.wait(200)
    payload = screen_qr_payload(world)
    poor = WalletClient(world.server.url)
    try:
        poor.create()
        poor.topup(500)

        with pytest.raises(WalletDeclined) as declined:
            poor.pay_payload(payload)
        expected = messages.message_for(messages.MPM_REJECTED_INSUFFICIENT_FUNDS, "ja")
        qtbot.waitUntil(lambda: mpm.status.text() == expected, timeout=10_000)
        rejected_state = controller.sale.state
        world.wallet.pay_payload(payload)
        wait_for_result(qtbot, controller)

        assert declined.value.code == "insufficient_funds"
        assert rejected_state is SaleState.MPM_WAITING
        assert controller.screens.result.headline.text() == "承認"
        assert poor.balance().total_yen == 500
        assert world.wallet.balance().total_yen == WALLET_TOPUP_YEN - 1990
    finally:
        poor.close()
