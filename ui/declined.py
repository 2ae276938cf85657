"""The list of entries the server declined after the terminal had recorded them.

An offline payment the clerk saw approved can still be declined when it is sent (for example
when the customer's offline allowance was spent at another shop). Such entries are kept in the
terminal database with the server's reason and listed here, with the amount, the time and the
reason in plain words, so the merchant can follow each one up.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from terminal import messages
from terminal.japan_time import format_japan_time
from terminal.protocol import ErrorCode
from terminal.store import Capture
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

    def load(self) -> None:
        parts = self._services.offline
        if parts is None:
            self._on_loaded([])
            return
        store = parts.store
        self._services.runner.run(
            lambda: store.captures("declined"), self._on_loaded, self._on_load_failed
        )

    def advice(self, capture: Capture) -> str:
        """Return what the declined entry means for the shop and who should act."""
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
        if captures:
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
        return f"{first}\n{self.reason(capture.declined_reason)}\n{number}"

    def reason(self, code: str | None) -> str:
        """Return the server's reason for a decline in plain words."""
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
        return text or self.tr("理由: その他（{code}）").format(code=code or "-")

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
