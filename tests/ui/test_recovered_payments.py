"""Online payments whose result came after their sale: what the clerk sees and confirms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import messages, protocol
from terminal.api_client import Unreachable
from terminal.paycode import new_payment_code
from terminal.store import NewRedemption, Redemption, Store
from terminal.sync import OutboxStatus
from tests.ui.conftest import FakeApi, make_payment
from tests.ui.test_offline_screens import deliver, scan, start_code_sale
from ui.app import Terminal
from ui.status_banner import ConnectionBanner

OPENED_AT = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)  # 09:30 in Japan


def recover(store: Store, key: str, amount_yen: int) -> None:
    lines = (protocol.TaxLine(rate_percent=10, amount_yen=amount_yen),)
    store.open_redemption(NewRedemption(key, "cpm", amount_yen, lines, OPENED_AT, code="1" * 20))
    store.complete_redemption(key, make_payment(f"pay-{key}", amount_yen), OPENED_AT, recovered=True)


def test_recovered_payment_shown_until_confirmed(
    qtbot: QtBot, make_terminal: Callable[[], Terminal]
) -> None:
    terminal = make_terminal()
    store = terminal.offline.store
    banner = terminal.window.controller.screens.sale.banner
    recover(store, "key-0001", 1_100)

    recovered = tuple(store.unacknowledged_recoveries())
    deliver(terminal, qtbot, OutboxStatus(online=True, recovered=recovered))

    assert not banner.recovered.isHidden()
    assert banner.recovered.label.text() == (
        "09:30 の会計 ￥1,100 は承認されていました。もう一度会計しないでください。"
    )
    qtbot.mouseClick(banner.recovered_button, Qt.MouseButton.LeftButton)
    assert banner.recovered.isHidden()
    qtbot.waitUntil(lambda: store.unacknowledged_recoveries() == [], timeout=3000)


def test_several_recoveries_shown_one_at_a_time(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")
    first = _redemption("key-0001", 500)
    second = _redemption("key-0002", 700)
    confirmed: list[str] = []
    banner.recovery_confirmed.connect(confirmed.append)

    banner.show_status(OutboxStatus(online=True, recovered=(first, second)))
    assert "￥500" in banner.recovered.label.text()
    assert banner.recovered.label.text().endswith("（ほかに 1件）")

    qtbot.mouseClick(banner.recovered_button, Qt.MouseButton.LeftButton)
    assert "￥700" in banner.recovered.label.text()
    # A status sent before the store recorded the first confirmation does not bring it back.
    banner.show_status(OutboxStatus(online=True, recovered=(first, second)))
    assert "￥700" in banner.recovered.label.text()
    assert confirmed == ["key-0001"]


def test_checking_line_while_outcome_open(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")

    banner.show_status(OutboxStatus(online=False, unresolved_count=1))
    assert not banner.checking.isHidden()
    assert banner.checking.label.text().startswith("前回の会計の結果を確認しています（1件）")

    banner.show_status(OutboxStatus(online=True))
    assert banner.checking.isHidden()


def test_leaving_unknown_redeem_hands_it_to_sync(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def unreachable(*_args: object) -> protocol.Payment:
        raise Unreachable("server unreachable")

    monkeypatch.setattr(fake_api, "redeem_cpm", unreachable)
    terminal = make_terminal()
    controller = terminal.window.controller
    screens = controller.screens
    store = terminal.offline.store
    start_code_sale(qtbot, terminal, "1500")

    scan(terminal, new_payment_code())
    qtbot.waitUntil(lambda: screens.cpm.resend_button.isVisible(), timeout=3000)
    assert store.open_redemptions(include_held=False) == []
    qtbot.mouseClick(screens.cpm.back_button, Qt.MouseButton.LeftButton)

    assert controller.current() is screens.sale
    assert screens.sale.hint.text() == messages.message_for(messages.OUTCOME_CHECKED_LATER, "ja")
    left_to_sync = [r.amount_yen for r in store.open_redemptions(include_held=False)]
    assert left_to_sync == [1_500]
    assert controller.sale.sale.total_yen == 0


def _redemption(key: str, amount_yen: int) -> Redemption:
    return Redemption(
        key=key, method="cpm", code=None, intent_id=None, amount_yen=amount_yen,
        tax_lines=[], opened_at=OPENED_AT, state="approved", outcome="approved",
        recovered=True, acknowledged=False,
    )
