"""The two steps of a refund after a payment is chosen: the manager PIN, then the amount."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from terminal import protocol
from ui.history import refundable_yen
from ui.widgets import (
    KEY_BACKSPACE,
    KEY_CLEAR,
    Keypad,
    PinPad,
    big_button,
    format_yen,
    styled_label,
)

# Refund amounts are typed on the keypad; seven digits cover any payment the server accepts.
MAX_REFUND_DIGITS = 7


class PinScreen(QWidget):
    """Asks for the manager PIN on a masked numeric pad."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = styled_label(self.tr("返金には責任者の暗証番号が必要です"), "title")
        self.message = styled_label(self.tr("暗証番号を入力して「OK」を押してください"), "hint")
        self.message.setObjectName("pin_message")
        self.pad = PinPad(self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addWidget(self.pad, 1)

    def prepare(self) -> None:
        self.pad.clear()
        self.message.setText(self.tr("暗証番号を入力して「OK」を押してください"))

    def show_rejected(self) -> None:
        self.message.setText(self.tr("暗証番号が違います。もう一度入力してください"))

    def show_message(self, text: str) -> None:
        self.message.setText(text)


class RefundAmountScreen(QWidget):
    """Enters a full or partial refund; starts at what is left of the payment."""

    confirmed = Signal(int)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._amount_yen = 0
        self._remaining_yen = 0
        self.title = styled_label(self.tr("返金する金額"), "title")
        self.summary = styled_label("", "hint")
        self.summary.setObjectName("refund_summary")
        self.amount = styled_label("", "amount")
        self.amount.setObjectName("refund_amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message = styled_label("", "hint")
        self.message.setObjectName("refund_message")
        self.keypad = Keypad(self)
        self.keypad.key_pressed.connect(self.press)

        self.full_button = big_button(self.tr("全額"))
        self.full_button.clicked.connect(self._fill_remaining)
        self.cancel_button = big_button(self.tr("やめる"))
        self.cancel_button.clicked.connect(self.cancelled)
        self.confirm_button = big_button(self.tr("返金する"), "danger")
        self.confirm_button.setObjectName("refund_confirm")
        self.confirm_button.clicked.connect(lambda: self.confirmed.emit(self._amount_yen))

        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.summary)
        side.addWidget(self.amount)
        side.addWidget(self.message)
        side.addStretch(1)
        buttons = QGridLayout()
        buttons.addWidget(self.full_button, 0, 0, 1, 2)
        buttons.addWidget(self.cancel_button, 1, 0)
        buttons.addWidget(self.confirm_button, 1, 1)
        side.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(side, 1)
        layout.addWidget(self.keypad, 1)

    @property
    def amount_yen(self) -> int:
        return self._amount_yen

    def prepare(self, payment: protocol.Payment, remaining_yen: int | None = None) -> None:
        """Start at ``remaining_yen``, which defaults to what the server has not refunded."""
        self._remaining_yen = refundable_yen(payment) if remaining_yen is None else remaining_yen
        self.summary.setText(
            self.tr("お支払い {paid}　返金できる残り {remaining}").format(
                paid=format_yen(payment.amount_yen), remaining=format_yen(self._remaining_yen)
            )
        )
        self._set_editable(True)
        self.message.setText("")
        self._fill_remaining()

    def show_message(self, text: str) -> None:
        self._set_editable(True)
        self.message.setText(text)

    def show_sending(self) -> None:
        """Lock the amount while the refund is recorded and sent, until its outcome arrives."""
        self._set_editable(False)
        self.message.setText(self.tr("返金しています…"))

    def press(self, key: str) -> None:
        digits = str(self._amount_yen) if self._amount_yen else ""
        if key == KEY_CLEAR:
            digits = ""
        elif key == KEY_BACKSPACE:
            digits = digits[:-1]
        elif key.isdigit() and len(digits + key) <= MAX_REFUND_DIGITS:
            digits += key
        self._set_amount(int(digits or "0"))

    def _fill_remaining(self) -> None:
        self._set_amount(self._remaining_yen)

    def _set_amount(self, amount_yen: int) -> None:
        self._amount_yen = amount_yen
        self.amount.setText(format_yen(amount_yen))
        self.confirm_button.setEnabled(amount_yen > 0)

    def _set_editable(self, editable: bool) -> None:
        self.keypad.setEnabled(editable)
        self.full_button.setEnabled(editable)
        self.confirm_button.setEnabled(editable and self._amount_yen > 0)
