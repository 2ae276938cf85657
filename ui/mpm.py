"""The merchant-presented payment screen: the intent's QR, the amount and a countdown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from ui.coupon import coupon_note_label, show_coupon_note
from ui.qr import QrView
from ui.sale import SalePresenter
from ui.widgets import big_button, format_yen, styled_label


class MpmScreen(QWidget):
    """Shows the QR for the customer's wallet until the payment ends; 「取消」 cancels it."""

    def __init__(self, presenter: SalePresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.title = styled_label(self.tr("スマートフォンでQRコードを読み取ってください"), "title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr = QrView(self)
        self.qr.setObjectName("mpm_qr")
        self.amount = styled_label("", "amount")
        self.amount.setObjectName("mpm_amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.coupon_note = coupon_note_label(self)
        self.coupon_note.setObjectName("mpm_coupon")
        self.countdown = styled_label("", "hint")
        self.countdown.setObjectName("mpm_countdown")
        self.countdown.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.status = styled_label("", "hint")
        self.status.setObjectName("mpm_status")
        self.status.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.cancel_button = big_button(self.tr("取消"), "danger")
        self.cancel_button.setObjectName("mpm_cancel")
        self.cancel_button.clicked.connect(self._cancel)

        side = QVBoxLayout()
        side.addStretch(1)
        side.addWidget(self.amount)
        side.addWidget(self.coupon_note)
        side.addWidget(self.countdown)
        side.addWidget(self.status)
        side.addStretch(1)
        side.addWidget(self.cancel_button)
        body = QHBoxLayout()
        body.addWidget(self.qr, 3)
        body.addLayout(side, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(body, 1)

        presenter.mpm_ready.connect(self._show_qr)
        presenter.seconds_left.connect(self._show_seconds)

    def prepare(self, amount_yen: int) -> None:
        self.qr.set_data("")
        self.amount.setText(format_yen(amount_yen))
        show_coupon_note(self.coupon_note, self.presenter.sale.coupon)
        self.countdown.setText(self.tr("QRコードを準備しています…"))
        self._set_status("", "hint")
        self.cancel_button.setEnabled(True)

    def show_notice(self, text: str) -> None:
        """Show what went wrong while the QR code is up, such as a wallet's rejected payment."""
        self._set_status(text, "banner")

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self._set_status(self.tr("取り消しています…"), "hint")
        self.presenter.cancel_mpm()

    def _set_status(self, text: str, role: str) -> None:
        # The theme draws role "banner" as white text on red, so a notice the clerk must act
        # on is easy to tell apart from the grey progress text.
        self.status.setText(text)
        self.status.setProperty("role", role)
        self.status.style().unpolish(self.status)
        self.status.style().polish(self.status)

    def _show_qr(self, payload: str, amount_yen: int) -> None:
        self.qr.set_data(payload)
        self.amount.setText(format_yen(amount_yen))
        show_coupon_note(self.coupon_note, self.presenter.sale.coupon)

    def _show_seconds(self, seconds: int) -> None:
        minutes, rest = divmod(seconds, 60)
        self.countdown.setText(
            self.tr("有効期限まで {minutes}:{seconds}").format(
                minutes=minutes, seconds=f"{rest:02d}"
            )
        )
