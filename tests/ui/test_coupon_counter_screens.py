"""Coupons on the clerk's screens, with scans typed as key events like a wedge scanner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from terminal import coupon_code, offline_code, protocol
from terminal.api_client import Declined
from terminal.config import PrinterConfig, ScannerConfig, TerminalConfig
from terminal.coupon_code import CouponTerms, DiscountKind
from terminal.coupons import CouponUses
from terminal.paycode import new_payment_code
from terminal.protocol import ErrorCode
from terminal.sale import SaleState
from tests.ui.conftest import PIN_HASH, FakeApi, ReceiptLog, iso
from tests.ui.test_offline_screens import OfflineWallet
from tests.ui.test_scanning import enter_amount, scan
from ui.app import Terminal
from ui.coupon import CouponStatus

ISSUER = Ed25519PrivateKey.generate()


def make_coupon(
    *, coupon_id: str = "cp-1", wallet_id: str = "w-test", minimum_spend_yen: int = 1000,
    merchant_ids: tuple[str, ...] = ("m-1",),
) -> str:
    now = datetime.now(UTC).replace(microsecond=0)
    terms = CouponTerms(
        issuer_key_id=offline_code.issuer_key_id(ISSUER.public_key().public_bytes_raw()),
        coupon_id=coupon_id, campaign_id="camp-1", wallet_id=wallet_id,
        discount_kind=DiscountKind.YEN, discount_value=300,
        minimum_spend_yen=minimum_spend_yen, max_discount_yen=0,
        valid_from=now - timedelta(days=1), valid_until=now + timedelta(days=30),
        merchant_ids=merchant_ids, title="秋の市",
    )
    return coupon_code.make_coupon_code(terms, ISSUER)


@dataclass
class CouponFakeApi(FakeApi):
    """The screens' fake API with the coupon quote and coupons on payments."""

    quote_error: Declined | None = None
    redeem_errors: list[Declined] = field(default_factory=list)
    coupons_sent: list[protocol.CouponUse | None] = field(default_factory=list)
    next_coupon: protocol.NextCoupon | None = None

    def quote_coupon(self, code: str, total_yen: int) -> protocol.CouponQuote:
        self._record("quote_coupon", total_yen)
        if self.quote_error is not None:
            raise self.quote_error
        terms = coupon_code.parse_coupon_code(code)
        if total_yen < terms.minimum_spend_yen:
            raise Declined("below minimum", ErrorCode.COUPON_BELOW_MINIMUM, 422)
        discount_yen = coupon_code.discount_yen(terms, total_yen)
        return protocol.CouponQuote(
            coupon_id=terms.coupon_id, title=terms.title, issuer_name="若松商店会",
            total_yen=total_yen, discount_yen=discount_yen, pay_yen=total_yen - discount_yen,
            valid_until=iso(terms.valid_until),
        )

    def coupon_campaigns(self) -> protocol.CouponCampaignList:
        self._record("coupon_campaigns")
        return protocol.CouponCampaignList(campaign_ids=["camp-1"], server_time=iso(datetime.now(UTC)))

    def redeem_cpm(  # type: ignore[override]
        self, code: str, amount_yen: int, tax_lines: Sequence[protocol.TaxLine],
        idempotency_key: str, coupon: protocol.CouponUse | None = None,
    ) -> protocol.Payment:
        self.coupons_sent.append(coupon)
        if self.redeem_errors:
            self._record("redeem_cpm", code, amount_yen, idempotency_key)
            raise self.redeem_errors.pop(0)
        payment = super().redeem_cpm(code, amount_yen, tax_lines, idempotency_key)
        if coupon is None:
            return payment
        applied = protocol.CouponApplied(
            coupon_id="cp-1", title="秋の市", issuer_name="若松商店会",
            total_yen=coupon.total_yen, discount_yen=coupon.discount_yen,
            next_coupon=self.next_coupon,
        )
        self.payments[0] = payment.model_copy(update={"coupon": applied})
        return self.payments[0]

    def create_intent(  # type: ignore[override]
        self, amount_yen: int, tax_lines: Sequence[protocol.TaxLine], idempotency_key: str,
        coupon: protocol.CouponUse | None = None,
    ) -> protocol.Intent:
        self.coupons_sent.append(coupon)
        return super().create_intent(amount_yen, tax_lines, idempotency_key)


@pytest.fixture
def fake_api() -> CouponFakeApi:
    return CouponFakeApi()


@pytest.fixture
def terminal_config(tmp_path: Path) -> TerminalConfig:
    # A coupon is about 290 characters. A loaded test machine can pause longer than the
    # default 30 ms between two keys of one burst, which would split the scan.
    return TerminalConfig(
        data_dir=tmp_path,
        manager_pin_hash=PIN_HASH,
        printer=PrinterConfig(url="dummy://"),
        scanner=ScannerConfig(repeat_window_ms=0, max_interkey_ms=250),
    )


def scan_coupon(qtbot: QtBot, terminal: Terminal, code: str) -> None:
    screen = terminal.window.controller.screens.sale
    scan(screen.keypad.buttons["7"], code)
    presenter = terminal.window.controller.sale.coupons
    qtbot.waitUntil(lambda: presenter.status is not CouponStatus.CHECKING, timeout=3000)


def cache_issuer_key(terminal: Terminal) -> None:
    raw = ISSUER.public_key().public_bytes_raw()
    now = datetime.now(UTC).replace(microsecond=0)
    store = terminal.offline.store
    store.replace_issuer_keys([
        *store.issuer_keys(),
        protocol.IssuerKey(
            key_id=offline_code.issuer_key_id(raw), public_key=protocol.b64encode(raw),
            valid_from=iso(now - timedelta(days=1)), valid_until=iso(now + timedelta(days=30)),
        )
    ])


def test_coupon_after_amount_shows_discount(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi
) -> None:
    terminal = make_terminal()
    screen = terminal.window.controller.screens.sale
    enter_amount(qtbot, terminal, "3000")

    scan_coupon(qtbot, terminal, make_coupon())

    assert screen.coupon_panel.isVisible()
    assert screen.coupon_panel.headline.text() == "クーポン 秋の市 −￥300"
    assert screen.coupon_panel.detail.text() == "お支払い ￥2,700"
    assert screen.total.text() == "合計 ￥3,000"
    assert ("quote_coupon", (3000,)) in fake_api.calls


def test_coupon_before_amount_waits_for_total(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi
) -> None:
    terminal = make_terminal()
    panel = terminal.window.controller.screens.sale.coupon_panel

    scan_coupon(qtbot, terminal, make_coupon())

    assert panel.headline.text() == "クーポンを読み取りました"
    assert panel.detail.text() == "金額の入力後に割引を表示"
    assert "quote_coupon" not in fake_api.names()

    enter_amount(qtbot, terminal, "2000")
    qtbot.waitUntil(lambda: panel.headline.text() == "クーポン 秋の市 −￥300", timeout=3000)
    assert panel.detail.text() == "お支払い ￥1,700"


def test_code_payment_carries_coupon(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "3000")
    code = make_coupon()
    scan_coupon(qtbot, terminal, code)

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.screens.cpm.amount.text() == "￥2,700"
    assert controller.screens.cpm.coupon_note.text() == "クーポン 秋の市 −￥300（合計 ￥3,000）"
    scan(controller.screens.cpm, new_payment_code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)

    assert fake_api.coupons_sent == [
        protocol.CouponUse(code=code, total_yen=3000, discount_yen=300)
    ]
    payment = receipt_log.payments[0]
    assert payment.amount_yen == 2700
    assert payment.coupon is not None and payment.coupon.discount_yen == 300
    assert controller.screens.result.amount.text() == "￥2,700"


def test_qr_payment_carries_coupon(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon())

    qtbot.mouseClick(controller.screens.sale.qr_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "create_intent" in fake_api.names(), timeout=3000)

    assert ("create_intent", (2700, controller.sale.sale.idempotency_key)) in fake_api.calls
    assert [use.discount_yen for use in fake_api.coupons_sent if use] == [300]
    assert controller.screens.mpm.coupon_note.text() == "クーポン 秋の市 −￥300（合計 ￥3,000）"
    qtbot.mouseClick(controller.screens.mpm.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=3000)


def test_remove_button_takes_coupon_off(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    panel = controller.screens.sale.coupon_panel
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon())

    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)

    assert not panel.isVisible()
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.screens.cpm.amount.text() == "￥3,000"
    scan(controller.screens.cpm, new_payment_code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)
    assert fake_api.coupons_sent == [None]


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (ErrorCode.COUPON_EXPIRED,
         "このクーポンは有効期限が切れています。クーポンなしでお会計してください。"),
        (ErrorCode.COUPON_WRONG_SHOP,
         "このクーポンはこのお店では使えません。クーポンなしでお会計してください。"),
        (ErrorCode.COUPON_USED, "このクーポンは使用済みです。クーポンなしでお会計してください。"),
        (ErrorCode.COUPON_BAD_SIGNATURE,
         "このクーポンは正しくありません。お客様にアプリのクーポンをもう一度表示してもらい、"
         "読み取ってください。"),
    ],
)
def test_rejected_coupon_says_why(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    error: ErrorCode, text: str,
) -> None:
    terminal = make_terminal()
    panel = terminal.window.controller.screens.sale.coupon_panel
    fake_api.quote_error = Declined("rejected", error, 422)
    enter_amount(qtbot, terminal, "3000")

    scan_coupon(qtbot, terminal, make_coupon())

    assert panel.headline.text() == text
    assert not panel.detail.isVisible()
    assert panel.remove_button.isVisible()
    assert terminal.window.controller.sale.due_yen == 3000


def test_below_minimum_names_minimum(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi
) -> None:
    terminal = make_terminal()
    panel = terminal.window.controller.screens.sale.coupon_panel
    enter_amount(qtbot, terminal, "800")

    scan_coupon(qtbot, terminal, make_coupon(minimum_spend_yen=1000))

    assert panel.headline.text() == (
        "このクーポンは ￥1,000 以上のお買い上げで使えます。"
        "商品を追加するか、クーポンを外してください。"
    )


def test_server_rejection_at_payment_allows_retry(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    panel = controller.screens.sale.coupon_panel
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon())
    fake_api.redeem_errors.append(Declined("other", ErrorCode.COUPON_WRONG_WALLET, 409))
    payment_code = new_payment_code()

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(controller.screens.cpm, payment_code)
    qtbot.waitUntil(lambda: controller.current() is controller.screens.sale, timeout=3000)

    assert "別の方のもの" in panel.headline.text()
    assert receipt_log.payments == []

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    assert controller.current() is controller.screens.sale
    assert controller.screens.sale.hint.text().startswith("使えないクーポンが付いています")

    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(controller.screens.cpm, payment_code)
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)

    assert receipt_log.payments[0].amount_yen == 3000
    assert [use.discount_yen if use else None for use in fake_api.coupons_sent] == [300, None]


def test_coupon_scanned_on_code_screen_goes_back(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "3000")
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)

    scan(controller.screens.cpm, make_coupon())
    qtbot.waitUntil(lambda: controller.sale.sale.coupon is not None, timeout=3000)

    assert controller.current() is controller.screens.sale
    assert controller.screens.sale.coupon_panel.detail.text() == "お支払い ￥2,700"


def test_offline_coupon_used_once(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    controller.services.is_offline = lambda: True  # type: ignore[method-assign]
    wallet = OfflineWallet(terminal.offline.store)
    cache_issuer_key(terminal)
    code = make_coupon(wallet_id="w-test")
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, code)
    assert controller.screens.sale.coupon_panel.detail.text() == "お支払い ￥2,700"

    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    controller.on_scan(wallet.code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)

    assert receipt_log.payments[0].method == "offline"
    assert receipt_log.payments[0].amount_yen == 2700
    assert "quote_coupon" not in fake_api.names()
    qtbot.mouseClick(controller.screens.result.next_button, Qt.MouseButton.LeftButton)
    assert not controller.screens.sale.coupon_panel.isVisible()

    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, code)
    assert controller.screens.sale.coupon_panel.headline.text() == (
        "このクーポンは使用済みです。クーポンなしでお会計してください。"
    )


def test_declined_list_shows_missing_discount(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    controller.services.is_offline = lambda: True  # type: ignore[method-assign]
    wallet = OfflineWallet(terminal.offline.store)
    cache_issuer_key(terminal)
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon(wallet_id="w-test"))
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    controller.on_scan(wallet.code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)
    capture_id = receipt_log.payments[0].payment_id
    result = protocol.SyncResult(
        entry_id=capture_id, status="applied", payment_id="pay-9", business_day="2024-05-01",
        coupon_declined=protocol.CouponDeclined(
            coupon_id="cp-1", reason=ErrorCode.COUPON_USED, missing_yen=300),
    )
    terminal.offline.store.apply_results([result])
    CouponUses(terminal.offline.store).record_declines([result])

    controller.open_declined()
    screens = controller.screens
    qtbot.waitUntil(lambda: screens.declined.list.count() == 1, timeout=3000)

    text = screens.declined.list.item(0).text()
    assert "理由: クーポンがすでに使われていました" in text
    assert "クーポン割引 ￥300 はお店に支払われません" in text
    assert "￥2,700" in text
    assert screens.declined.status.text().startswith(
        "クーポン割引だけが支払われなかったお支払いは売上に含まれます。")


def test_new_sale_forgets_coupon(
    qtbot: QtBot, make_terminal: Callable[[], Terminal], fake_api: CouponFakeApi,
    receipt_log: ReceiptLog,
) -> None:
    terminal = make_terminal()
    controller = terminal.window.controller
    enter_amount(qtbot, terminal, "3000")
    scan_coupon(qtbot, terminal, make_coupon())
    qtbot.mouseClick(controller.screens.sale.code_button, Qt.MouseButton.LeftButton)
    scan(controller.screens.cpm, new_payment_code())
    qtbot.waitUntil(lambda: len(receipt_log.payments) == 1, timeout=3000)

    qtbot.mouseClick(controller.screens.result.next_button, Qt.MouseButton.LeftButton)

    assert controller.sale.sale.state is SaleState.IDLE
    assert controller.sale.sale.coupon is None
    assert not controller.screens.sale.coupon_panel.isVisible()


def test_english_panel_is_translated(
    qtbot: QtBot, english: None, make_terminal: Callable[[str], Terminal],
    fake_api: CouponFakeApi,
) -> None:
    terminal = make_terminal("en")
    panel = terminal.window.controller.screens.sale.coupon_panel
    enter_amount(qtbot, terminal, "3000")

    scan_coupon(qtbot, terminal, make_coupon())

    assert panel.headline.text() == "Coupon 秋の市 −￥300"
    assert panel.detail.text() == "To pay ￥2,700"
    assert panel.remove_button.text() == "Remove coupon"
    assert panel.presenter.rejection_text() == ""
