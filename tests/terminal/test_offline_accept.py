"""Taking offline payment codes at the counter: verification, caps, replays and the sale."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_sync_server import START, FakeSyncServer, ManualClock, Wallet
from terminal import messages, offline_code
from terminal.clock import ServerClock
from terminal.config import OfflineConfig
from terminal.keys import Signer
from terminal.offline import OfflineAcceptor, OfflineRejected
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode, TaxLine
from terminal.sale import Key, Sale, SaleState
from terminal.store import NewCapture, Store, StoreError, open_store
from terminal.sync import SyncEngine, SyncWorker


class Counter:
    """Offline capture ids: off-00000001, off-00000002, ..."""

    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def __call__(self) -> str:
        return f"off-{next(self._numbers):08d}"


class Shop:
    """A terminal's store and offline acceptor, with a fake server that issued the keys."""

    def __init__(self, tmp_path: Path, caps: OfflineConfig = OfflineConfig()) -> None:
        self.terminal_key = Ed25519PrivateKey.generate()
        self.server = FakeSyncServer(self.terminal_key.public_key())
        self.device = ManualClock(START)
        self.clock = ServerClock(self.device)
        self.store = open_store(tmp_path / "data")
        self.store.replace_issuer_keys(self.server.issuer_key_list().keys)
        self.acceptor = OfflineAcceptor(
            self.store, caps, self.clock, Counter(), merchant_id="m-1", terminal_id="term-0001"
        )
        self.wallet = self.server.new_wallet()

    def code(self, wallet: Wallet | None = None, age_s: float = 0.0) -> str:
        return (wallet or self.wallet).code(self.device.now - timedelta(seconds=age_s))

    def rejection(self, text: str, amount_yen: int = 500) -> str:
        with pytest.raises(OfflineRejected) as caught:
            self.acceptor.accept(text, amount_yen)
        return caught.value.message_key


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(tmp_path)


def test_valid_code_recorded(shop: Shop) -> None:
    text = shop.code()
    lines = [TaxLine(rate_percent=8, amount_yen=1_200)]

    approval = shop.acceptor.accept(text.lower(), 1_200, lines)

    capture = approval.capture
    assert capture.kind == "offline_payment"
    assert capture.method == "offline"
    assert capture.amount_yen == 1_200
    assert capture.tax_lines == lines
    assert capture.offline_code == text
    assert approval.code.certificate.wallet_id == shop.wallet.wallet_id
    assert shop.store.outbox_state(capture.capture_id) == "pending"
    assert shop.store.offline_spent_yen(shop.wallet.wallet_id, 1) == 1_200


def test_same_code_rejected_twice(shop: Shop) -> None:
    text = shop.code()
    shop.acceptor.accept(text, 500)

    assert shop.rejection(text) == messages.OFFLINE_CODE_USED
    assert shop.store.waiting().count == 1


def test_reused_counter_rejected(shop: Shop) -> None:
    shop.acceptor.accept(shop.code(), 500)
    shop.wallet.counter -= 1
    shop.device.advance(30)

    assert shop.rejection(shop.code()) == messages.OFFLINE_CODE_USED


def test_online_code_asks_for_offline_code(shop: Shop) -> None:
    assert shop.rejection(new_payment_code()) == messages.SHOW_OFFLINE_CODE


def test_mangled_code_asks_to_scan_again(shop: Shop) -> None:
    text = shop.code()
    mangled = text[:-3] + ("A" if text[-3] != "A" else "B") + text[-2:]

    assert shop.rejection(mangled) == messages.CODE_MALFORMED


def test_unknown_issuer_rejected(shop: Shop) -> None:
    other_server = FakeSyncServer(shop.terminal_key.public_key())
    stranger = other_server.new_wallet()

    assert shop.rejection(shop.code(stranger)) == ErrorCode.OFFLINE_CODE_INVALID


def test_no_cached_keys_rejected(shop: Shop) -> None:
    shop.store.replace_issuer_keys([])

    assert shop.rejection(shop.code()) == messages.OFFLINE_NO_ISSUER_KEYS


def test_expired_certificate_rejected(shop: Shop) -> None:
    wallet = shop.server.new_wallet(valid_days=1)
    shop.device.advance(2 * 86_400)

    assert shop.rejection(shop.code(wallet)) == messages.OFFLINE_CERTIFICATE_EXPIRED


def test_old_code_rejected(shop: Shop) -> None:
    too_old_s = 25 * 3600

    assert shop.rejection(shop.code(age_s=too_old_s)) == messages.OFFLINE_CODE_TOO_OLD


def test_future_code_rejected(shop: Shop) -> None:
    assert shop.rejection(shop.code(age_s=-3600)) == messages.OFFLINE_CODE_FROM_FUTURE


def test_payment_cap(shop: Shop) -> None:
    assert shop.rejection(shop.code(), amount_yen=5_001) == messages.OFFLINE_PAYMENT_TOO_LARGE
    assert shop.acceptor.accept(shop.code(), 5_000).capture.amount_yen == 5_000


def test_waiting_total_cap(tmp_path: Path) -> None:
    shop = Shop(tmp_path, OfflineConfig(max_waiting_total_yen=10_000))
    shop.acceptor.accept(shop.code(), 5_000)
    shop.acceptor.accept(shop.code(), 4_000)

    assert shop.rejection(shop.code(), amount_yen=1_001) == messages.OFFLINE_WAITING_TOTAL_FULL
    assert shop.acceptor.accept(shop.code(), 1_000).capture.seq == 3


def test_waiting_count_cap(tmp_path: Path) -> None:
    shop = Shop(tmp_path, OfflineConfig(max_waiting_count=2))
    shop.acceptor.accept(shop.code(), 100)
    shop.acceptor.accept(shop.code(), 100)

    assert shop.rejection(shop.code(), amount_yen=100) == messages.OFFLINE_WAITING_COUNT_FULL


def test_caps_count_offline_entries_only(tmp_path: Path) -> None:
    shop = Shop(tmp_path, OfflineConfig(max_waiting_count=1))
    shop.store.record_capture(
        NewCapture(
            capture_id="online-00000001",
            kind="online_payment",
            amount_yen=9_000,
            method="cpm",
            captured_at=START,
            payment_id="pay-1",
        )
    )

    assert shop.acceptor.accept(shop.code(), 100).capture.seq == 2


def test_unsent_payment_too_old(shop: Shop) -> None:
    shop.acceptor.accept(shop.code(), 100)
    shop.device.advance(24 * 3600 + 1)

    assert shop.rejection(shop.code()) == messages.OFFLINE_WAITING_TOO_OLD


def test_allowance_of_certificate(shop: Shop) -> None:
    wallet = shop.server.new_wallet(allowance_yen=1_000)
    shop.acceptor.accept(shop.code(wallet), 600)

    assert shop.rejection(shop.code(wallet), amount_yen=401) == ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED
    assert shop.acceptor.accept(shop.code(wallet), 400).capture.amount_yen == 400


@pytest.mark.parametrize(
    "key",
    [
        messages.SHOW_OFFLINE_CODE,
        messages.OFFLINE_NO_ISSUER_KEYS,
        messages.OFFLINE_CERTIFICATE_EXPIRED,
        messages.OFFLINE_CODE_TOO_OLD,
        messages.OFFLINE_CODE_FROM_FUTURE,
        messages.OFFLINE_CODE_USED,
        messages.OFFLINE_PAYMENT_TOO_LARGE,
        messages.OFFLINE_WAITING_TOTAL_FULL,
        messages.OFFLINE_WAITING_COUNT_FULL,
        messages.OFFLINE_WAITING_TOO_OLD,
        messages.STORE_WRITE_FAILED,
        messages.CLOCK_WRONG,
    ],
)
def test_rejection_texts_in_both_languages(key: str) -> None:
    japanese = messages.message_for(key, "ja")
    english = messages.message_for(key, "en")

    assert japanese != messages.MESSAGES_JA[messages.UNKNOWN_ERROR]
    assert english != messages.MESSAGES_EN[messages.UNKNOWN_ERROR]
    assert japanese.endswith("。")


# --- the sale ------------------------------------------------------------------------------


def offline_sale(shop: Shop, offline: bool = True, amount: str = "1200") -> Sale:
    sale = Sale(100_000, offline=shop.acceptor, is_offline=lambda: offline, now=shop.clock.now)
    for digit in amount:
        sale.press(digit)
    sale.press(Key.RATE_8)
    sale.start_cpm()
    return sale


def test_sale_approves_offline_code(shop: Shop, client: object) -> None:
    sale = offline_sale(shop)

    assert sale.submit_code(client, shop.code()) is None  # type: ignore[arg-type]

    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None and sale.payment.method == "offline"
    assert sale.capture is not None
    assert sale.payment.payment_id == sale.capture.capture_id
    assert shop.store.capture(sale.capture.capture_id) == sale.capture


def test_sale_online_code_while_offline(shop: Shop, client: object, server: object) -> None:
    sale = offline_sale(shop)

    notice = sale.submit_code(client, new_payment_code())  # type: ignore[arg-type]

    assert notice == messages.SHOW_OFFLINE_CODE
    assert sale.state is SaleState.CPM_WAITING
    assert server.requests == []  # type: ignore[attr-defined]
    assert "オフライン支払い" in (sale.notice_text() or "")


def test_sale_offline_cap_text(shop: Shop, client: object) -> None:
    sale = offline_sale(shop, amount="6000")

    assert sale.submit_code(client, shop.code()) == messages.OFFLINE_PAYMENT_TOO_LARGE  # type: ignore[arg-type]
    assert "￥5,000" in (sale.notice_text() or "")
    assert sale.state is SaleState.CPM_WAITING


def test_sale_not_approved_when_store_fails(
    shop: Shop, client: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(new: NewCapture) -> None:
        raise StoreError("disk full")

    sale = offline_sale(shop)
    monkeypatch.setattr(shop.store, "record_capture", fail)

    assert sale.submit_code(client, shop.code()) == messages.STORE_WRITE_FAILED  # type: ignore[arg-type]
    assert sale.state is SaleState.CPM_WAITING
    assert sale.payment is None


def test_sale_online_approval_stored(tmp_path: Path, client: object) -> None:
    store = open_store(tmp_path / "data")
    sale = Sale(100_000, store=store)
    sale.press("8")
    sale.press("0")
    sale.press("0")
    sale.press(Key.RATE_10)
    sale.start_cpm()

    sale.submit_code(client, new_payment_code())  # type: ignore[arg-type]

    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None and sale.capture is not None
    (capture,) = store.captures()
    assert capture.kind == "online_payment"
    assert capture.payment_id == sale.payment.payment_id
    assert capture.amount_yen == 800
    assert store.outbox_state(capture.capture_id) == "pending"


def test_sale_without_store_unchanged(client: object) -> None:
    sale = Sale(100_000)
    sale.press("5")
    sale.press(Key.RATE_10)
    sale.start_cpm()

    sale.submit_code(client, new_payment_code())  # type: ignore[arg-type]

    assert sale.state is SaleState.APPROVED
    assert sale.capture is None


# --- offline, reconnect, online ------------------------------------------------------------


@pytest.fixture
def online_shop(tmp_path: Path) -> Iterator[tuple[Shop, SyncWorker]]:
    shop = Shop(tmp_path)
    api = shop.server.client(Signer(shop.terminal_key, clock=shop.clock.now))
    engine = SyncEngine(shop.store, api, shop.clock, random=lambda: 1.0)
    yield shop, SyncWorker(engine)
    api.close()


def test_offline_then_reconnect_in_order(
    online_shop: tuple[Shop, SyncWorker], client: object
) -> None:
    shop, worker = online_shop
    shop.server.failures_before.append(httpx.ConnectError("network is down"))
    assert worker.run_once().online is False

    sales = []
    for amount in ("1000", "2000"):
        sale = Sale(100_000, offline=shop.acceptor, is_offline=lambda: worker.offline)
        for digit in amount:
            sale.press(digit)
        sale.press(Key.RATE_10)
        sale.start_cpm()
        assert sale.submit_code(client, shop.code()) is None  # type: ignore[arg-type]
        sales.append(sale)
    assert worker.status.waiting_count == 0  # the status is refreshed by the next step

    shop.device.advance(5)
    status = worker.run_once()
    assert status.online is True
    third = shop.acceptor.accept(shop.code(), 3_000).capture
    worker.run_once()

    expected = [sale.capture.capture_id for sale in sales if sale.capture] + [third.capture_id]
    assert [entry.entry_id for entry in shop.server.applied] == expected
    assert [entry.amount_yen for entry in shop.server.applied] == [1_000, 2_000, 3_000]
    assert worker.status.waiting_count == 0


def test_offline_caps_config_defaults() -> None:
    caps = OfflineConfig()

    assert (caps.max_payment_yen, caps.max_waiting_total_yen) == (5_000, 30_000)
    assert (caps.max_waiting_count, caps.max_age_hours) == (50, 24)
    assert replace(caps, max_payment_yen=1).max_payment_yen == 1


def test_code_prefix_is_not_online() -> None:
    assert not offline_code.looks_like_offline_code(new_payment_code())
