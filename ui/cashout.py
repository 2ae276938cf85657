"""The cash-out screens: the money menu, the amount, the confirmation, and the list of cash-outs.

The screens show what ``ui.cashout_presenter.CashOutPresenter`` reports and emit what the
manager pressed; ``ui.cashout_flow.MoneyFlow`` moves between them.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from terminal import protocol
from terminal.japan_time import format_japan_time
from ui.cashout_presenter import (
    MAX_CASH_OUT_DIGITS,
    account_text,
    format_date,
    japan_today,
    payout_date_text,
    status_text,
)
from ui.widgets import KEY_BACKSPACE, KEY_CLEAR, Keypad, big_button, format_yen, styled_label


class MoneyMenuScreen(QWidget):
    """The manager's money actions: cash out, the cash-out list, and the bookkeeping export."""

    cash_out_requested = Signal()
    list_requested = Signal()
    export_requested = Signal()
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = styled_label(self.tr("売上と円への交換"), "title")
        self.cash_out_button = big_button(self.tr("円に交換"), "primary")
        self.cash_out_button.setObjectName("money_cash_out")
        self.cash_out_button.clicked.connect(self.cash_out_requested)
        self.list_button = big_button(self.tr("交換の状況"))
        self.list_button.setObjectName("money_list")
        self.list_button.clicked.connect(self.list_requested)
        self.export_button = big_button(self.tr("売上・手数料のCSV"))
        self.export_button.setObjectName("money_export")
        self.export_button.clicked.connect(self.export_requested)
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("money_back")
        self.back_button.clicked.connect(self.back_requested)

        grid = QGridLayout()
        grid.addWidget(self.cash_out_button, 0, 0)
        grid.addWidget(self.list_button, 0, 1)
        grid.addWidget(self.export_button, 1, 0, 1, 2)
        grid.addWidget(self.back_button, 2, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(grid, 1)


class CashOutAmountScreen(QWidget):
    """The balance and the amount to cash out, entered on the keypad or with 「全額」."""

    next_requested = Signal(int)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._amount_yen = 0
        self._balance_yen = 0
        self.title = styled_label(self.tr("円に交換する金額"), "title")
        self.balance = styled_label("", "hint")
        self.balance.setObjectName("cash_out_balance")
        self.amount = styled_label("", "amount")
        self.amount.setObjectName("cash_out_amount")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.message = styled_label("", "hint")
        self.message.setObjectName("cash_out_message")
        self.keypad = Keypad(self)
        self.keypad.key_pressed.connect(self.press)

        self.full_button = big_button(self.tr("全額"))
        self.full_button.setObjectName("cash_out_full")
        self.full_button.clicked.connect(lambda: self._set_amount(self._balance_yen))
        self.cancel_button = big_button(self.tr("やめる"))
        self.cancel_button.setObjectName("cash_out_cancel")
        self.cancel_button.clicked.connect(self.cancelled)
        self.next_button = big_button(self.tr("手数料を確認"), "primary")
        self.next_button.setObjectName("cash_out_next")
        self.next_button.clicked.connect(lambda: self.next_requested.emit(self._amount_yen))

        side = QVBoxLayout()
        side.addWidget(self.title)
        side.addWidget(self.balance)
        side.addWidget(self.amount)
        side.addWidget(self.message, 1)
        buttons = QGridLayout()
        buttons.addWidget(self.full_button, 0, 0, 1, 2)
        buttons.addWidget(self.cancel_button, 1, 0)
        buttons.addWidget(self.next_button, 1, 1)
        side.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(side, 1)
        layout.addWidget(self.keypad, 1)

    @property
    def amount_yen(self) -> int:
        return self._amount_yen

    def prepare(self) -> None:
        self._balance_yen = 0
        self.balance.setText(self.tr("残高を読み込んでいます…"))
        self.message.setText("")
        self._set_amount(0)

    def show_balance(self, balance: protocol.MerchantBalance) -> None:
        self._balance_yen = balance.total_yen
        text = self.tr("交換できる残高 {balance}").format(balance=format_yen(balance.total_yen))
        if balance.pending_payout_yen:
            text += "\n" + self.tr("振込待ち {pending}").format(
                pending=format_yen(balance.pending_payout_yen)
            )
        self.balance.setText(text)
        self._refresh()

    def show_message(self, text: str) -> None:
        self.message.setText(text)

    def press(self, key: str) -> None:
        digits = str(self._amount_yen) if self._amount_yen else ""
        if key == KEY_CLEAR:
            digits = ""
        elif key == KEY_BACKSPACE:
            digits = digits[:-1]
        elif key.isdigit() and len(digits + key) <= MAX_CASH_OUT_DIGITS:
            digits += key
        self._set_amount(int(digits or "0"))

    def _set_amount(self, amount_yen: int) -> None:
        self._amount_yen = amount_yen
        self.amount.setText(format_yen(amount_yen))
        self.message.setText("")
        self._refresh()

    def _refresh(self) -> None:
        self.full_button.setEnabled(self._balance_yen > 0)
        self.next_button.setEnabled(self._amount_yen > 0)


class CashOutConfirmScreen(QWidget):
    """The cash-out's amount, fee, payout date and account, a large confirm button, the outcome."""

    confirmed = Signal()
    back_requested = Signal()
    list_requested = Signal()

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self.title = styled_label(self.tr("この内容で円に交換しますか"), "title")
        self.title.setObjectName("cash_out_confirm_title")
        self.details = QGridLayout()
        self.amount = self._add_row(0, self.tr("交換する額"), "cash_out_amount_value")
        self.fee = self._add_row(1, self.tr("手数料"), "cash_out_fee")
        self.net = self._add_row(2, self.tr("口座に入る額"), "cash_out_net")
        self.date = self._add_row(3, self.tr("振込予定日"), "cash_out_date")
        self.account = self._add_row(4, self.tr("振込先"), "cash_out_account")
        self.message = styled_label("", "hint")
        self.message.setObjectName("cash_out_confirm_message")

        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("cash_out_back")
        self.back_button.clicked.connect(self.back_requested)
        self.list_button = big_button(self.tr("交換の状況"))
        self.list_button.setObjectName("cash_out_show_list")
        self.list_button.clicked.connect(self.list_requested)
        self.confirm_button = big_button(self.tr("円に交換する"), "danger")
        self.confirm_button.setObjectName("cash_out_confirm")
        self.confirm_button.clicked.connect(self.confirmed)

        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button, 1)
        buttons.addWidget(self.list_button, 1)
        buttons.addWidget(self.confirm_button, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.details)
        layout.addWidget(self.message, 1)
        layout.addLayout(buttons)

    def _add_row(self, row: int, caption: str, name: str) -> QLabel:
        label = styled_label(caption, "hint")
        value = styled_label("", "lines")
        value.setObjectName(name)
        self.details.addWidget(label, row, 0)
        self.details.addWidget(value, row, 1)
        self.details.setColumnStretch(1, 1)
        return value

    def show_preview(self, preview: protocol.CashOutPreview) -> None:
        self.title.setText(self.tr("この内容で円に交換しますか"))
        self._fill(preview.amount_yen, preview.fee_yen, preview.fixed_fee_yen, preview.net_yen,
                   preview.payout_date, preview.bank_account)
        self.message.setText("")
        self.confirm_button.setEnabled(True)
        self.confirm_button.show()
        self.back_button.setEnabled(True)
        self.list_button.hide()

    def show_checking(self, text: str) -> None:
        # Back stays enabled: leaving pauses the resending, and the request is kept.
        self.message.setText(text)
        self.confirm_button.setEnabled(False)
        self.back_button.setEnabled(True)

    def show_sending(self) -> None:
        self.message.setText(self.tr("送信しています…"))
        self.confirm_button.setEnabled(False)
        self.back_button.setEnabled(False)

    def show_rejected(self, text: str) -> None:
        self.message.setText(text)
        self.confirm_button.setEnabled(False)
        self.back_button.setEnabled(True)

    def show_booked(self, cash_out: protocol.CashOut) -> None:
        self.title.setText(self.tr("円への交換を受け付けました"))
        self._fill(cash_out.amount_yen, cash_out.fee_yen, cash_out.fixed_fee_yen,
                   cash_out.net_yen, cash_out.payout_date, cash_out.bank_account)
        self.message.setText(self.tr("状況は「交換の状況」で確認できます"))
        self.confirm_button.hide()
        self.back_button.setEnabled(True)
        self.list_button.show()

    def _fill(self, amount_yen: int, fee_yen: int, fixed_fee_yen: int, net_yen: int,
              payout_date: str, account: protocol.BankAccountSummary) -> None:
        self.amount.setText(format_yen(amount_yen))
        fee = format_yen(fee_yen)
        if fixed_fee_yen:
            fee += "　" + self.tr("（うち月額 {fixed}）").format(fixed=format_yen(fixed_fee_yen))
        self.fee.setText(fee)
        self.net.setText(format_yen(net_yen))
        self.date.setText(payout_date_text(payout_date, self._lang, japan_today()))
        self.account.setText(account_text(account))


class CashOutListScreen(QWidget):
    """The shop's cash-outs, newest first, with their state."""

    back_requested = Signal()

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lang = lang
        self.title = styled_label(self.tr("円への交換の状況"), "title")
        self.status = styled_label("", "hint")
        self.status.setObjectName("cash_out_list_status")
        self.list = QListWidget(self)
        self.list.setObjectName("cash_out_list")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.setWordWrap(True)
        self.reload_button = big_button(self.tr("更新"))
        self.reload_button.setObjectName("cash_out_list_reload")
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("cash_out_list_back")
        self.back_button.clicked.connect(self.back_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.reload_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

    def prepare(self) -> None:
        self.list.clear()
        self.status.setText(self.tr("読み込んでいます…"))

    def show_cash_outs(self, cash_outs: list[protocol.CashOut]) -> None:
        self.list.clear()
        for cash_out in cash_outs:
            QListWidgetItem(self.describe(cash_out), self.list)
        self.status.setText("" if cash_outs else self.tr("まだ円への交換はありません"))

    def show_failed(self, text: str) -> None:
        self.status.setText(text)

    def describe(self, cash_out: protocol.CashOut) -> str:
        requested = format_japan_time(cash_out.created_at, "%m/%d %H:%M")
        payout = format_date(date.fromisoformat(cash_out.payout_date), self._lang)
        return self.tr("{requested}　{amount} → 口座へ {net}（{payout}）　{status}").format(
            requested=requested, amount=format_yen(cash_out.amount_yen),
            net=format_yen(cash_out.net_yen), payout=payout, status=status_text(cash_out),
        )
