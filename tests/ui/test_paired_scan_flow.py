"""A payment code scanned together with its coupon on the code screen, typed like a wedge scan."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import coupon_code, coupon_pairing, messages, protocol
from terminal.api_client import Declined
from terminal.coupons import CouponUses, coupon_message
from terminal.keys import Signer
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode
from terminal.sale import SaleState
from terminal.sync import SyncEngine
from tests.terminal.fake_sync_server import FakeSyncServer, ManualClock
from tests.ui.conftest import ReceiptLog
from tests.ui.test_coupon_counter_screens import (  # noqa: F401 - fixtures used by name
    ISSUER,
    CouponFakeApi,
    cache_issuer_key,
    fake_api,
    make_coupon,
    scan_coupon,
    terminal_config,
)
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal
from ui.coupon import CouponStatus


class CouponDecliningServer(FakeSyncServer):
    """Applies offline payments but declines their coupon as used first elsewhere."""

    def _first_result(self, entry: protocol.SyncEntry) -> protocol.SyncResult:
        result = super()._first_result(entry)
        if entry.coupon is None or result.status != "applied":
            return result
        declined = protocol.CouponDeclined(
            coupon_id=coupon_code.parse_coupon_code(entry.coupon.code).coupon_id,
            reason=ErrorCode.COUPON_USED, missing_yen=entry.coupon.discount_yen,
            message="used at another terminal first",
        )
        return result.model_copy(update={"coupon_declined": declined})


def open_code_screen(qtbot: QtBot, terminal: Terminal, digits: str = "3000") -> None:
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, digits)
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.cpm


def go_offline(
    terminal: Terminal, server_type: type[FakeSyncServer] = FakeSyncServer
) -> tuple[FakeSyncServer, Ed25519PrivateKey]:
    """Take ``terminal`` offline with the coupon issuer's key cached, and return a sync server
    that trusts a new terminal key, together with that key."""
    terminal.window.controller.services.is_offline = lambda: True  # type: ignore[method-assign]
    terminal_key = Ed25519PrivateKey.generate()
    server = server_type(
        terminal_key.public_key(), clock=ManualClock(datetime.now(UTC)), issuer_key=ISSUER
    )
    cache_issuer_key(terminal)
    return server, terminal_key


def sync(terminal: Terminal, server: FakeSyncServer, terminal_key: Ed25519PrivateKey) -> None:
    signer = Signer(terminal_key, clock=terminal.offline.clock.now)
    engine = SyncEngine(terminal.offline.store, server.client(signer), terminal.offline.clock,
                        random=lambda: 0.0)
    engine.drain()


def redeems(api: CouponFakeApi) -> list[tuple[object, ...]]:
    return [args for name, args in api.calls if name == "redeem_cpm"]


def test_paired_online_code_redeems_once(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    payment_code = new_payment_code()
    coupon = make_coupon()
    open_code_screen(qtbot, terminal)

    scan(controller.screens.cpm, coupon_pairing.join(payment_code, coupon))
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)

    assert ("quote_coupon", (3000,)) in fake_api.calls
    [(code, amount_yen, _key)] = redeems(fake_api)
    assert (code, amount_yen) == (payment_code, 2700)
    assert fake_api.coupons_sent == [
        protocol.CouponUse(code=coupon, total_yen=3000, discount_yen=300)
    ]
    assert receipt_log.payments[0].amount_yen == 2700
    assert controller.current() is controller.screens.result


def test_paired_code_screen_shows_discount(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    release = threading.Event()
    redeem = fake_api.redeem_cpm

    def held_redeem(*args: Any, **kwargs: Any) -> protocol.Payment:
        assert release.wait(10), "the test never released the redeem"
        return redeem(*args, **kwargs)

    monkeypatch.setattr(fake_api, "redeem_cpm", held_redeem)
    terminal = make_terminal()
    controller = terminal.window.controller
    cpm = controller.screens.cpm
    open_code_screen(qtbot, terminal)
    assert cpm.amount.text() == "￥3,000"

    try:
        scan(cpm, coupon_pairing.join(new_payment_code(), make_coupon()))
        qtbot.waitUntil(lambda: controller.sale.busy, timeout=5000)

        assert controller.current() is cpm
        assert cpm.amount.text() == "￥2,700"
        assert cpm.coupon_note.text() == "クーポン 秋の市 −￥300（合計 ￥3,000）"
        assert cpm.status.text() == "確認しています…"
        shot = tmp_path / "coupon-paired-code-screen-ja.png"
        assert terminal.window.grab().save(str(shot))
    finally:
        release.set()
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)
    assert receipt_log.payments[0].amount_yen == 2700


def test_paired_rejected_coupon_sends_nothing(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    panel = controller.screens.sale.coupon_panel
    fake_api.quote_error = Declined("used", ErrorCode.COUPON_USED, 409)
    payment_code = new_payment_code()
    open_code_screen(qtbot, terminal)

    scan(controller.screens.cpm, coupon_pairing.join(payment_code, make_coupon()))
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=5000)

    assert redeems(fake_api) == []
    assert panel.headline.text() == "このクーポンは使用済みです。クーポンなしでお会計してください。"
    assert controller.screens.sale.hint.text() == coupon_message(messages.PAIRED_NOT_PAID)
    assert controller.sale.due_yen == 3000

    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(controller.screens.cpm, payment_code)
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)

    assert receipt_log.payments[0].amount_yen == 3000
    assert fake_api.coupons_sent == [None]


def test_paired_other_coupon_refused(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon(coupon_id="cp-1"))
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    quotes_before = fake_api.names().count("quote_coupon")

    paired = coupon_pairing.join(new_payment_code(), make_coupon(coupon_id="cp-2"))
    scan(controller.screens.cpm, paired)
    expected = coupon_message(messages.ONE_COUPON_PER_SALE)
    qtbot.waitUntil(lambda: controller.screens.cpm.status.text() == expected, timeout=5000)

    assert redeems(fake_api) == []
    assert fake_api.names().count("quote_coupon") == quotes_before
    assert controller.current() is controller.screens.cpm
    assert controller.sale.state is SaleState.CPM_WAITING
    applied = controller.sale.sale.coupon
    assert applied is not None and applied.coupon_id == "cp-1"


def test_paired_same_coupon_proceeds(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    coupon = make_coupon(coupon_id="cp-1")
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, coupon)
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    scan(controller.screens.cpm, coupon_pairing.join(new_payment_code(), coupon).lower())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)

    assert len(redeems(fake_api)) == 1
    assert fake_api.coupons_sent == [
        protocol.CouponUse(code=coupon, total_yen=3000, discount_yen=300)
    ]
    assert fake_api.names().count("quote_coupon") == 1


def test_damaged_paired_code_asks_again(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    open_code_screen(qtbot, terminal)
    paired = coupon_pairing.join(new_payment_code(), make_coupon())
    damaged = paired[:100] + paired[101:]

    scan(controller.screens.cpm, damaged)
    expected = messages.message_for(messages.CODE_MALFORMED, "ja")
    qtbot.waitUntil(lambda: controller.screens.cpm.status.text() == expected, timeout=5000)

    assert "quote_coupon" not in fake_api.names()
    assert redeems(fake_api) == []
    assert controller.sale.sale.coupon is None
    assert controller.sale.state is SaleState.CPM_WAITING


def test_paired_code_on_sale_screen_hints(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale

    scan(screen.keypad.buttons["7"], coupon_pairing.join(new_payment_code(), make_coupon()))
    hint = "先に金額を入力して「コードを読む」を押してください"
    qtbot.waitUntil(lambda: terminal.window.hint.text() == hint, timeout=5000)

    assert fake_api.calls == []
    assert terminal.window.controller.sale.coupons.status is CouponStatus.NONE


def test_back_while_checking_keeps_coupon(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    open_code_screen(qtbot, terminal)
    controller.paired.scan(coupon_pairing.join(new_payment_code(), make_coupon()))
    assert controller.paired.waiting

    qtbot.mouseClick(controller.screens.cpm.back_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.sale.sale.coupon is not None, timeout=5000)

    assert controller.current() is controller.screens.sale
    assert not controller.paired.waiting
    assert redeems(fake_api) == []
    assert controller.screens.sale.coupon_panel.detail.text() == "お支払い ￥2,700"


def test_paired_offline_code_then_sync(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    server, terminal_key = go_offline(terminal)
    wallet = server.new_wallet()
    coupon = make_coupon(wallet_id=wallet.wallet_id)
    offline_code_text = wallet.code(datetime.now(UTC).replace(microsecond=0))
    open_code_screen(qtbot, terminal)

    controller.on_scan(coupon_pairing.join(offline_code_text, coupon))
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)

    payment = receipt_log.payments[0]
    assert payment.method == "offline"
    assert payment.amount_yen == 2700
    assert payment.coupon is not None and payment.coupon.discount_yen == 300
    assert "quote_coupon" not in fake_api.names()
    assert redeems(fake_api) == []

    sync(terminal, server, terminal_key)

    [entry] = server.applied
    assert entry.offline_code == offline_code_text
    assert entry.amount_yen == 2700
    assert entry.coupon == protocol.CouponUse(code=coupon, total_yen=3000, discount_yen=300)
    assert CouponUses(terminal.offline.store).is_used("cp-1")


def test_paired_offline_other_wallet_sends_nothing(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    server, _terminal_key = go_offline(terminal)
    wallet = server.new_wallet()
    coupon = make_coupon(wallet_id="w-someone-else")
    open_code_screen(qtbot, terminal)

    controller.on_scan(coupon_pairing.join(wallet.code(datetime.now(UTC)), coupon))
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=5000)

    assert controller.sale.coupons.status is CouponStatus.REJECTED
    assert "別の方のもの" in controller.screens.sale.coupon_panel.headline.text()
    assert receipt_log.payments == []
    assert controller.sale.state is SaleState.AMOUNT_ENTRY
    assert terminal.offline.store.pending_entries(10) == []


def test_paired_offline_coupon_declined_at_sync(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    server, terminal_key = go_offline(terminal, CouponDecliningServer)
    wallet = server.new_wallet()
    coupon = make_coupon(wallet_id=wallet.wallet_id)
    open_code_screen(qtbot, terminal)

    controller.on_scan(coupon_pairing.join(wallet.code(datetime.now(UTC)), coupon))
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=5000)
    capture_id = receipt_log.payments[0].payment_id
    sync(terminal, server, terminal_key)

    [decline] = CouponUses(terminal.offline.store).declines()
    assert decline.capture_id == capture_id
    assert decline.coupon_id == "cp-1"
    assert decline.reason == ErrorCode.COUPON_USED
    assert decline.missing_yen == 300
