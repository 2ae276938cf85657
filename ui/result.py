"""The outcome of a payment or refund: approved (green, with the receipt being printed) or declined.

The receipt line shows "印刷済み" only after the printer confirmed the receipt. When it did not,
the line gives the cause and the reprint button becomes the large primary 「もう一度印刷」.
A declined refund prints nothing and offers the way back to the history.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, SignalInstance
from PySide6.QtWidgets import QGridLayout, QPushButton, QVBoxLayout, QWidget

from terminal import protocol
from terminal.donations import donation_lines
from terminal.value_split import format_split
from ui.widgets import big_button, format_yen, styled_label


class ResultScreen(QWidget):
    """Shows one outcome, with a button for each next step the clerk can take."""

    next_sale_requested = Signal()
    retry_requested = Signal()
    back_requested = Signal()
    reprint_requested = Signal()
    history_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = styled_label("", "approved")
        self.headline.setObjectName("result_headline")
        self.headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.amount = styled_label("", "amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.split = styled_label("", "lines")
        self.split.setObjectName("result_split")
        self.split.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.detail = styled_label("", "hint")
        self.detail.setObjectName("result_detail")
        self.detail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.donation = styled_label("", "lines")
        self.donation.setObjectName("result_donation")
        self.donation.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.print_status = styled_label("", "hint")
        self.print_status.setObjectName("print_status")
        self.print_status.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.next_button = self._button(self.tr("次のお会計"), "primary", self.next_sale_requested)
        self.retry_button = self._button(self.tr("もう一度"), "primary", self.retry_requested)
        self.back_button = self._button(self.tr("金額入力に戻る"), "", self.back_requested)
        self.reprint_button = self._button(self.tr("もう一度印刷"), "", self.reprint_requested)
        self.history_button = self._button(self.tr("取引履歴に戻る"), "", self.history_requested)
        self.next_button.setObjectName("result_next")
        self.retry_button.setObjectName("result_retry")
        self.back_button.setObjectName("result_back")
        self.reprint_button.setObjectName("result_reprint")
        self.history_button.setObjectName("result_history")

        buttons = QGridLayout()
        buttons.addWidget(self.reprint_button, 0, 0)
        buttons.addWidget(self.back_button, 0, 1)
        buttons.addWidget(self.retry_button, 0, 2)
        buttons.addWidget(self.history_button, 0, 3)
        buttons.addWidget(self.next_button, 0, 4)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.headline)
        layout.addWidget(self.amount)
        layout.addWidget(self.split)
        layout.addWidget(self.detail)
        layout.addWidget(self.donation)
        layout.addWidget(self.print_status)
        layout.addStretch(1)
        layout.addLayout(buttons)

    def _button(self, text: str, role: str, signal: SignalInstance) -> QPushButton:
        button = big_button(text, role, self)
        button.clicked.connect(signal)
        return button

    def show_approved(self, payment: protocol.Payment) -> None:
        self._show_value_lines(True)
        self.amount.setText(format_yen(payment.amount_yen))
        # Empty for an offline payment: its kinds are known only once the server has it.
        split = format_split(payment.amount_yen, payment.kinds, self._kind_names())
        self.split.setText(split or "")
        self.donation.setText(self._donation_text(payment))
        if payment.method == "offline":
            self._set_headline(self.tr("承認（オフライン）"), "approved")
            self.detail.setText(
                self.tr(
                    "オフラインで承認しました。お支払いは端末に保存され、"
                    "サーバーにつながると自動で送信します。\n取引番号 {payment_id}"
                ).format(payment_id=payment.payment_id)
            )
            self._show_buttons(next_sale=True)
            return
        self._set_headline(self.tr("承認"), "approved")
        method = self.tr("QR（お客様読み取り）") if payment.method == "mpm" else self.tr("コード読み取り")
        self.detail.setText(
            self.tr("{method}　取引番号 {payment_id}").format(
                method=method, payment_id=payment.payment_id
            )
        )
        self._show_buttons(next_sale=True)

    def show_refunded(self, refund: protocol.Refund) -> None:
        self._show_value_lines(True)
        self.split.setText(self._returned_text(refund))
        self.donation.setText("")
        self._set_headline(self.tr("返金しました"), "approved")
        self.amount.setText(format_yen(refund.amount_yen))
        self.detail.setText(
            self.tr("返金番号 {refund_id}（元の取引 {payment_id}）").format(
                refund_id=refund.refund_id, payment_id=refund.payment_id
            )
        )
        self._show_buttons(next_sale=True)

    def show_refund_declined(
        self, amount_yen: int, message: str, refund_number: str, payment_id: str, *, final: bool
    ) -> None:
        """Show a refund the server declined, with ``message`` giving the reason and next step.

        With ``final`` false, an earlier send of the refund has no known result yet, so the
        server may still apply it when the outbox sends it again.
        """
        if final:
            self._set_headline(self.tr("返金できませんでした"), "declined")
            outcome = self.tr("お客様のアプリには返金されていません。返金のレシートは印刷しません。")
        else:
            self._set_headline(self.tr("返金はまだ確定していません"), "declined")
            outcome = self.tr(
                "この返金は前にも送信されていて、その結果がまだわかりません。端末がもう一度送信します。"
                "結果は取引履歴か「受け付けられなかった取引」で確認してください。"
                "返金のレシートは印刷しません。"
            )
        number = self.tr("取引番号 {refund_number}（元の取引 {payment_id}）").format(
            refund_number=refund_number, payment_id=payment_id
        )
        self.amount.setText(format_yen(amount_yen))
        # Nothing went back, so there is no split or donation line, and the explanation
        # gets their room on a 600-pixel-high screen.
        self._show_value_lines(False)
        self.detail.setText("\n".join([message, outcome, number]))
        self.print_status.setText("")
        self._show_buttons(next_sale=True, history=True)

    def show_declined(
        self, headline: str, message: str, amount_yen: int,
        coupon: protocol.CouponApplied | None = None,
    ) -> None:
        """Show a payment that did not go through for ``amount_yen``, the amount asked for.

        With a ``coupon`` the amount is the one after its discount, and the coupon's line is
        shown as on the approved screen.
        """
        self._set_headline(headline, "declined")
        self._show_value_lines(True)
        self.split.setText("")
        self.donation.setText("" if coupon is None else self._coupon_text(coupon))
        self.amount.setText(format_yen(amount_yen))
        self.detail.setText(message)
        self.print_status.setText("")
        self._show_buttons(retry=True, back=True)

    def _show_value_lines(self, visible: bool) -> None:
        for label in (self.split, self.donation):
            label.setText("")
            label.setVisible(visible)

    def _kind_names(self) -> dict[protocol.ValueKind, str]:
        return {
            protocol.ValueKind.PREMIUM_LOCAL: self.tr("地元専用"),
            protocol.ValueKind.PREMIUM_ALL: self.tr("全店共通"),
            protocol.ValueKind.BENEFIT: self.tr("給付"),
            protocol.ValueKind.COIN: self.tr("コイン"),
        }

    def _returned_text(self, refund: protocol.Refund) -> str:
        if not refund.kinds:
            # The server picks the kinds when it applies the refund, so until then the
            # payment's own kinds would be a guess.
            return self.tr("返金の内訳は、サーバーが返金を受け付けたあとで決まります")
        split = format_split(refund.amount_yen, refund.kinds, self._kind_names())
        return "" if split is None else self.tr("返金の内訳 {split}").format(split=split)

    def _donation_text(self, payment: protocol.Payment) -> str:
        # An offline payment has no donation yet: the server decides it when the sale syncs.
        lines = [
            self.tr("このお支払いで {cause} に {amount} を寄付しました").format(
                cause=line.cause, amount=format_yen(line.amount_yen))
            for line in donation_lines(payment)
        ]
        if payment.coupon is not None:
            lines.insert(0, self._coupon_text(payment.coupon))
        return "\n".join(lines)

    def _coupon_text(self, coupon: protocol.CouponApplied) -> str:
        return self.tr("クーポン「{title}」 {discount}引き（お会計 {total}）").format(
            title=coupon.title, discount=format_yen(coupon.discount_yen),
            total=format_yen(coupon.total_yen))

    def show_printing(self) -> None:
        self.print_status.setText(self.tr("レシートを印刷しています…"))
        self.reprint_button.setEnabled(False)

    def show_printed(self) -> None:
        self.print_status.setText(self.tr("印刷済み"))
        self._set_reprint_role("")
        self.reprint_button.setEnabled(True)
        self.reprint_button.setVisible(True)

    def show_print_failed(self, message: str) -> None:
        self.print_status.setText(message)
        self._set_reprint_role("primary")
        self.reprint_button.setEnabled(True)
        self.reprint_button.setVisible(True)

    def _set_reprint_role(self, role: str) -> None:
        # The theme draws role "primary" as the large coloured button; a failed print makes the
        # reprint the next thing to press.
        self.reprint_button.setProperty("role", role)
        self.reprint_button.style().unpolish(self.reprint_button)
        self.reprint_button.style().polish(self.reprint_button)

    def _set_headline(self, text: str, role: str) -> None:
        self.headline.setText(text)
        self.headline.setProperty("role", role)
        self.headline.style().unpolish(self.headline)
        self.headline.style().polish(self.headline)

    def _show_buttons(
        self, next_sale: bool = False, retry: bool = False, back: bool = False,
        history: bool = False,
    ) -> None:
        self.next_button.setVisible(next_sale)
        self.retry_button.setVisible(retry)
        self.back_button.setVisible(back)
        self.history_button.setVisible(history)
        self.reprint_button.setVisible(False)
        self._set_reprint_role("")
