"""The connection banner, the declined list and offline payments on the clerk's screens."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import messages, offline_code, protocol
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode, SyncResult
from terminal.receipt import OFFLINE_NOTE, payment_receipt
from terminal.sale import SaleState
from terminal.store import NewCapture, Store
from terminal.sync import OutboxStatus
from tests.ui.conftest import FakeApi, ReceiptLog, make_info
from tests.ui.test_scanning import enter_amount
from ui.app import Terminal
from ui.status_banner import ConnectionBanner

OFFLINE = OutboxStatus(online=False, waiting_count=3, waiting_total_yen=4_200)


class OfflineWallet:
    """An issuer key cached in a terminal's store and a wallet certificate it signed."""

    def __init__(self, store: Store, allowance_yen: int = 10_000) -> None:
        issuer = Ed25519PrivateKey.generate()
        raw = issuer.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        now = datetime.now(UTC).replace(microsecond=0)
        store.replace_issuer_keys([
            protocol.IssuerKey(
                key_id=offline_code.issuer_key_id(raw),
                public_key=protocol.b64encode(raw),
                valid_from=(now - timedelta(days=1)).isoformat(),
                valid_until=(now + timedelta(days=30)).isoformat(),
            )
        ])
        self.key = Ed25519PrivateKey.generate()
        body = offline_code.CertificateBody(
            serial=1,
            issuer_key_id=offline_code.issuer_key_id(raw),
            wallet_id="w-test",
            wallet_public_key=self.key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            allowance_yen=allowance_yen,
            valid_until=now + timedelta(days=7),
        )
        self.certificate = offline_code.sign_certificate(body, issuer)
        self.counter = 0

    def code(self) -> str:
        self.counter += 1
        return offline_code.make_offline_code(
            self.certificate, self.key, self.counter, datetime.now(UTC)
        )


def deliver(terminal: Terminal, qtbot: QtBot, status: OutboxStatus) -> None:
    bridge = terminal.offline.status
    with qtbot.waitSignal(bridge.changed, timeout=2000):
        bridge.deliver(status)


def scan(terminal: Terminal, code: str) -> None:
    terminal.window.controller.on_scan(code)


def start_code_sale(qtbot: QtBot, terminal: Terminal, amount: str) -> None:
    screens = terminal.window.controller.screens
    enter_amount(qtbot, terminal, amount)
    qtbot.mouseClick(screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert terminal.window.controller.current() is screens.cpm


def record_declined(store: Store, capture_id: str, amount_yen: int, reason: ErrorCode) -> None:
    store.record_capture(
        NewCapture(
            capture_id=capture_id,
            kind="offline_payment",
            amount_yen=amount_yen,
            method="offline",
            captured_at=datetime(2025, 5, 1, 0, 30, tzinfo=UTC),
        )
    )
    store.apply_results(
        [SyncResult(entry_id=capture_id, status="declined", reason=reason, message="declined")]
    )


def test_banner_shows_offline_waiting(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    banner = terminal.window.controller.screens.sale.banner

    deliver(terminal, qtbot, OFFLINE)

    assert banner.state_text.startswith("オフライン　未送信 3件 ￥4,200")
    assert "安全に保存" in banner.state_text
    assert banner.state.property("online") == "no"
    assert banner.progress.isHidden()
    assert banner.declined_button.isHidden()
    assert banner.clock.isHidden()


def test_banner_shows_online(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    banner = terminal.window.controller.screens.sale.banner

    deliver(terminal, qtbot, OutboxStatus(online=True))

    assert banner.state_text == "オンライン"
    assert banner.state.property("online") == "yes"


def test_banner_progress_of_backlog(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")

    banner.show_status(OutboxStatus(online=True, waiting_count=6, backlog_sent=4, backlog_total=10))

    assert not banner.progress.isHidden()
    assert banner.progress.maximum() == 10
    assert banner.progress.value() == 4
    assert banner.progress.format() == "送信中 4/10"


def test_banner_progress_finishes(qtbot: QtBot) -> None:
    banner = ConnectionBanner("ja")
    banner.show_status(OutboxStatus(online=True, waiting_count=1, backlog_sent=9, backlog_total=10))

    banner.show_status(OutboxStatus(online=True))

    assert banner.progress.value() == 10
    assert banner.progress.format() == "送信しました"
    qtbot.waitUntil(banner.progress.isHidden, timeout=5000)


def test_banner_declined_line(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    banner = terminal.window.controller.screens.sale.banner

    deliver(terminal, qtbot, OutboxStatus(online=True, declined_count=2))

    assert not banner.declined_button.isHidden()
    assert banner.declined_button.text() == "受け付けられなかった取引 2件"


def test_banner_clock_warning(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    banner = terminal.window.controller.screens.sale.banner

    deliver(terminal, qtbot, OutboxStatus(online=True, clock_offset_s=600, clock_warning=True))

    assert not banner.clock.isHidden()
    assert banner.clock.label.text() == messages.message_for(messages.CLOCK_WRONG, "ja")


def test_declined_list_from_banner(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    screens = controller.screens
    record_declined(terminal.offline.store, "cap-1", 1_200, ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED)
    deliver(terminal, qtbot, OutboxStatus(online=True, declined_count=1))

    qtbot.mouseClick(screens.sale.banner.declined_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screens.declined.list.count() == 1, timeout=3000)

    text = screens.declined.list.item(0).text()
    assert controller.current() is screens.declined
    assert "05/01 09:30" in text  # 00:30 UTC is 09:30 in Japan
    assert "￥1,200" in text
    assert "オフラインで使える金額を超えていました" in text
    assert "cap-1" in text
    screens.declined.list.setCurrentRow(0)
    assert screens.declined.detail.text() == messages.message_for(
        messages.SYNC_DECLINED_OFFLINE, "ja"
    )


def test_declined_list_from_history(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screens = terminal.window.controller.screens
    record_declined(terminal.offline.store, "cap-2", 300, ErrorCode.WALLET_BLOCKED)

    qtbot.mouseClick(screens.sale.history_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screens.history.declined_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screens.declined.list.count() == 1, timeout=3000)

    assert "ウォレットが停止" in screens.declined.list.item(0).text()
    qtbot.mouseClick(screens.declined.back_button, Qt.MouseButton.LeftButton)
    assert terminal.window.controller.current() is screens.sale


def test_declined_list_empty(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    terminal = make_terminal()
    screens = terminal.window.controller.screens

    terminal.window.controller.open_declined()
    qtbot.waitUntil(lambda: screens.declined.status.text() != "読み込んでいます…", timeout=3000)

    assert screens.declined.list.count() == 0
    assert screens.declined.status.text() == "受け付けられなかった取引はありません"


def test_offline_code_approved_locally(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi, receipt_log: ReceiptLog
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    wallet = OfflineWallet(terminal.offline.store)
    start_code_sale(qtbot, terminal, "800")

    scan(terminal, wallet.code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)

    payment = receipt_log.payments[0]
    assert controller.sale.state is SaleState.APPROVED
    assert payment.method == "offline"
    assert payment.amount_yen == 800
    assert controller.screens.result.headline.text() == "承認（オフライン）"
    assert payment.payment_id in controller.screens.result.detail.text()
    assert "自動で送信" in controller.screens.result.detail.text()
    waiting = terminal.offline.store.captures("waiting")
    assert [(c.capture_id, c.kind, c.amount_yen) for c in waiting] == [
        (payment.payment_id, "offline_payment", 800)
    ]
    assert "redeem_cpm" not in fake_api.names()


def test_offline_receipt_marked(qtbot: QtBot, make_terminal: Callable[[], Terminal],
                                receipt_log: ReceiptLog) -> None:
    terminal = make_terminal()
    wallet = OfflineWallet(terminal.offline.store)
    start_code_sale(qtbot, terminal, "800")
    scan(terminal, wallet.code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)

    document = payment_receipt(receipt_log.payments[0], make_info())

    texts = [getattr(item, "text", "") for item in document.blocks]
    values = [getattr(item, "right", "") for item in document.blocks]
    assert OFFLINE_NOTE in texts
    assert receipt_log.payments[0].payment_id in values


def test_online_code_offline_shows_message(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi, receipt_log: ReceiptLog
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    OfflineWallet(terminal.offline.store)
    terminal.window.controller.services.is_offline = lambda: True  # type: ignore[method-assign]
    start_code_sale(qtbot, terminal, "500")

    scan(terminal, new_payment_code())
    qtbot.waitUntil(lambda: not controller.sale.busy, timeout=3000)

    assert controller.screens.cpm.status.text() == messages.message_for(
        messages.SHOW_OFFLINE_CODE, "ja"
    )
    assert controller.sale.state is SaleState.CPM_WAITING
    assert terminal.offline.store.captures() == []
    assert "redeem_cpm" not in fake_api.names()


def test_qr_offline_shows_message(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: FakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    controller.services.is_offline = lambda: True  # type: ignore[method-assign]
    enter_amount(qtbot, terminal, "500")

    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)

    assert controller.current() is controller.screens.sale
    assert controller.screens.sale.hint.text() == messages.message_for(
        messages.QR_NEEDS_CONNECTION, "ja"
    )
    assert "create_intent" not in fake_api.names()


def test_declined_refund_reason_named(qtbot: QtBot, make_terminal: Callable[[], Terminal]) -> None:
    screens = make_terminal().window.controller.screens

    text = screens.declined.reason(ErrorCode.INSUFFICIENT_FUNDS.value)

    assert text == "理由: 残高が足りませんでした"
