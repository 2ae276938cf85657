"""Coupons at the counter: checking, discount, local single use, payments, sync and reports."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from drivers.printer.document import Columns, Text
from fake_sync_server import START, FakeSyncServer, ManualClock, Wallet
from terminal import coupon_code, messages, protocol
from terminal.api_client import Declined, Unreachable
from terminal.clock import ServerClock
from terminal.config import OfflineConfig
from terminal.coupon_code import CouponRejection, CouponTerms, DiscountKind
from terminal.messages import NEEDS_CONNECTION, NO_ISSUER_KEYS
from terminal.coupons import (
    CouponChecker,
    CouponRejected,
    CouponUses,
    CouponVerifier,
    coupon_message,
)
from terminal.day_close import build_report, coupon_discounts
from terminal.day_close_print import report_document
from terminal.keys import Signer
from terminal.offline import OfflineAcceptor
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode, TaxLine
from terminal.sale import Key, Sale, SaleState
from terminal.store import NewRedemption, Store, open_store
from terminal.sync import SyncEngine

MERCHANT_ID = "m-1"


def make_coupon(
    issuer: Ed25519PrivateKey,
    *,
    coupon_id: str = "cp-1",
    wallet_id: str = "w-1",
    discount_yen: int = 300,
    minimum_spend_yen: int = 1000,
    merchant_ids: tuple[str, ...] = (MERCHANT_ID,),
    valid_until: datetime = START + timedelta(days=30),
    percent: int | None = None,
) -> str:
    raw = issuer.public_key().public_bytes_raw()
    terms = CouponTerms(
        issuer_key_id=coupon_code._issuer_key_id_of(raw),
        coupon_id=coupon_id,
        campaign_id="camp-1",
        wallet_id=wallet_id,
        discount_kind=DiscountKind.PERCENT if percent else DiscountKind.YEN,
        discount_value=percent or discount_yen,
        minimum_spend_yen=minimum_spend_yen,
        max_discount_yen=0,
        valid_from=START - timedelta(days=1),
        valid_until=valid_until,
        merchant_ids=merchant_ids,
        title="秋の市",
    )
    return coupon_code.make_coupon_code(terms, issuer)


class Counter:
    def __init__(self) -> None:
        self._numbers = itertools.count(1)

    def __call__(self) -> str:
        return f"off-{next(self._numbers):08d}"


class CouponShop:
    """A terminal store with cached issuer keys, a fake sync server and a coupon verifier."""

    def __init__(self, tmp_path: Path) -> None:
        self.terminal_key = Ed25519PrivateKey.generate()
        self.server = CouponSyncServer(self.terminal_key.public_key())
        self.issuer = self.server.issuer_key
        self.device = ManualClock(START)
        self.clock = ServerClock(self.device)
        self.store: Store = open_store(tmp_path / "data")
        self.store.replace_issuer_keys(self.server.issuer_key_list().keys)
        self.verifier = CouponVerifier(self.store, MERCHANT_ID, self.clock.now)
        self.acceptor = OfflineAcceptor(
            self.store, OfflineConfig(), self.clock, Counter(), merchant_id=MERCHANT_ID,
            terminal_id="term-0001",
        )
        self.wallet: Wallet = self.server.new_wallet()

    def coupon(self, **kwargs: object) -> str:
        kwargs.setdefault("wallet_id", self.wallet.wallet_id)
        return make_coupon(self.issuer, **kwargs)  # type: ignore[arg-type]

    def rejection(self, text: str, total_yen: int = 3000) -> CouponRejected:
        with pytest.raises(CouponRejected) as caught:
            self.verifier.check(text, total_yen)
        return caught.value

    def offline_sale(self, amount: str = "3000") -> Sale:
        sale = Sale(100_000, offline=self.acceptor, is_offline=lambda: True, now=self.clock.now)
        for digit in amount:
            sale.press(digit)
        sale.press(Key.RATE_10)
        return sale


class CouponSyncServer(FakeSyncServer):
    """Applies offline payments, but declines the coupon of any whose coupon id is listed."""

    declined_coupon_ids: set[str] = set()

    def _first_result(self, entry: protocol.SyncEntry) -> protocol.SyncResult:
        result = super()._first_result(entry)
        if entry.coupon is None or result.status != "applied":
            return result
        coupon_id = coupon_code.parse_coupon_code(entry.coupon.code).coupon_id
        if coupon_id not in self.declined_coupon_ids:
            return result
        declined = protocol.CouponDeclined(
            coupon_id=coupon_id, reason=ErrorCode.COUPON_USED,
            missing_yen=entry.coupon.discount_yen, message="used at another shop",
        )
        return result.model_copy(update={"coupon_declined": declined})


@pytest.fixture
def shop(tmp_path: Path) -> CouponShop:
    return CouponShop(tmp_path)


class QuoteFake:
    """The quote and campaign calls of the API client, returning scripted results."""

    def __init__(self, error: Exception | None = None, discount_yen: int = 300) -> None:
        self.error = error
        self.discount_yen = discount_yen
        self.calls: list[tuple[str, int]] = []
        self.campaign_ids = ["camp-1"]
        self.campaign_fetches = 0

    def coupon_campaigns(self) -> protocol.CouponCampaignList:
        self.campaign_fetches += 1
        return protocol.CouponCampaignList(
            campaign_ids=self.campaign_ids, server_time="2024-05-01T00:30:00+00:00"
        )

    def quote_coupon(self, code: str, total_yen: int) -> protocol.CouponQuote:
        self.calls.append((code, total_yen))
        if self.error is not None:
            raise self.error
        return protocol.CouponQuote(
            coupon_id="cp-1", title="秋の市", issuer_name="若松商店会", total_yen=total_yen,
            discount_yen=self.discount_yen, pay_yen=total_yen - self.discount_yen,
            valid_until="2024-05-31T00:00:00+00:00",
        )


class PaymentFake:
    """Records CPM redeems and intents with their coupons, approving each."""

    def __init__(self, error: Declined | None = None) -> None:
        self.error = error
        self.redeems: list[tuple[str, int, protocol.CouponUse | None]] = []
        self.intents: list[tuple[int, protocol.CouponUse | None]] = []

    def redeem_cpm(
        self, code: str, amount_yen: int, tax_lines: Sequence[TaxLine], idempotency_key: str,
        coupon: protocol.CouponUse | None = None,
    ) -> protocol.Payment:
        self.redeems.append((code, amount_yen, coupon))
        if self.error is not None:
            error, self.error = self.error, None
            raise error
        applied = None
        if coupon is not None:
            applied = protocol.CouponApplied(
                coupon_id="cp-1", title="秋の市", issuer_name="若松商店会",
                total_yen=coupon.total_yen, discount_yen=coupon.discount_yen,
            )
        return protocol.Payment(
            payment_id=f"pay-{len(self.redeems)}", merchant_id=MERCHANT_ID,
            terminal_id="term-0001", amount_yen=amount_yen, refunded_yen=0, method="cpm",
            created_at="2024-05-01T00:30:00+00:00", tax_lines=list(tax_lines), coupon=applied,
        )


# --- checking offline ----------------------------------------------------------------------


def test_fixed_discount_applied(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon(), 3000)

    assert applied.discount_yen == 300
    assert applied.due_yen == 2700
    assert applied.title == "秋の市"
    assert applied.use() == protocol.CouponUse(
        code=applied.code, total_yen=3000, discount_yen=300
    )


def test_percent_discount_rounds_down(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon(percent=10, minimum_spend_yen=0), 1999)

    assert applied.discount_yen == 199
    assert applied.due_yen == 1800


def test_lower_case_scan_accepted(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon().lower(), 3000)

    assert applied.discount_yen == 300


def test_expired_coupon_rejected(shop: CouponShop) -> None:
    rejection = shop.rejection(shop.coupon(valid_until=START - timedelta(seconds=1)))

    assert rejection.reason == CouponRejection.EXPIRED
    assert "有効期限が切れています" in rejection.message()


def test_other_shop_coupon_rejected(shop: CouponShop) -> None:
    rejection = shop.rejection(shop.coupon(merchant_ids=("m-2",)))

    assert rejection.reason == CouponRejection.WRONG_SHOP
    assert rejection.message() == (
        "このクーポンはこのお店では使えません。クーポンなしでお会計してください。"
    )


def test_below_minimum_names_minimum(shop: CouponShop) -> None:
    rejection = shop.rejection(shop.coupon(minimum_spend_yen=5000), total_yen=4999)

    assert rejection.reason == CouponRejection.BELOW_MINIMUM
    assert "￥5,000 以上のお買い上げで使えます" in rejection.message()
    assert "purchase of ￥5,000 or more" in rejection.message("en")


def test_discount_leaves_one_yen(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon(minimum_spend_yen=0, discount_yen=500), 500)

    assert (applied.discount_yen, applied.due_yen) == (499, 1)


def test_one_yen_sale_gets_no_discount(shop: CouponShop) -> None:
    rejection = shop.rejection(shop.coupon(minimum_spend_yen=0), total_yen=1)

    assert rejection.reason == CouponRejection.BELOW_MINIMUM
    assert "￥2 以上" in rejection.message()


def test_forged_coupon_asks_to_show_again(shop: CouponShop) -> None:
    forged = make_coupon(Ed25519PrivateKey.generate(), wallet_id=shop.wallet.wallet_id)

    rejection = shop.rejection(forged)

    assert rejection.reason == CouponRejection.UNKNOWN_ISSUER
    assert "もう一度表示してもらい" in rejection.message()


def test_damaged_scan_asks_to_show_again(shop: CouponShop) -> None:
    code = shop.coupon()
    damaged = code[:-3] + ("A" if code[-3] != "A" else "B") + code[-2:]

    rejection = shop.rejection(damaged)

    assert rejection.reason == CouponRejection.MALFORMED
    assert rejection.message().startswith("クーポンを読み取れませんでした")


def test_no_cached_keys_rejected(tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty")
    verifier = CouponVerifier(store, MERCHANT_ID, lambda: START)

    with pytest.raises(CouponRejected) as caught:
        verifier.check(make_coupon(Ed25519PrivateKey.generate()), 3000)

    assert caught.value.reason == NO_ISSUER_KEYS


def test_campaign_wide_coupon_needs_connection(shop: CouponShop) -> None:
    rejection = shop.rejection(shop.coupon(merchant_ids=()))

    assert rejection.reason == NEEDS_CONNECTION


# --- used on this terminal -----------------------------------------------------------------


def open_redemption(store: Store, key: str) -> None:
    store.open_redemption(NewRedemption(
        key, "cpm", 2700, (TaxLine(rate_percent=10, amount_yen=3000),), START, "code", None
    ))


def test_coupon_of_open_redemption_is_used(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon(), 3000)
    uses = CouponUses(shop.store)

    uses.record("key-0001", applied, START)
    open_redemption(shop.store, "key-0001")

    assert uses.is_used("cp-1")
    assert shop.rejection(shop.coupon()).reason == CouponRejection.USED
    with pytest.raises(CouponRejected):
        uses.record("key-0002", applied, START)
    uses.record("key-0001", applied, START)  # the same attempt, sent again
    assert uses.use_for("key-0001") == applied.use()


def test_coupon_of_closed_redemption_is_free(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon(), 3000)
    uses = CouponUses(shop.store)
    uses.record("key-0001", applied, START)
    open_redemption(shop.store, "key-0001")

    shop.store.close_redemption("key-0001", "coupon_wrong_wallet")

    assert not uses.is_used("cp-1")
    assert shop.verifier.check(shop.coupon(), 3000).discount_yen == 300


def test_unsent_record_is_not_a_use(shop: CouponShop) -> None:
    applied = shop.verifier.check(shop.coupon(), 3000)

    CouponUses(shop.store).record("key-0001", applied, START)

    assert not CouponUses(shop.store).is_used("cp-1")


# --- checking online -----------------------------------------------------------------------


def test_online_quote_gives_issuer(shop: CouponShop) -> None:
    api = QuoteFake(discount_yen=300)
    checker = CouponChecker(api, shop.verifier)

    applied = checker.check(shop.coupon(), 3000)

    assert api.calls == [(shop.coupon().upper(), 3000)]
    assert applied.issuer_name == "若松商店会"
    assert applied.checked_online
    assert applied.due_yen == 2700


def test_online_rejection_keeps_server_reason(shop: CouponShop) -> None:
    api = QuoteFake(error=Declined("used", ErrorCode.COUPON_USED, 409))
    checker = CouponChecker(api, shop.verifier)

    with pytest.raises(CouponRejected) as caught:
        checker.check(shop.coupon(), 3000)

    assert caught.value.reason == CouponRejection.USED
    assert caught.value.message() == "このクーポンは使用済みです。クーポンなしでお会計してください。"


def test_unreachable_quote_checks_offline(shop: CouponShop) -> None:
    checker = CouponChecker(QuoteFake(error=Unreachable("down")), shop.verifier)

    applied = checker.check(shop.coupon(), 3000)

    assert not applied.checked_online
    assert applied.discount_yen == 300


def test_campaigns_cached_for_offline(shop: CouponShop) -> None:
    api = QuoteFake()
    CouponChecker(api, shop.verifier).check(shop.coupon(), 3000)
    CouponChecker(api, shop.verifier).check(shop.coupon(), 3000)

    applied = shop.verifier.check(shop.coupon(merchant_ids=()), 3000)

    assert api.campaign_fetches == 1
    assert applied.discount_yen == 300


def test_campaign_of_other_shops_needs_connection(shop: CouponShop) -> None:
    api = QuoteFake()
    api.campaign_ids = ["camp-other"]
    CouponChecker(api, shop.verifier).check(shop.coupon(), 3000)

    assert shop.rejection(shop.coupon(merchant_ids=())).reason == NEEDS_CONNECTION


def test_offline_terminal_skips_quote(shop: CouponShop) -> None:
    api = QuoteFake()
    checker = CouponChecker(api, shop.verifier, is_offline=lambda: True)

    checker.check(shop.coupon(), 3000)

    assert api.calls == []


# --- paying with a coupon ------------------------------------------------------------------


def online_sale(shop: CouponShop) -> Sale:
    sale = Sale(100_000, store=shop.store, now=shop.clock.now)
    for digit in "3000":
        sale.press(digit)
    sale.press(Key.RATE_10)
    return sale


def test_cpm_carries_coupon_use(shop: CouponShop) -> None:
    sale = online_sale(shop)
    sale.set_coupon(shop.verifier.check(shop.coupon(), 3000))
    api = PaymentFake()
    code = new_payment_code()

    sale.start_cpm()
    sale.submit_code(api, code)  # type: ignore[arg-type]

    assert sale.state is SaleState.APPROVED
    assert api.redeems == [
        (code, 2700, protocol.CouponUse(code=shop.coupon().upper(), total_yen=3000, discount_yen=300))
    ]
    assert sale.capture is not None and sale.capture.amount_yen == 2700
    assert sale.capture.tax_lines == [TaxLine(rate_percent=10, amount_yen=3000)]
    assert CouponUses(shop.store).is_used("cp-1")


def test_coupon_refused_at_payment_allows_retry(shop: CouponShop) -> None:
    sale = online_sale(shop)
    sale.set_coupon(shop.verifier.check(shop.coupon(), 3000))
    api = PaymentFake(error=Declined("other wallet", ErrorCode.COUPON_WRONG_WALLET, 409))
    code = new_payment_code()
    sale.start_cpm()

    notice = sale.submit_code(api, code)  # type: ignore[arg-type]

    assert sale.state is SaleState.DECLINED
    assert notice == ErrorCode.COUPON_WRONG_WALLET
    assert sale.notice_text() == coupon_message(CouponRejection.WRONG_WALLET)
    assert not CouponUses(shop.store).is_used("cp-1")

    sale.retry()
    sale.remove_coupon()
    sale.start_cpm()
    sale.submit_code(api, code)  # type: ignore[arg-type]

    assert sale.state is SaleState.APPROVED
    assert [(amount, coupon) for _, amount, coupon in api.redeems] == [
        (2700, protocol.CouponUse(code=shop.coupon().upper(), total_yen=3000, discount_yen=300)),
        (3000, None),
    ]


def test_total_below_minimum_blocks_payment(shop: CouponShop) -> None:
    sale = online_sale(shop)
    sale.set_coupon(shop.verifier.check(shop.coupon(minimum_spend_yen=3000), 3000))
    sale.remove_last_line()
    for digit in "2000":
        sale.press(digit)
    sale.press(Key.RATE_8)

    notice = sale.start_cpm()

    assert notice == CouponRejection.BELOW_MINIMUM
    assert sale.state is SaleState.AMOUNT_ENTRY
    assert "￥3,000 以上" in (sale.notice_text() or "")


def test_offline_coupon_payment_recorded(shop: CouponShop) -> None:
    sale = shop.offline_sale()
    sale.set_coupon(shop.verifier.check(shop.coupon(), 3000))
    sale.start_cpm()

    sale.submit_code(None, shop.wallet.code(shop.device.now))  # type: ignore[arg-type]

    assert sale.state is SaleState.APPROVED
    assert sale.payment is not None and sale.payment.amount_yen == 2700
    assert sale.payment.coupon is not None and sale.payment.coupon.discount_yen == 300
    [capture] = shop.store.captures("waiting")
    assert capture.amount_yen == 2700
    assert CouponUses(shop.store).discounts() == {capture.capture_id: 300}


def test_offline_coupon_refused_second_time(shop: CouponShop) -> None:
    first = shop.offline_sale()
    first.set_coupon(shop.verifier.check(shop.coupon(), 3000))
    first.start_cpm()
    first.submit_code(None, shop.wallet.code(shop.device.now))  # type: ignore[arg-type]

    assert shop.rejection(shop.coupon()).reason == CouponRejection.USED


def test_replayed_offline_code_keeps_coupon(shop: CouponShop) -> None:
    code = shop.wallet.code(shop.device.now)
    first = shop.offline_sale()
    first.set_coupon(shop.verifier.check(shop.coupon(), 3000))
    first.start_cpm()
    first.submit_code(None, code)  # type: ignore[arg-type]
    replay = shop.offline_sale()
    replay.set_coupon(shop.verifier.check(shop.coupon(coupon_id="cp-2"), 3000))
    replay.start_cpm()

    notice = replay.submit_code(None, code)  # type: ignore[arg-type]

    assert notice == messages.OFFLINE_CODE_USED
    [capture] = shop.store.captures()
    assert CouponUses(shop.store).discounts() == {capture.capture_id: 300}
    [entry] = shop.store.pending_entries(10)
    assert CouponUses(shop.store).entry_use(entry.entry) == protocol.CouponUse(
        code=shop.coupon().upper(), total_yen=3000, discount_yen=300
    )


def test_offline_coupon_of_other_wallet_rejected(shop: CouponShop) -> None:
    sale = shop.offline_sale()
    sale.set_coupon(shop.verifier.check(shop.coupon(wallet_id="w-someone"), 3000))
    sale.start_cpm()

    notice = sale.submit_code(None, shop.wallet.code(shop.device.now))  # type: ignore[arg-type]

    assert notice == CouponRejection.WRONG_WALLET
    assert sale.state is SaleState.CPM_WAITING
    assert shop.store.captures() == []
    assert not CouponUses(shop.store).is_used("cp-1")


# --- sync ----------------------------------------------------------------------------------


def sync_engine(shop: CouponShop) -> SyncEngine:
    api = shop.server.client(Signer(shop.terminal_key, clock=shop.clock.now))
    return SyncEngine(shop.store, api, shop.clock, random=lambda: 0.0)


def pay_offline_with_coupon(shop: CouponShop, coupon_id: str = "cp-1") -> str:
    sale = shop.offline_sale()
    sale.set_coupon(shop.verifier.check(shop.coupon(coupon_id=coupon_id), 3000))
    sale.start_cpm()
    sale.submit_code(None, shop.wallet.code(shop.device.now))  # type: ignore[arg-type]
    assert sale.capture is not None
    return sale.capture.capture_id


def test_offline_entry_sends_coupon(shop: CouponShop) -> None:
    pay_offline_with_coupon(shop)

    sync_engine(shop).drain()

    [entry] = shop.server.applied
    assert entry.amount_yen == 2700
    assert entry.coupon == protocol.CouponUse(
        code=shop.coupon().upper(), total_yen=3000, discount_yen=300
    )


def test_coupon_declined_at_sync_listed(shop: CouponShop) -> None:
    shop.server.declined_coupon_ids = {"cp-9"}
    capture_id = pay_offline_with_coupon(shop, coupon_id="cp-9")
    engine = sync_engine(shop)

    engine.drain()

    [decline] = CouponUses(shop.store).declines()
    assert (decline.capture_id, decline.reason, decline.missing_yen) == (
        capture_id, ErrorCode.COUPON_USED, 300
    )
    assert engine.status().declined_count == 1
    assert shop.store.capture(capture_id).state == "confirmed"  # type: ignore[union-attr]


# --- day close -----------------------------------------------------------------------------


def test_day_report_counts_coupons(shop: CouponShop) -> None:
    shop.server.declined_coupon_ids = {"cp-2"}
    pay_offline_with_coupon(shop, coupon_id="cp-1")
    pay_offline_with_coupon(shop, coupon_id="cp-2")
    sync_engine(shop).drain()

    report = build_report(
        "X", shop.store.captures(), "2024-05-01", START, coupon_discounts=coupon_discounts(shop.store)
    )

    assert (report.coupons.count, report.coupons.amount_yen) == (1, 300)
    assert (report.coupons_missing.count, report.coupons_missing.amount_yen) == (1, 300)
    assert report.payments.amount_yen == 5400


def test_day_report_prints_coupon_lines(shop: CouponShop) -> None:
    shop.server.declined_coupon_ids = {"cp-2"}
    pay_offline_with_coupon(shop, coupon_id="cp-1")
    pay_offline_with_coupon(shop, coupon_id="cp-2")
    sync_engine(shop).drain()
    report = build_report(
        "Z", shop.store.captures(), "2024-05-01", START, coupon_discounts=coupon_discounts(shop.store)
    )
    terminal = protocol.TerminalInfo(
        terminal_id="term-0001", label="レジ1", max_amount_yen=100_000,
        merchant=protocol.MerchantInfo(
            merchant_id=MERCHANT_ID, name="さくら商店", name_ascii="SAKURA", city_ascii="AIZU",
            address="福島県", invoice_registration_number="T7000012050002",
        ),
    )

    document = report_document(report, terminal)

    columns = [(b.left, b.right) for b in document.blocks if isinstance(b, Columns)]
    assert ("クーポン割引", "1件 ￥300") in columns
    assert ("クーポン割引 未入金", "1件 ￥300") in columns


def test_declined_entry_keeps_discount(shop: CouponShop) -> None:
    capture_id = pay_offline_with_coupon(shop)
    shop.store.apply_results([protocol.SyncResult(
        entry_id=capture_id, status="declined", reason=ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED,
    )])

    report = build_report(
        "X", shop.store.captures(), "2024-05-01", START, coupon_discounts=coupon_discounts(shop.store)
    )
    document = report_document(report, protocol.TerminalInfo(
        terminal_id="t", label="レジ1", max_amount_yen=1, merchant=protocol.MerchantInfo(
            merchant_id="m", name="店", name_ascii="S", city_ascii="A", address="",
            invoice_registration_number="T7000012050002")))

    assert [d.coupon_discount_yen for d in report.declined] == [300]
    assert report.coupons.count == 0
    texts = [(b.left, b.right) for b in document.blocks if isinstance(b, Columns)]
    assert ("　クーポン割引(未入金)", "￥300") in texts
    assert not any(isinstance(b, Text) and b.text == "クーポン割引" for b in document.blocks)
