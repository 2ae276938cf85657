"""The consumer-presented payment screen: the clerk scans the code on the customer's wallet.

Scans reach the presenter from the application-wide scanner filter, wherever focus is; this
screen only shows the clerk what to do and what is happening. A payment code scanned with its
coupon (``ui.paired_scan``) shows the coupon check here, then the discounted amount.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ui.coupon import CouponStatus, coupon_note_label, show_coupon_note
from ui.sale import SalePresenter
from ui.widgets import big_button, format_yen, styled_label


class CpmScreen(QWidget):
    """Asks the clerk to scan the customer's code and shows that it is being checked."""

    back_requested = Signal()

    def __init__(self, presenter: SalePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.instruction = styled_label(
            self.tr("お客様のコードをスキャナーで読み取ってください"), "title"
        )
        self.instruction.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.amount = styled_label("", "amount")
        self.amount.setObjectName("cpm_amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.coupon_note = coupon_note_label(self)
        self.coupon_note.setObjectName("cpm_coupon")
        self.status = styled_label("", "hint")
        self.status.setObjectName("cpm_status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("cpm_back")
        self.back_button.clicked.connect(self.back_requested)
        self.resend_button = big_button(self.tr("再送"), "primary")
        self.resend_button.setObjectName("cpm_resend")
        self.resend_button.clicked.connect(presenter.resend)
        self.resend_button.hide()

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.resend_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.instruction)
        layout.addStretch(1)
        layout.addWidget(self.amount)
        layout.addWidget(self.coupon_note)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addLayout(buttons)

        presenter.busy_changed.connect(self._show_busy)
        presenter.cpm_waiting.connect(self._show_amount)
        presenter.coupons.changed.connect(self._show_coupon_check)

    def prepare(self, amount_yen: int) -> None:
        self._show_amount(amount_yen)
        self.status.setText("")
        self.resend_button.hide()

    def _show_amount(self, amount_yen: int) -> None:
        # Starting the payment may commit a typed amount, so the amount is shown again then.
        self.amount.setText(format_yen(amount_yen))
        show_coupon_note(self.coupon_note, self.presenter.sale.coupon)

    def _show_coupon_check(self) -> None:
        if self.presenter.coupons.status is CouponStatus.CHECKING:
            self.status.setText(self.tr("クーポンを確認しています…"))

    def show_notice(self, text: str) -> None:
        self.status.setText(text)
        self.resend_button.setVisible(self.presenter.outcome_unknown)

    def _show_busy(self, busy: bool) -> None:
        self.back_button.setEnabled(not busy)
        self.resend_button.setEnabled(not busy)
        if busy:
            self.status.setText(self.tr("確認しています…"))
