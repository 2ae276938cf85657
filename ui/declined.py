"""The list of entries the server declined after the terminal had recorded them.

An offline payment the clerk saw approved can still be declined when it is sent (for example
when the customer's offline allowance was spent at another shop). Such entries are kept in the
terminal database with the server's reason and listed here, with the amount, the time and the
reason in plain words, so the merchant can follow each one up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from terminal import messages
from terminal.coupons import CouponDecline, CouponUses, coupon_reason
from terminal.japan_time import format_japan_time
from terminal.protocol import ErrorCode
from terminal.store import Capture, Store
from ui.errors import clerk_message
from ui.services import TerminalServices
from ui.widgets import big_button, format_yen, styled_label

log = logging.getLogger(__name__)


class DeclinedPresenter(QObject):
    """Reads the declined captures from the terminal database on a worker."""

    loaded = Signal(list)  # list[Capture], oldest first
    load_failed = Signal(str)

    def __init__(self, services: TerminalServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.captures: list[Capture] = []
        # The coupon discount of each declined payment that used a coupon, by capture id.
        self.coupon_discounts: dict[str, int] = {}
        # Applied payments whose coupon the server did not honour, by capture id.
        self.coupon_declines: dict[str, CouponDecline] = {}

    def load(self) -> None:
        parts = self._services.offline
        if parts is None:
            self._on_loaded([])
            return
        store = parts.store
        self._services.runner.run(
            lambda: _read_declined(store), self._on_read, self._on_load_failed
        )

    def _on_read(self, read: DeclinedRead) -> None:
        self.coupon_discounts = read.coupon_discounts
        self.coupon_declines = {decline.capture_id: decline for decline in read.coupon_declines}
        self._on_loaded(read.captures)

    def advice(self, capture: Capture) -> str:
        """Return what the declined entry means for the shop and who should act."""
        if capture.state != "declined" and capture.capture_id in self.coupon_declines:
            return self.tr(
                "お支払いは売上に入っています。クーポン割引の分だけ入金されません。"
                "お客様にもう一度請求せず、運営事務局に連絡してください。"
            )
        if capture.kind == "refund":
            key = messages.SYNC_DECLINED_REFUND
        elif capture.kind == "offline_payment":
            key = messages.SYNC_DECLINED_OFFLINE
        else:
            key = messages.SYNC_DECLINED_OTHER
        return clerk_message(key, self._services.lang)

    def _on_loaded(self, captures: list[Capture]) -> None:
        self.captures = list(captures)
        self.loaded.emit(self.captures)

    def _on_load_failed(self, exc: BaseException) -> None:
        log.error("reading declined entries failed", exc_info=exc)
        self.load_failed.emit(clerk_message(messages.UNKNOWN_ERROR, self._services.lang))


@dataclass(frozen=True)
class DeclinedRead:
    captures: list[Capture]
    coupon_discounts: dict[str, int]
    coupon_declines: list[CouponDecline]


def _read_declined(store: Store) -> DeclinedRead:
    """Read the declined captures and the applied ones whose coupon was not honoured."""
    uses = CouponUses(store)
    declines = uses.declines()
    found = [store.capture(decline.capture_id) for decline in declines]
    applied = [c for c in found if c is not None and c.state != "declined"]
    listed = store.captures("declined") + applied
    listed.sort(key=lambda capture: capture.seq)
    return DeclinedRead(listed, uses.discounts(), declines)


class DeclinedScreen(QWidget):
    """Lists each declined entry; choosing one shows what it means for the shop."""

    back_requested = Signal()

    def __init__(self, presenter: DeclinedPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.title = styled_label(self.tr("サーバーが受け付けなかった取引"), "title")
        self.status = styled_label("", "hint")
        self.status.setObjectName("declined_status")
        self.list = QListWidget(self)
        self.list.setObjectName("declined_list")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setWordWrap(True)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.detail = styled_label("", "hint")
        self.detail.setObjectName("declined_detail")
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("declined_back")
        self.back_button.clicked.connect(self.back_requested)

        buttons = QGridLayout()
        buttons.addWidget(self.back_button, 0, 0)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)

        presenter.loaded.connect(self._show_captures)
        presenter.load_failed.connect(self.status.setText)

    def load(self) -> None:
        self.status.setText(self.tr("読み込んでいます…"))
        self.detail.setText("")
        self.presenter.load()

    def _show_captures(self, captures: list[Capture]) -> None:
        self.list.clear()
        for capture in captures:
            QListWidgetItem(self.describe(capture), self.list)
        coupon_only = any(capture.state != "declined"
                          and capture.capture_id in self.presenter.coupon_declines
                          for capture in captures)
        if coupon_only:
            self.status.setText(self.tr(
                "クーポン割引だけが支払われなかったお支払いは売上に含まれます。"
                "それ以外の取引は売上・返金に反映されていません。選ぶと詳しい説明が出ます"
            ))
        elif captures:
            self.status.setText(
                self.tr("これらの取引は売上・返金に反映されていません。選ぶと詳しい説明が出ます")
            )
        else:
            self.status.setText(self.tr("受け付けられなかった取引はありません"))

    def describe(self, capture: Capture) -> str:
        # Japan time, as on the receipt, whatever zone the terminal's clock is set to.
        shown_time = format_japan_time(
            capture.captured_at.isoformat(timespec="seconds"), "%m/%d %H:%M"
        )
        first = f"{shown_time}　{format_yen(capture.amount_yen)}　{self._kind(capture)}"
        number = self.tr("取引番号 {capture_id}").format(capture_id=capture.capture_id)
        coupon_decline = self.presenter.coupon_declines.get(capture.capture_id)
        if capture.state != "declined" and coupon_decline is not None:
            lines = [first, self.reason(coupon_decline.reason), self.tr(
                "お支払いは受け付けられましたが、クーポン割引 {discount} はお店に支払われません"
            ).format(discount=format_yen(coupon_decline.missing_yen))]
            return "\n".join([*lines, number])
        lines = [first, self.reason(capture.declined_reason, capture.kind)]
        discount_yen = self.presenter.coupon_discounts.get(capture.capture_id, 0)
        if discount_yen:
            lines.append(self.tr("クーポン割引 {discount} もお店に支払われません").format(
                discount=format_yen(discount_yen)))
        return "\n".join([*lines, number])

    def reason(self, code: str | None, kind: str = "") -> str:
        """Return the server's reason for declining an entry of ``kind`` in plain words."""
        if kind == "refund" and code == ErrorCode.INSUFFICIENT_FUNDS:
            # A refund is paid from the shop's balance, not from the customer's.
            return self.tr("理由: お店の残高が返金額に足りませんでした")
        reasons: dict[str, str] = {
            ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED: self.tr(
                "理由: お客様のオフラインで使える金額を超えていました"
            ),
            ErrorCode.OFFLINE_CODE_INVALID: self.tr(
                "理由: オフライン支払いコードをサーバーが確認できませんでした"
            ),
            ErrorCode.WALLET_BLOCKED: self.tr("理由: お客様のウォレットが停止されていました"),
            ErrorCode.REFUND_EXCEEDS_PAYMENT: self.tr(
                "理由: 返金額が元の取引の残りを超えていました"
            ),
            ErrorCode.NOT_FOUND: self.tr("理由: 元の取引がサーバーに見つかりませんでした"),
            ErrorCode.AMOUNT_MISMATCH: self.tr("理由: 金額がサーバーの記録と違っていました"),
            ErrorCode.INSUFFICIENT_FUNDS: self.tr("理由: 残高が足りませんでした"),
        }
        # ErrorCode is a StrEnum, so the server's reason string finds its member's entry.
        text = reasons.get(code or "")
        if text is None and coupon_reason(code) is not None:
            text = self._coupon_reason(code or "")
        return text or self.tr("理由: その他（{code}）").format(code=code or "-")

    def _coupon_reason(self, code: str) -> str:
        reasons: dict[str, str] = {
            ErrorCode.COUPON_USED: self.tr("理由: クーポンがすでに使われていました"),
            ErrorCode.COUPON_EXPIRED: self.tr("理由: クーポンの有効期限が切れていました"),
            ErrorCode.COUPON_WRONG_WALLET: self.tr(
                "理由: クーポンがお支払いのアプリとは別の方のものでした"
            ),
        }
        return reasons.get(code) or self.tr(
            "理由: クーポンをサーバーが受け付けませんでした（{code}）"
        ).format(code=code)

    def _kind(self, capture: Capture) -> str:
        if capture.kind == "refund":
            return self.tr("返金")
        if capture.kind == "offline_payment":
            return self.tr("オフライン支払い")
        return self.tr("支払い")

    def _on_row_changed(self, row: int) -> None:
        captures = self.presenter.captures
        if 0 <= row < len(captures):
            self.detail.setText(self.presenter.advice(captures[row]))
        else:
            self.detail.setText("")
