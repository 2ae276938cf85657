"""A payment code paired with a coupon, scanned once at the terminal, against the real server."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from server import coupon_cli, wallet_cli
from server.db import init_db
from server.settings import Settings
from server.wallet_cli import OfflineWallet, save_credentials
from terminal import coupon_code, coupon_pairing
from terminal.coupon_code import CouponRejection
from terminal.sale import SaleState
from tests.e2e.conftest import WALLET_TOPUP_YEN, World
from tests.e2e.test_offline_flows import (
    SYNC_TIMEOUT_MS,
    go_offline,
    offline_payment_amounts,
    scan_with_keys,
)
from tests.e2e.test_terminal_flows import click, enter_line, wait_for_result
from ui.coupon import CouponStatus
from ui.phone import next_offline_code

CAMPAIGN_ID = "e2e-aki"


def give_coupons(tmp_path: Path, merchant_id: str) -> None:
    """Create a 100-yen coupon campaign for the terminal's shop and issue it to every wallet."""
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    database = init_db(db_url)
    now = datetime.now(UTC)
    spec = coupon_cli.parse_spec({
        "id": CAMPAIGN_ID, "title": "秋の100円引き", "discount_yen": 100,
        "starts": (now - timedelta(days=1)).date().isoformat(),
        "ends": (now + timedelta(days=30)).date().isoformat(),
        "budget_yen": 10_000, "shops": [merchant_id], "issuer_name": "若松商店街",
    }, "e2e")
    with database.write() as session:
        coupon_cli.create_campaign(session, spec, now=now)
    with database.write() as session:
        coupon_cli.issue_to_audience(session, CAMPAIGN_ID, Settings(database_url=db_url))
    database.dispose()


def usable_coupon_code(world: World) -> str:
    codes = [coupon.code for coupon in world.wallet.coupons()
             if coupon.campaign_id == CAMPAIGN_ID and coupon.status == "usable"]
    assert len(codes) == 1, codes
    return codes[0]


def coupon_status(world: World) -> str:
    [status] = [coupon.status for coupon in world.wallet.coupons()
                if coupon.campaign_id == CAMPAIGN_ID]
    return status


def test_paired_code_pays_discounted_once(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    controller = world.terminal.window.controller
    give_coupons(tmp_path, world.terminal.offline.acceptor.merchant_id)
    paired = coupon_pairing.join(world.wallet.payment_code().code, usable_coupon_code(world))
    enter_line(qtbot, controller, "1000", 10)
    click(qtbot, controller.screens.sale.code_button)

    scan_with_keys(world, paired)
    wait_for_result(qtbot, controller)
    job = world.printer.wait_for_job(timeout_s=10)

    assert controller.sale.state is SaleState.APPROVED
    [payment] = world.server_api.list_payments(50)
    assert payment.amount_yen == 900
    assert payment.coupon is not None and payment.coupon.discount_yen == 100
    assert world.wallet.balance().total_yen == WALLET_TOPUP_YEN - 900
    assert coupon_status(world) == "used"
    assert any("￥900" in line for line in job.lines)


def test_paired_offline_code_syncs_coupon(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    controller = world.terminal.window.controller
    give_coupons(tmp_path, world.terminal.offline.acceptor.merchant_id)
    offline_code_text = next_offline_code(world.wallet, OfflineWallet.generate(), None)
    paired = coupon_pairing.join(offline_code_text, usable_coupon_code(world))
    go_offline(qtbot, world)
    enter_line(qtbot, controller, "1000", 10)
    click(qtbot, controller.screens.sale.code_button)

    scan_with_keys(world, paired)
    wait_for_result(qtbot, controller)

    assert controller.sale.state is SaleState.APPROVED
    payment = controller.sale.payment
    assert payment is not None and payment.method == "offline"
    assert payment.amount_yen == 900
    assert offline_payment_amounts(world) == []

    world.go_online()
    qtbot.waitUntil(lambda: offline_payment_amounts(world) == [900], timeout=SYNC_TIMEOUT_MS)

    assert coupon_status(world) == "used"
    [capture] = world.terminal.offline.store.captures()
    qtbot.waitUntil(
        lambda: world.terminal.offline.store.captures()[0].state == "confirmed",
        timeout=SYNC_TIMEOUT_MS,
    )
    assert capture.amount_yen == 900


def test_stored_coupon_pays_offline_once(
    qtbot: QtBot, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """chiiki-wallet, cut off from the server, pairs its stored coupon with offline codes:
    the offline terminal accepts the first and rejects the same coupon again."""
    controller = world.terminal.window.controller
    give_coupons(tmp_path, world.terminal.offline.acceptor.merchant_id)
    wallet_file = tmp_path / "wallet.json"
    assert world.wallet.credentials is not None
    save_credentials(wallet_file, world.wallet.credentials)
    coupon_id = coupon_code.parse_coupon_code(usable_coupon_code(world)).coupon_id
    assert wallet_cli.main(["--wallet-file", str(wallet_file), "coupons"]) == 0
    assert wallet_cli.main(["--wallet-file", str(wallet_file), "offline-cert",
                            "--allowance", "3000"]) == 0
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
        closed.bind(("127.0.0.1", 0))
        cut_off = ["--wallet-file", str(wallet_file),
                   "--server", f"http://127.0.0.1:{closed.getsockname()[1]}"]
        capsys.readouterr()
        assert wallet_cli.main([*cut_off, "offline-code", "--coupon", coupon_id]) == 0
        first = capsys.readouterr().out.strip()
        assert wallet_cli.main([*cut_off, "offline-code", "--coupon", coupon_id]) == 0
        second = capsys.readouterr().out.strip()
    go_offline(qtbot, world)

    enter_line(qtbot, controller, "1000", 10)
    click(qtbot, controller.screens.sale.code_button)
    scan_with_keys(world, first)
    wait_for_result(qtbot, controller)
    assert controller.sale.state is SaleState.APPROVED
    payment = controller.sale.payment
    assert payment is not None and payment.method == "offline"
    assert payment.amount_yen == 900
    world.printer.wait_for_job(timeout_s=10)
    click(qtbot, controller.screens.result.next_button)

    enter_line(qtbot, controller, "1000", 10)
    click(qtbot, controller.screens.sale.code_button)
    scan_with_keys(world, second)
    coupons = controller.sale.coupons
    qtbot.waitUntil(lambda: coupons.status is CouponStatus.REJECTED, timeout=SYNC_TIMEOUT_MS)
    assert coupons.rejection is not None
    assert coupons.rejection.reason == CouponRejection.USED
    assert len(world.terminal.offline.store.captures()) == 1

    world.go_online()
    qtbot.waitUntil(lambda: offline_payment_amounts(world) == [900], timeout=SYNC_TIMEOUT_MS)
    assert coupon_status(world) == "used"
