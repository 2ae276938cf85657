"""The demo phone's payment code with a coupon: the QR it shows, and one scan at the terminal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drivers.scanner.qrimage import read_valid_qr
from server.db import init_db
from server.demo import DEMO_COUPON_CAMPAIGN_ID, renew_demo_coupon, seed_demo_campaigns
from terminal import coupon_pairing
from terminal.sale import SaleState
from tests.e2e.conftest import WALLET_TOPUP_YEN, World
from tests.e2e.test_terminal_flows import click, enter_line, wait_for_result
from ui.demo_windows import PHONE_SIZE
from ui.phone import PhoneWindow, qimage_to_pil
from ui.widgets import format_yen
from ui.worker import TaskRunner

# The demo seed's premium points, which count in the wallet's total balance.
DEMO_PREMIUM_YEN = 800 + 400


def seed_demo_coupon(world: World, tmp_path: Path) -> None:
    """Seed the demo's campaigns, the 100-yen coupon among them, for the world's wallet."""
    credentials = world.wallet.credentials
    assert credentials is not None
    # The world fixture keeps its server database in the test's tmp_path.
    database = init_db(f"sqlite:///{tmp_path / 'settle.db'}")
    try:
        seed_demo_campaigns(
            database, world.terminal.offline.acceptor.merchant_id, credentials.wallet_id
        )
    finally:
        database.dispose()


def renew_coupon(world: World, tmp_path: Path) -> bool:
    credentials = world.wallet.credentials
    assert credentials is not None
    database = init_db(f"sqlite:///{tmp_path / 'settle.db'}")
    try:
        return renew_demo_coupon(database, credentials.wallet_id)
    finally:
        database.dispose()


@pytest.fixture
def phone(qtbot: QtBot, world: World) -> Iterator[PhoneWindow]:
    runner = TaskRunner()
    window = PhoneWindow(world.wallet, runner, lambda: world.terminal.window)
    qtbot.addWidget(window)
    window.resize(PHONE_SIZE)
    window.show()
    # The window reads the balance on a worker thread as it opens, and that request has to
    # finish before the world fixture closes the wallet client.
    qtbot.waitUntil(lambda: window.balance.text() != "", timeout=10_000)
    yield window
    # Every job, and the callback it queued on the GUI thread, ends before the runner and the
    # window are deleted, so no late result reaches a deleted object in a later test.
    assert runner.wait(10_000)
    qtbot.waitUntil(lambda: runner.pending() == 0, timeout=10_000)


def show_coupon_code(qtbot: QtBot, phone: PhoneWindow) -> None:
    click(qtbot, phone.show_coupon_code_button)
    qtbot.waitUntil(lambda: "準備しています" not in phone.status.text(), timeout=10_000)


def demo_coupon_status(world: World) -> str:
    [status] = [coupon.status for coupon in world.wallet.coupons()
                if coupon.campaign_id == DEMO_COUPON_CAMPAIGN_ID]
    return status


def pay_600_yen_with_coupon(
    qtbot: QtBot, world: World, phone: PhoneWindow, tmp_path: Path
) -> str:
    """Seed the demo coupon, pay a 600 yen sale with the phone's paired code, and return
    that code."""
    controller = world.terminal.window.controller
    seed_demo_coupon(world, tmp_path)
    show_coupon_code(qtbot, phone)
    paired_code: str = phone.code
    enter_line(qtbot, controller, "600", 10)
    click(qtbot, controller.screens.sale.code_button)
    phone.scan_code_at_terminal()
    wait_for_result(qtbot, controller)
    return paired_code


def test_phone_coupon_qr_decodes(
    qtbot: QtBot, world: World, phone: PhoneWindow, tmp_path: Path
) -> None:
    seed_demo_coupon(world, tmp_path)

    show_coupon_code(qtbot, phone)

    assert phone.wedge_button.isEnabled()
    parts = coupon_pairing.split(phone.code)
    assert parts is not None
    [coupon] = [c for c in world.wallet.coupons() if c.campaign_id == DEMO_COUPON_CAMPAIGN_ID]
    assert parts[1] == coupon.code.upper()
    assert coupon_pairing.check(phone.code).coupon_code == parts[1]
    picture = qimage_to_pil(phone.code_view.grab().toImage())
    assert read_valid_qr(picture, coupon_pairing.check) == phone.code
    assert "デモ 100円引き" in phone.code_digits.text()


def test_phone_coupon_code_pays_discounted(
    qtbot: QtBot, world: World, phone: PhoneWindow, tmp_path: Path
) -> None:
    controller = world.terminal.window.controller

    pay_600_yen_with_coupon(qtbot, world, phone, tmp_path)

    assert controller.sale.state is SaleState.APPROVED
    [payment] = world.server_api.list_payments(50)
    assert payment.amount_yen == 500
    assert payment.coupon is not None
    assert payment.coupon.discount_yen == 100
    assert demo_coupon_status(world) == "used"
    remaining_yen = WALLET_TOPUP_YEN + DEMO_PREMIUM_YEN - 500
    assert world.wallet.balance().total_yen == remaining_yen
    # The phone reads its balance again a moment after the scan.
    qtbot.waitUntil(lambda: phone.balance.text() == format_yen(remaining_yen), timeout=10_000)


def test_renewed_coupon_after_use(
    qtbot: QtBot, world: World, phone: PhoneWindow, tmp_path: Path
) -> None:
    first_code = pay_600_yen_with_coupon(qtbot, world, phone, tmp_path)
    show_coupon_code(qtbot, phone)
    assert "使えるクーポンがありません" in phone.status.text()

    renewed = renew_coupon(world, tmp_path)
    show_coupon_code(qtbot, phone)

    assert renewed is True
    assert phone.wedge_button.isEnabled()
    assert coupon_pairing.split(phone.code) is not None
    assert coupon_pairing.split(phone.code) != coupon_pairing.split(first_code)
    # Let the balance refresh that the scan started finish before the wallet client closes.
    qtbot.waitUntil(lambda: phone.balance.text() == format_yen(
        WALLET_TOPUP_YEN + DEMO_PREMIUM_YEN - 500), timeout=10_000)


def test_phone_without_coupon_says_so(qtbot: QtBot, world: World, phone: PhoneWindow) -> None:
    show_coupon_code(qtbot, phone)

    assert "使えるクーポンがありません" in phone.status.text()
    assert "デモを起動し直す" in phone.status.text()
    assert phone.code_view.isHidden()
    assert phone.code == ""
    assert not phone.wedge_button.isEnabled()
