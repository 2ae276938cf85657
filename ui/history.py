"""Recent payments, and the refund flow behind the manager PIN.

``HistoryPresenter`` loads the server's payment list together with the offline sales still
waiting on the terminal, on a worker. While the server is unreachable the list contains the
waiting offline sales alone. A refund is committed to the terminal database with an outbox
entry (``terminal.refunds``) before its receipt prints, and the sync worker sends it. While
the terminal is online the refund is also sent at once, so the screen and receipt can show the
value kinds the server returned. A refund the server declines then is reported by
``refund_declined`` instead of ``refund_done``, and no receipt prints. It is withdrawn from the
outbox unless an earlier send of it may have been applied. The cap on the amount counts refunds
the server has not applied yet; the server enforces the same limit. When the server declines a
refund as more than is left, the payment is read again, so the message names the amount that
is really left.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from terminal import messages, protocol, refunds
from terminal.api_client import ApiError, Declined
from terminal.japan_time import format_japan_time
from terminal.protocol import ErrorCode
from terminal.store import Store
from ui.errors import clerk_message
from ui.services import PaymentApi, TerminalServices, new_idempotency_key
from ui.widgets import big_button, format_yen, styled_label

log = logging.getLogger(__name__)

HISTORY_LIMIT = 50


def refundable_yen(payment: protocol.Payment) -> int:
    return payment.amount_yen - payment.refunded_yen


@dataclass(frozen=True)
class HistoryLoad:
    """One load of the history: the payments shown and what could not be read."""

    payments: list[protocol.Payment]
    waiting_refunds_yen: dict[str, int] = field(default_factory=dict)
    error: ApiError | None = None


@dataclass(frozen=True)
class RecordedRefund:
    """A refund recorded at the counter, with what is left to refund after a decline as too much.

    ``left_yen`` is read again from the server after a ``refund_exceeds_payment`` decline, and
    is None otherwise or when the payment could not be read.
    """

    counter: refunds.CounterRefund
    left_yen: int | None = None


@dataclass(frozen=True)
class RefundDecline:
    """A refund the server declined when the terminal sent it at once."""

    payment: protocol.Payment
    amount_yen: int
    refund_number: str  # the capture id, as in the declined list
    message: str  # what happened and what to do next, in the terminal's language
    # False while an earlier send of the same refund has no known result, because the outbox
    # sends it again and the server may still apply it.
    final: bool


class HistoryPresenter(QObject):
    """Loads the payment list and carries one refund from PIN to server response."""

    loading = Signal()
    loaded = Signal(list)  # list[protocol.Payment], newest first
    load_failed = Signal(str)
    pin_accepted = Signal(object)  # the protocol.Payment to refund
    pin_rejected = Signal()
    refund_rejected = Signal(str)
    refund_done = Signal(object)  # protocol.Refund
    refund_declined = Signal(object)  # RefundDecline

    def __init__(self, services: TerminalServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.payments: list[protocol.Payment] = []
        self.selected: protocol.Payment | None = None
        # One key per (payment, amount), so pressing refund again after a lost response
        # repeats the same refund instead of making a second one.
        self._refund_keys: dict[tuple[str, int], str] = {}
        self._refund_busy = False
        self._waiting_refunds_yen: dict[str, int] = {}

    def load(self) -> None:
        self.loading.emit()
        api = self._services.api
        parts = self._services.offline
        merchant_id, terminal_id = self._owner_ids()

        def read() -> HistoryLoad:
            local: list[protocol.Payment] = []
            waiting: dict[str, int] = {}
            if parts is not None:
                local = refunds.waiting_offline_payments(parts.store, merchant_id, terminal_id)
                waiting = refunds.waiting_refunds_yen(parts.store)
            try:
                remote = api.list_payments(HISTORY_LIMIT)
            except ApiError as exc:
                return HistoryLoad(local, waiting, exc)
            return HistoryLoad(local + remote, waiting)

        self._services.runner.run(read, self._on_loaded, self._on_load_failed)

    def refundable_yen(self, payment: protocol.Payment) -> int:
        """Return what is left to refund, after refunds still waiting to be sent."""
        waiting_yen = self._waiting_refunds_yen.get(payment.payment_id, 0)
        return refunds.refundable_yen(payment, waiting_yen)

    def waiting_refund_yen(self, payment: protocol.Payment) -> int:
        return self._waiting_refunds_yen.get(payment.payment_id, 0)

    def _owner_ids(self) -> tuple[str, str]:
        parts = self._services.offline
        if parts is None:
            return "", ""
        return parts.acceptor.merchant_id, parts.acceptor.terminal_id

    def select(self, index: int) -> None:
        self.selected = self.payments[index] if 0 <= index < len(self.payments) else None

    def can_refund(self) -> bool:
        return self.selected is not None and self.refundable_yen(self.selected) > 0

    def check_pin(self, pin: str) -> None:
        """Verify the manager PIN on a worker (PBKDF2 takes a noticeable fraction of a second)."""
        payment = self.selected
        if payment is None:
            return
        verify = self._services.verify_manager_pin
        self._services.runner.run(
            lambda: verify(pin),
            lambda matches: self._on_pin_checked(payment, bool(matches)),
            lambda exc: self.refund_rejected.emit(self._message(exc)),
        )

    def _on_pin_checked(self, payment: protocol.Payment, matches: bool) -> None:
        if not matches:
            log.warning("manager PIN rejected for a refund of payment %s", payment.payment_id)
            self.pin_rejected.emit()
            return
        self.pin_accepted.emit(payment)

    def refund(self, amount_yen: int) -> bool:
        """Record a refund of ``amount_yen`` for the selected payment; False if it was rejected."""
        payment = self.selected
        if payment is None or self._refund_busy:
            return False
        left_yen = self.refundable_yen(payment)
        if amount_yen < 1:
            self.refund_rejected.emit(self._message(ErrorCode.REFUND_EXCEEDS_PAYMENT))
            return False
        if amount_yen > left_yen:
            self.refund_rejected.emit(self._left_message(left_yen))
            return False

        key = self._refund_keys.setdefault((payment.payment_id, amount_yen), new_idempotency_key())
        self._refund_busy = True
        parts = self._services.offline
        if parts is None:
            api = self._services.api
            self._services.runner.run(
                lambda: api.refund(payment.payment_id, amount_yen, key),
                self._on_refunded,
                lambda exc: self._on_refund_failed(exc, payment, amount_yen),
            )
            return True

        store, now = parts.store, parts.clock.now
        online_api = None if self._services.is_offline() else self._services.api

        def record() -> RecordedRefund:
            counter = refunds.refund_at_counter(
                store, online_api, payment.payment_id, amount_yen, key, now()
            )
            if online_api is None or counter.reason != ErrorCode.REFUND_EXCEEDS_PAYMENT:
                return RecordedRefund(counter)
            return RecordedRefund(counter, _left_after_decline(online_api, store, payment))

        self._services.runner.run(
            record,
            lambda recorded: self._on_refund_recorded(payment, recorded),
            lambda exc: self._on_refund_failed(exc, payment, amount_yen),
        )
        return True

    def _on_loaded(self, load: HistoryLoad) -> None:
        self.payments = list(load.payments)
        self._waiting_refunds_yen = dict(load.waiting_refunds_yen)
        self.selected = None
        self.loaded.emit(self.payments)
        if load.error is not None:
            self.load_failed.emit(self._message(load.error))

    def _on_load_failed(self, exc: BaseException) -> None:
        self.load_failed.emit(self._message(exc))

    def _on_refund_recorded(self, payment: protocol.Payment, recorded: RecordedRefund) -> None:
        self._refund_busy = False
        counter = recorded.counter
        capture = counter.capture
        # The capture keeps this key, declined or not, so a further refund needs a new one.
        self._refund_keys.pop((payment.payment_id, capture.amount_yen), None)
        if self._services.offline is not None:
            # The entry was held from the sync worker until now.
            self._services.offline.wake()
        # A refund the server applied is in the server's refunded_yen, so only one it has not
        # applied yet lowers what is left through the waiting sum.
        if counter.outcome is not refunds.RefundOutcome.DECLINED and not counter.applied:
            waiting = self._waiting_refunds_yen
            waiting[payment.payment_id] = waiting.get(payment.payment_id, 0) + capture.amount_yen
        if counter.outcome is not refunds.RefundOutcome.GIVEN:
            self.refund_declined.emit(self._decline(payment, recorded))
            return
        refund = refunds.refund_for_receipt(payment, capture, counter.kinds)
        self.selected = refund.payment if counter.applied else payment
        self.refund_done.emit(refund)

    def _decline(self, payment: protocol.Payment, recorded: RecordedRefund) -> RefundDecline:
        counter = recorded.counter
        reason = counter.reason or messages.UNKNOWN_ERROR
        amount_yen = counter.capture.amount_yen
        if recorded.left_yen is not None and recorded.left_yen < amount_yen:
            message = self._left_message(recorded.left_yen)
        else:
            message = self._message(messages.refund_message_key(reason))
        return RefundDecline(
            payment=payment,
            amount_yen=amount_yen,
            refund_number=counter.capture.capture_id,
            message=message,
            final=counter.outcome is refunds.RefundOutcome.DECLINED,
        )

    def _on_refunded(self, refund: protocol.Refund) -> None:
        self._refund_busy = False
        self.selected = refund.payment
        self.refund_done.emit(refund)

    def _on_refund_failed(
        self, exc: BaseException, payment: protocol.Payment, amount_yen: int
    ) -> None:
        self._refund_busy = False
        if self._services.offline is not None:
            # A refund recorded before the failure is no longer held from the sync worker.
            self._services.offline.wake()
        if isinstance(exc, Declined) and refunds.is_definite_decline(exc):
            # The server applied nothing under this key, so a retry is a new refund.
            self._refund_keys.pop((payment.payment_id, amount_yen), None)
        exceeds = isinstance(exc, Declined) and exc.code == ErrorCode.REFUND_EXCEEDS_PAYMENT
        left_yen = self.refundable_yen(payment)
        if exceeds and left_yen < amount_yen:
            self.refund_rejected.emit(self._left_message(left_yen))
        elif isinstance(exc, ApiError):
            self.refund_rejected.emit(self._message(messages.refund_message_key(exc)))
        else:
            # The outcome is unknown, so the key is kept: pressing again repeats this refund.
            self.refund_rejected.emit(self._message(exc))

    def _left_message(self, left_yen: int) -> str:
        return clerk_message(messages.refund_left_key(left_yen), self._services.lang,
                             left=format_yen(left_yen))

    def _message(self, error: BaseException | str) -> str:
        return clerk_message(error, self._services.lang)


def _left_after_decline(
    api: PaymentApi, store: Store, payment: protocol.Payment
) -> int | None:
    """Read ``payment`` again and return what is left to refund, or None if it cannot be read.

    The server declined a refund as more than is left, so the history's copy of the payment is
    older than the server's: another terminal may have refunded it meanwhile.
    """
    try:
        fresh = api.get_payment(payment.payment_id)
    except ApiError as exc:
        log.warning("reading payment %s after a declined refund failed: %s",
                    payment.payment_id, exc.message)
        return None
    waiting_yen = refunds.waiting_refunds_yen(store).get(payment.payment_id, 0)
    return refunds.refundable_yen(fresh, waiting_yen)


class HistoryScreen(QWidget):
    """The list of recent payments with refund, reload and back buttons."""

    back_requested = Signal()
    refund_requested = Signal()
    declined_requested = Signal()
    technician_requested = Signal()
    day_close_requested = Signal()
    money_requested = Signal()

    def __init__(self, presenter: HistoryPresenter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.presenter = presenter
        self.title = styled_label(self.tr("取引履歴"), "title")
        self.status = styled_label("", "hint")
        self.status.setObjectName("history_status")
        self.list = QListWidget(self)
        self.list.setObjectName("history_list")
        self.list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.list.currentRowChanged.connect(self._on_row_changed)

        self.refund_button = big_button(self.tr("返金"), "danger")
        self.refund_button.setObjectName("history_refund")
        self.refund_button.clicked.connect(self.refund_requested)
        self.reload_button = big_button(self.tr("更新"))
        self.reload_button.clicked.connect(presenter.load)
        self.back_button = big_button(self.tr("戻る"))
        self.back_button.setObjectName("history_back")
        self.back_button.clicked.connect(self.back_requested)
        self.declined_button = big_button(self.tr("受け付けられなかった取引"))
        self.declined_button.setObjectName("history_declined")
        self.declined_button.clicked.connect(self.declined_requested)
        # Cash-out to yen and the sales CSV, behind the manager PIN like the refund.
        self.money_button = big_button(self.tr("円に交換・売上"))
        self.money_button.setObjectName("history_money")
        self.money_button.clicked.connect(self.money_requested)
        # The technician's screens; small and beside the title, away from the clerk's buttons.
        self.technician_button = big_button(self.tr("保守"))
        self.technician_button.setObjectName("history_technician")
        self.technician_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.technician_button.clicked.connect(self.technician_requested)
        # The day close (X and Z reports) behind the manager PIN, beside the title.
        self.day_close_button = big_button(self.tr("締め（X・Z）"))
        self.day_close_button.setObjectName("history_day_close")
        self.day_close_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.day_close_button.clicked.connect(self.day_close_requested)

        buttons = QGridLayout()
        buttons.addWidget(self.back_button, 0, 0)
        buttons.addWidget(self.reload_button, 0, 1)
        buttons.addWidget(self.declined_button, 0, 2)
        buttons.addWidget(self.refund_button, 0, 3)
        buttons.addWidget(self.money_button, 0, 4)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.day_close_button)
        header.addWidget(self.technician_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)

        presenter.loading.connect(lambda: self.status.setText(self.tr("読み込んでいます…")))
        presenter.loaded.connect(self._show_payments)
        presenter.load_failed.connect(self.status.setText)
        self._update_buttons()

    def _show_payments(self, payments: list[protocol.Payment]) -> None:
        self.list.clear()
        for payment in payments:
            QListWidgetItem(self._describe(payment), self.list)
        self.status.setText("" if payments else self.tr("まだ取引がありません"))
        self._update_buttons()

    def _describe(self, payment: protocol.Payment) -> str:
        # Japan time, as on the receipt, whatever zone the terminal's clock is set to.
        shown_time = format_japan_time(payment.created_at, "%m/%d %H:%M")
        if payment.method == "mpm":
            method = self.tr("QR")
        elif payment.method == "offline":
            method = self.tr("コード（オフライン）")
        else:
            method = self.tr("コード")
        text = f"{shown_time}　{format_yen(payment.amount_yen)}　{method}"
        if payment.refunded_yen == payment.amount_yen:
            text += "　" + self.tr("返金済み")
        elif payment.refunded_yen:
            text += "　" + self.tr("一部返金 {amount}").format(amount=format_yen(payment.refunded_yen))
        waiting_yen = self.presenter.waiting_refund_yen(payment)
        if waiting_yen:
            text += "　" + self.tr("返金 {amount} 送信待ち").format(amount=format_yen(waiting_yen))
        return text

    def _on_row_changed(self, row: int) -> None:
        self.presenter.select(row)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.refund_button.setEnabled(self.presenter.can_refund())
