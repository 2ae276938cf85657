"""A counter refund the real server declines: the clerk sees it at once and nothing is sent."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from server.db import init_db
from server.models import SyncResultRow
from terminal import messages
from tests.e2e.conftest import MANAGER_PIN, World
from tests.e2e.test_terminal_flows import click, enter_line, wait_for_result


def server_sync_results(tmp_path: Path, entry_id: str) -> list[str]:
    """Return the statuses the server recorded for ``entry_id`` through the outbox."""
    # The world fixture keeps its server database in the test's tmp_path.
    database = init_db(f"sqlite:///{tmp_path / 'settle.db'}")
    try:
        with database.read() as session:
            query = select(SyncResultRow.status).where(SyncResultRow.entry_id == entry_id)
            return list(session.scalars(query))
    finally:
        database.dispose()


def test_second_full_refund_declined(qtbot: QtBot, world: World, tmp_path: Path) -> None:
    controller = world.terminal.window.controller
    screens = controller.screens
    code = world.wallet.payment_code().code
    enter_line(qtbot, controller, "1200", 10)
    click(qtbot, screens.sale.code_button)
    QTest.keyClicks(screens.sale.history_button, code)
    QTest.keyClick(screens.sale.history_button, Qt.Key.Key_Return)
    wait_for_result(qtbot, controller)
    world.printer.wait_for_job(timeout_s=10)
    click(qtbot, screens.result.next_button)

    with qtbot.waitSignal(controller.history.loaded, timeout=10_000):
        click(qtbot, screens.sale.history_button)
    [payment] = world.server_api.list_payments(1)
    # Someone refunds the whole payment elsewhere while this history still shows it unrefunded.
    world.server_api.refund(payment.payment_id, 1200, "refund-elsewhere")
    before = world.wallet.balance()

    screens.history.list.setCurrentRow(0)
    click(qtbot, screens.history.refund_button)
    for digit in MANAGER_PIN:
        click(qtbot, screens.pin.pad.keypad.buttons[digit])
    click(qtbot, screens.pin.pad.ok_button)
    qtbot.waitUntil(lambda: controller.current() is screens.refund_amount, timeout=10_000)
    assert screens.refund_amount.amount.text() == "￥1,200"
    click(qtbot, screens.refund_amount.confirm_button)
    wait_for_result(qtbot, controller)
    world.terminal.services.runner.wait(10_000)

    assert screens.result.headline.text() == "返金できませんでした"
    detail = screens.result.detail.text()
    # The payment is read again after the decline, so the message names what is really left.
    assert detail.startswith(messages.message_for(messages.REFUND_NOTHING_LEFT, "ja", left="￥0"))
    assert world.printer.jobs.empty()

    store = world.terminal.offline.store
    [capture] = [c for c in store.captures() if c.kind == "refund"]
    assert capture.state == "declined"
    assert capture.declined_reason == "refund_exceeds_payment"
    # Let the sync worker finish a step after the decline: the refund is not among what it sends.
    bridge = world.terminal.offline.status
    qtbot.waitUntil(lambda: bridge.status.declined_count == 1 and store.waiting().count == 0,
                    timeout=10_000)
    assert server_sync_results(tmp_path, capture.capture_id) == []
    assert world.server_api.get_payment(payment.payment_id).refunded_yen == 1200
    assert world.wallet.balance().total_yen == before.total_yen
