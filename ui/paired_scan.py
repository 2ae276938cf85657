"""A payment code scanned together with its coupon on the code screen (one QR code).

The wallet may show ``<payment code>/<coupon code>`` (``terminal.coupon_pairing``). The coupon
part goes through ``CouponPresenter`` exactly like a coupon scanned on its own: the server's
quote online, the terminal's own check offline. Only once the coupon is applied is the payment
part sent, for the discounted amount and with the coupon, so one scan makes at most one payment
request. A coupon that the quote or the offline check rejects sends nothing.

The quote does not know the paying wallet. Online, a coupon of another wallet is found only by
the payment request, which the server rejects as a whole (nothing is charged). Offline, the
terminal compares the coupon with the offline code's wallet at payment and records nothing
when they differ. Either way the sale goes back to the sale screen, whose coupon panel gives
the reason (``TerminalController.on_finished`` and ``on_sale_notice``).

A sale takes one coupon: a paired code whose coupon differs from the one already attached is
refused, and one with the same coupon is paid like a plain payment code.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from terminal import coupon_code, coupon_pairing, messages
from terminal.coupons import coupon_message
from terminal.sale import SaleState
from ui.coupon import CouponStatus
from ui.errors import clerk_message
from ui.sale import SalePresenter

log = logging.getLogger(__name__)


class PairedScan(QObject):
    """Attaches the coupon of a paired code to the sale, then sends the payment part."""

    notice = Signal(str)  # a message for the code screen
    coupon_rejected = Signal(str)  # nothing was sent, and the text is the clerk's next step
    stopped = Signal()  # the payment could not restart after the coupon was applied

    def __init__(self, sale: SalePresenter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sale = sale
        # The payment part, held while the coupon part is being checked.
        self._pending_payment: str | None = None
        sale.coupons.changed.connect(self._on_coupon_changed)

    @property
    def waiting(self) -> bool:
        """True while the coupon of a paired code is checked and its payment part waits."""
        return self._pending_payment is not None

    def scan(self, text: str) -> None:
        """Take a paired code scanned on the code screen; ignored unless the sale waits for one."""
        sale = self._sale
        if sale.state is not SaleState.CPM_WAITING or self.waiting:
            return
        try:
            paired = coupon_pairing.check(text)
        except coupon_pairing.PairedCodeError as exc:
            log.info("paired code %s rejected before any request: %s",
                     coupon_pairing.mask_paired_code(text), exc)
            self.notice.emit(clerk_message(exc.message_key, sale.lang))
            return
        if sale.busy:
            self.notice.emit(clerk_message(messages.CODE_ALREADY_SENT, sale.lang))
            return
        if sale.outcome_unknown:
            self.notice.emit(clerk_message(messages.OUTCOME_UNKNOWN, sale.lang))
            return

        attached = sale.coupons.code
        if attached is not None:
            self._pay_with_attached(attached, paired)
            return
        self._attach_then_pay(paired)

    def abandon(self) -> None:
        """Forget the waiting payment part: the clerk left the code screen.

        The coupon check goes on, so the coupon stays on the sale as if scanned on its own.
        """
        if self._pending_payment is not None:
            log.info("the payment part of a paired code was dropped before it was sent")
        self._pending_payment = None

    # --- steps -----------------------------------------------------------------------------

    def _pay_with_attached(self, attached: str, paired: coupon_pairing.PairedCode) -> None:
        if not _same_coupon(attached, paired.coupon_code):
            log.info("paired code rejected: the sale already has coupon %s",
                     coupon_code.mask_coupon_code(attached))
            self.notice.emit(coupon_message(messages.ONE_COUPON_PER_SALE, self._sale.lang))
            return
        self._sale.scan(paired.payment_code)

    def _attach_then_pay(self, paired: coupon_pairing.PairedCode) -> None:
        # A coupon changes only during amount entry, so the wait for a code ends first. No
        # request was sent yet, so the attempt starts again with a new key once it is applied.
        if not self._sale.cancel_cpm():
            return
        log.info("paired code scanned: checking coupon %s before the payment",
                 coupon_code.mask_coupon_code(paired.coupon_code))
        self._pending_payment = paired.payment_code
        self._sale.coupons.scan(paired.coupon_code)
        if self._sale.coupons.code is None:
            # The coupon presenter did not take the coupon, so nothing will follow.
            self._pending_payment = None
            self.stopped.emit()

    def _on_coupon_changed(self) -> None:
        payment_code = self._pending_payment
        if payment_code is None:
            return
        status = self._sale.coupons.status
        if status in (CouponStatus.CHECKING, CouponStatus.WAITING_FOR_TOTAL):
            return

        self._pending_payment = None
        if status is CouponStatus.APPLIED:
            self._pay(payment_code)
        elif status is CouponStatus.REJECTED:
            log.info("coupon of a paired code rejected; the payment part was not sent")
            self.coupon_rejected.emit(coupon_message(messages.PAIRED_NOT_PAID, self._sale.lang))
        else:
            self.stopped.emit()

    def _pay(self, payment_code: str) -> None:
        # start_cpm shows the discounted amount on the code screen through cpm_waiting.
        if not self._sale.start_cpm():
            self.stopped.emit()
            return
        self._sale.scan(payment_code)


def _same_coupon(attached: str, scanned: str) -> bool:
    if attached.strip().upper() == scanned:
        return True
    try:
        attached_id = coupon_code.parse_coupon_code(attached).coupon_id
        scanned_id = coupon_code.parse_coupon_code(scanned).coupon_id
    except coupon_code.CouponCodeError:
        return False
    return attached_id == scanned_id
