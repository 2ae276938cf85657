"""The presenter of one sale: keypad input, the QR and code payments, and their outcome.

Every rule lives in ``terminal.sale.Sale``; this presenter only decides when to call it and on
which thread. Calls that block on the network run on the worker pool one at a time (the
``Sale`` object is not shared between two running jobs), and the GUI reads the sale's state
after each job returns. Cancelling a QR payment does not touch the ``Sale`` while its long poll
is running: the cancel request goes straight to the server, and the poll reports the outcome.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from PySide6.QtCore import QObject, QTimer, Signal

from terminal import messages, protocol
from terminal.api_client import ApiClient, Declined
from terminal.coupons import coupon_message
from terminal.messages import REMOVE_REJECTED, STILL_CHECKING
from terminal.sale import DEPARTMENT_RATES, Key, Sale, SaleState
from terminal.scan_check import ScanCheckFailed, classify_scan
from ui.coupon import CouponPresenter, CouponStatus
from ui.errors import clerk_message
from ui.services import TerminalServices

log = logging.getLogger(__name__)

COUNTDOWN_TICK_MS = 1000
# After a failed long poll the presenter waits before asking again, so an outage is not a
# busy loop; the clerk sees the notice meanwhile.
POLL_RETRY_MS = 2000

# Physical keys the sale screen takes from a keyboard: digits and backspace.
TYPED_BACKSPACE = "\b"


@dataclass(frozen=True)
class SaleLine:
    rate_percent: int
    amount_yen: int


class SalePresenter(QObject):
    """Drives ``terminal.sale.Sale`` from the screens and reports what happened."""

    changed = Signal()  # amounts, lines or state changed
    notice = Signal(str)  # a message for the clerk: what happened and what to do
    busy_changed = Signal(bool)
    mpm_ready = Signal(str, int)  # EMV payload, amount_yen
    seconds_left = Signal(int)
    cpm_waiting = Signal(int)  # amount_yen
    finished = Signal(str)  # the SaleState value the attempt ended in

    def __init__(self, services: TerminalServices, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self.sale = _new_sale(services)
        self._busy = False
        self._polling = False
        self._cancel_sent = False
        # A cancel tapped while the intent is still being created; sent once it exists.
        self._cancel_pending = False
        self._stopped = False
        self._countdown = QTimer(self)
        self._countdown.setInterval(COUNTDOWN_TICK_MS)
        self._countdown.timeout.connect(lambda: self.seconds_left.emit(self.sale.seconds_left()))
        self.coupons = CouponPresenter(services, self.sale, self)
        self.coupons.notice.connect(self.notice)
        self.changed.connect(self.coupons.on_sale_changed)

    # --- reading ---------------------------------------------------------------------------

    @property
    def entry_yen(self) -> int:
        return self.sale.typed_yen

    @property
    def total_yen(self) -> int:
        return self.sale.total_yen

    @property
    def due_yen(self) -> int:
        """What the customer pays: the total less the coupon's discount."""
        return self.sale.due_yen

    @property
    def state(self) -> SaleState:
        return self.sale.state

    @property
    def busy(self) -> bool:
        return self._busy or self._polling

    @property
    def payment(self) -> protocol.Payment | None:
        return self.sale.payment

    @property
    def lang(self) -> str:
        return self._services.lang

    @property
    def approved_offline(self) -> bool:
        """True when the sale was approved on the terminal alone and is still to be sent."""
        payment = self.sale.payment
        return payment is not None and payment.method == "offline"

    def lines(self) -> list[SaleLine]:
        return [SaleLine(line.rate_percent, line.amount_yen) for line in self.sale.tax_lines]

    def notice_text(self) -> str | None:
        return self.sale.notice_text(self._lang())

    def expired_text(self) -> str:
        return clerk_message(protocol.ErrorCode.INTENT_EXPIRED, self._lang())

    # --- keypad ----------------------------------------------------------------------------

    def press(self, key: str) -> None:
        """Apply a keypad or department key while the amount is being entered."""
        if self.busy or self.sale.state not in (SaleState.IDLE, SaleState.AMOUNT_ENTRY):
            return
        self.sale.press(key)
        self.changed.emit()
        self._emit_notice()

    def department(self, rate_percent: int) -> None:
        self.press(Key.RATE_10 if rate_percent == 10 else Key.RATE_8)

    def type_key(self, text: str) -> None:
        """Take a key typed on a physical keyboard at human speed (never a scan)."""
        if text == TYPED_BACKSPACE:
            self.press(Key.BACKSPACE)
        elif text.isascii() and text.isdigit():
            self.press(text)

    # --- starting a payment ----------------------------------------------------------------

    def start_mpm(self) -> bool:
        """Request an intent for the total; False (with a notice) when the sale is not ready."""
        if not self._prepare_attempt():
            return False
        api = self._api()
        self._run(lambda: self.sale.start_mpm(api), self._after_start_mpm)
        return True

    def start_cpm(self) -> bool:
        """Wait for a payment code; False (with a notice) when the sale is not ready."""
        if not self._prepare_attempt():
            return False
        self.sale.start_cpm()
        if self.sale.state is not SaleState.CPM_WAITING:
            self._emit_notice()
            self.changed.emit()
            return False
        self.cpm_waiting.emit(self.sale.due_yen)
        return True

    def _prepare_attempt(self) -> bool:
        if self.busy:
            return False
        if self.sale.state in (SaleState.DECLINED, SaleState.EXPIRED, SaleState.CANCELLED):
            self.sale.retry()
        if self.sale.state is SaleState.IDLE:
            # Nothing was typed yet, so the sale has no lines to pay for.
            self.notice.emit(clerk_message(messages.NO_ITEMS, self._lang()))
            return False
        if self.coupons.checking:
            self._check_coupon_first()
            return False
        if self.coupons.status is CouponStatus.REJECTED:
            # Paying again would send the rejected coupon again; the clerk removes it first.
            self.notice.emit(coupon_message(REMOVE_REJECTED, self._lang()))
            return False
        self._cancel_sent = False
        self._cancel_pending = False
        self._stopped = False
        return True

    def _check_coupon_first(self) -> None:
        """Hold the payment until the coupon's discount is known for the final total.

        A coupon scanned before the amount waits for a committed total, so an amount still
        being typed is committed at the default rate, as starting the payment would do.
        """
        sale = self.sale
        waiting = self.coupons.status is CouponStatus.WAITING_FOR_TOTAL
        if waiting and sale.typed_digits and sale.default_rate_percent is not None:
            rate_keys = {rate: key for key, rate in DEPARTMENT_RATES.items()}
            self.press(rate_keys[sale.default_rate_percent])
        self.notice.emit(coupon_message(STILL_CHECKING, self._lang()))

    # --- MPM -------------------------------------------------------------------------------

    def _after_start_mpm(self) -> None:
        intent = self.sale.intent
        if self.sale.state is SaleState.MPM_WAITING and intent is not None:
            self.mpm_ready.emit(intent.payload, intent.amount_yen)
            self.seconds_left.emit(self.sale.seconds_left())
            self._countdown.start()
            self._poll()
            if self._cancel_pending:
                self._cancel_pending = False
                self.cancel_mpm()
        elif self.sale.state is SaleState.AMOUNT_ENTRY:
            # The intent was not created (for example the server is unreachable).
            self._countdown.stop()
            self.finished.emit(SaleState.AMOUNT_ENTRY.value)
        else:
            self._finish()

    def _poll(self) -> None:
        if self.sale.state is not SaleState.MPM_WAITING or self._polling or self._stopped:
            return
        # Ask up to a second past the local deadline, so the server's expiry is seen.
        wait_s = max(1.0, min(self._services.long_poll_s, self.sale.seconds_left() + 1.0))
        api = self._api()
        self._polling = True
        self._services.runner.run(
            lambda: self.sale.poll_mpm(api, wait_s), self._after_poll, self._after_poll_error
        )

    def _after_poll(self, notice_key: str | None) -> None:
        self._polling = False
        if self.sale.state is SaleState.MPM_WAITING:
            if notice_key is not None:
                self._emit_notice()
            if notice_key is None or messages.is_mpm_rejection(notice_key):
                # A rejection arrives with a successful poll, so the next poll starts at once.
                self._poll()
            else:
                QTimer.singleShot(POLL_RETRY_MS, self._poll)
            return
        self._finish()

    def _after_poll_error(self, exc: BaseException) -> None:
        self._polling = False
        log.error("long poll failed", exc_info=exc)
        self.notice.emit(clerk_message(exc, self._lang()))
        QTimer.singleShot(POLL_RETRY_MS, self._poll)

    def cancel_mpm(self) -> None:
        """Ask the server to cancel the intent; the running poll then reports the outcome."""
        intent = self.sale.intent
        if self._busy and intent is None:
            # The intent is still being created: cancel it as soon as the server returns it.
            self._cancel_pending = True
            return
        if self.sale.state is not SaleState.MPM_WAITING or intent is None or self._cancel_sent:
            return
        self._cancel_sent = True
        api = self._services.api
        self._services.runner.run(
            lambda: api.cancel_intent(intent.intent_id),
            lambda _intent: self._poll(),
            self._after_cancel_error,
        )

    def _after_cancel_error(self, exc: BaseException) -> None:
        # The intent was paid or expired in the meantime: the poll reports that outcome.
        if isinstance(exc, Declined):
            log.info("cancel of the intent was declined: %s", exc.code)
            self._poll()
            return
        self._cancel_sent = False
        self.notice.emit(clerk_message(exc, self._lang()))

    # --- CPM -------------------------------------------------------------------------------

    def scan(self, code: str) -> None:
        """Redeem a scanned payment code; ignored unless the sale waits for a code.

        A scan that fails its code's own check is rejected here, on the GUI thread, so it
        never queues behind a running request or reaches the API client.
        """
        if self.sale.state is not SaleState.CPM_WAITING:
            return
        try:
            classify_scan(code)
        except ScanCheckFailed as exc:
            log.info("scan rejected before any request: %s", exc)
            self.notice.emit(clerk_message(exc.message_key, self._lang()))
            return
        if self._busy:
            self.notice.emit(clerk_message(messages.CODE_ALREADY_SENT, self._lang()))
            return
        api = self._api()
        self._run(lambda: self.sale.submit_code(api, code), self._after_redeem)

    def resend(self) -> None:
        """Send the last code again after its outcome was left unknown by a network failure."""
        if self.sale.state is not SaleState.CPM_WAITING or not self.sale.outcome_unknown:
            return
        api = self._api()
        self._run(lambda: self.sale.resend_code(api), self._after_redeem)

    def cancel_cpm(self) -> bool:
        """Stop waiting for a code and return to amount entry; False while a request runs.

        After a redeem whose outcome is unknown the sale is not kept for another try: the
        sync worker finds out whether the customer was charged, and the sale starts afresh.
        """
        if self._busy or self.sale.state is not SaleState.CPM_WAITING:
            return False
        if self.sale.outcome_unknown:
            self.sale.cancel()
            self.sale.reset()
        else:
            self.sale.cancel()
            self.sale.retry()
        self.changed.emit()
        return True

    @property
    def outcome_unknown(self) -> bool:
        return self.sale.outcome_unknown

    def _after_redeem(self) -> None:
        if self.sale.state is SaleState.CPM_WAITING:
            self._emit_notice()
            self.changed.emit()
            return
        self._finish()

    # --- ending ----------------------------------------------------------------------------

    def back_to_entry(self) -> None:
        """Return to amount entry with the same lines after a decline, expiry or cancel."""
        if self.sale.state in (SaleState.DECLINED, SaleState.EXPIRED, SaleState.CANCELLED):
            self.sale.retry()
        self.changed.emit()

    def reset(self) -> None:
        """Start a new sale for the next customer."""
        self.sale.reset()
        self.coupons.clear()
        self.changed.emit()

    def stop(self) -> None:
        """Stop the countdown and further polls; the window is closing."""
        self._countdown.stop()
        self._stopped = True

    def _finish(self) -> None:
        self._countdown.stop()
        state = self.sale.state
        log.info("sale attempt ended: %s", state.value)
        self.changed.emit()
        self.finished.emit(state.value)

    # --- helpers ---------------------------------------------------------------------------

    def _run(self, job: Callable[[], str | None], after: Callable[[], None]) -> None:
        self._set_busy(True)

        def done(notice_key: object) -> None:
            self._set_busy(False)
            if notice_key == messages.UNREACHABLE and self._services.offline is not None:
                # The sync worker may not have noticed the outage yet; a probe now lets the
                # banner and the offline checks catch up before the clerk tries again.
                self._services.offline.wake()
            after()

        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            self.notice.emit(clerk_message(exc, self._lang()))
            after()

        self._services.runner.run(job, done, failed)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.busy_changed.emit(busy)

    def _emit_notice(self) -> None:
        text = self.notice_text()
        if text is not None:
            self.notice.emit(text)

    def _api(self) -> ApiClient:
        # Sale annotates the concrete ApiClient but only calls the PaymentApi methods, so the
        # fakes used in tests fit as well.
        return cast(ApiClient, self._services.api)

    def _lang(self) -> messages.Language:
        return "en" if self._services.lang == "en" else "ja"


def _new_sale(services: TerminalServices) -> Sale:
    parts = services.offline
    if parts is None:
        return Sale(services.max_amount_yen)
    return Sale(
        services.max_amount_yen,
        store=parts.store,
        offline=parts.acceptor,
        is_offline=lambda: services.is_offline(),
        now=parts.clock.now,
    )
