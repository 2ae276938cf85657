"""One sale at the counter, from the first keypad press to its result.

States::

    idle -> amount_entry -> mpm_waiting -> approved | declined | cancelled | expired
                         -> cpm_waiting -> approved | declined | cancelled

The clerk types an amount on the keypad and commits it with a department key (「10%」 or 「8%」),
once per tax rate or item. The sale's total is the sum of those tax lines. Then the customer
either scans the QR on the screen (MPM: the terminal creates a payment intent and long-polls it)
or shows a payment code that the clerk scans (CPM: the terminal redeems the code).

The class holds no threads and no timers. Methods that take an ``ApiClient`` block on the network,
so the UI calls them from one worker thread, one call at a time. Methods return a message key from
``terminal.messages`` when the clerk has to be told something, or None; the same key stays in
``notice`` until the next action.

Store and forward: with a ``Store``, every approval is committed to the terminal database (the
capture and its outbox entry in one transaction) before the state becomes approved. An online
approval is recorded as an ``online_payment`` entry that confirms the server's payment. With an
``OfflineAcceptor``, an offline payment code is verified and approved on the terminal, and a
20-digit online code scanned while ``is_offline()`` returns the "show the offline code" notice.

Double charges: each payment attempt has its own idempotency key (uuid4 hex), a CPM code that
was already sent in this sale is never sent again, and after a network failure the outcome of
a redeem is unknown, so only ``resend_code()`` (same code, same key) may follow, never a new code.
With a ``Store``, each online attempt is also recorded as a redemption before its first request
(see ``terminal.store``), and the approval's capture takes the attempt's key as its id. While
the sale waits on an attempt, the sale holds its redemption. Once the sale ends or is reset,
an attempt whose outcome is still unknown is left to the sync worker, which repeats the
request with the same key and records an approval it finds. So a terminal that stopped mid-request, or a clerk
who gave up waiting, never makes the customer pay twice.

Coupons: ``set_coupon`` applies a coupon checked by ``terminal.coupons``. The payment is then
for ``due_yen`` (the total less the discount) and carries a ``protocol.CouponUse``, while the
tax lines still add up to the whole total. The coupon is recorded under the attempt's key (or
the offline code) before the first request, so the sync worker resends it with the attempt.
When the server rejects the coupon, nothing was charged: the sale is declined with the
coupon's reason, and the clerk removes the coupon and pays again.

QR rejections: when the server rejects a wallet's pay call on the intent (for example the coupon
belongs to another wallet, or the balance is too low), the intent stays payable and the server
reports the latest rejection in the intent. ``poll_mpm`` returns its message key once per rejection
while the sale keeps waiting, so the clerk can act before the QR code expires.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from terminal import coupons, messages, protocol
from terminal.api_client import ApiClient, ApiError, Declined, mask_code
from terminal.coupons import (
    AppliedCoupon,
    CouponRejected,
    CouponUses,
    coupon_message,
    coupon_reason,
)
from terminal.offline import OfflineAcceptor, OfflineRejected
from terminal.protocol import ErrorCode, Intent, IntentRejection, Payment, TaxLine
from terminal.receipt import format_yen
from terminal.scan_check import ScanCheckFailed, ScanKind, classify_scan
from terminal.store import Capture, NewRedemption, RedemptionMethod, Store, StoreError

logger = logging.getLogger(__name__)


class SaleState(StrEnum):
    IDLE = "idle"
    AMOUNT_ENTRY = "amount_entry"
    MPM_WAITING = "mpm_waiting"
    CPM_WAITING = "cpm_waiting"
    APPROVED = "approved"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


FINISHED_STATES = frozenset(
    {SaleState.APPROVED, SaleState.DECLINED, SaleState.CANCELLED, SaleState.EXPIRED}
)


class Key(StrEnum):
    """Keypad keys. Digits are their own text, so ``Key("7")`` is the 7 key."""

    ZERO = "0"
    ONE = "1"
    TWO = "2"
    THREE = "3"
    FOUR = "4"
    FIVE = "5"
    SIX = "6"
    SEVEN = "7"
    EIGHT = "8"
    NINE = "9"
    DOUBLE_ZERO = "00"
    CLEAR = "clear"
    BACKSPACE = "backspace"
    RATE_10 = "10%"
    RATE_8 = "8%"


DEPARTMENT_RATES: dict[Key, Literal[10, 8]] = {Key.RATE_10: 10, Key.RATE_8: 8}


# Rejections of the terminal itself, not of the payment. The rejected request was not
# processed, but an earlier request with the same key may have been, so after one of these
# the outcome of a resent redemption stays unknown.
TERMINAL_REFUSALS = frozenset({ErrorCode.UNAUTHENTICATED, ErrorCode.FORBIDDEN})


class InvalidTransition(Exception):
    """An action was called in a state that does not allow it: a bug in the caller."""


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class Sale:
    """The state of one sale. Create a new one, or call ``reset()``, for the next customer."""

    def __init__(
        self,
        max_amount_yen: int,
        new_key: Callable[[], str] = new_idempotency_key,
        default_rate_percent: Literal[10, 8] | None = 10,
        store: Store | None = None,
        offline: OfflineAcceptor | None = None,
        is_offline: Callable[[], bool] = lambda: False,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        """``default_rate_percent`` is the rate given to an amount typed but not committed with
        a department key when the clerk starts the payment; None makes the key compulsory.

        ``store`` records approvals; without it nothing is stored, as in tests of the screens.
        ``offline`` takes offline codes, and ``is_offline`` (for example
        ``lambda: worker.offline`` of a ``terminal.sync.SyncWorker``) returns whether the server
        is known to be unreachable. ``now`` gives the capture time, preferably
        ``ServerClock.now``.
        """
        if max_amount_yen < 1:
            raise ValueError(f"max_amount_yen must be at least 1, got {max_amount_yen}")
        self.max_amount_yen = max_amount_yen
        self.max_digits = len(str(max_amount_yen))
        self._new_key = new_key
        self.default_rate_percent = default_rate_percent
        if store is None and offline is not None:
            store = offline.store
        self.store = store
        self._offline = offline
        self._is_offline = is_offline
        self._now = now
        self._held_keys: set[str] = set()
        # Coupons used by this terminal; None without a store.
        self._coupon_uses = CouponUses(store) if store is not None else None
        # The clerk chosen on the sale screen, stored on each capture; kept across sales.
        self.clerk: str | None = None
        self.reset()

    def reset(self) -> None:
        """Forget everything and return to idle.

        An online attempt whose outcome is still unknown is handed to the sync worker.
        """
        self._release_redemptions()
        self.state = SaleState.IDLE
        self.typed_digits = ""
        self.tax_lines: list[TaxLine] = []
        self.idempotency_key: str | None = None
        self.method: Literal["mpm", "cpm"] | None = None
        self.intent: Intent | None = None
        self.payment: Payment | None = None
        self.capture: Capture | None = None
        self.decline_code: ErrorCode | None = None
        self.notice: str | None = None
        self.outcome_unknown = False
        self.codes_sent: set[str] = set()
        self._pending_code: str | None = None
        self._deadline: datetime | None = None
        # Kept after create_intent failed on the network, so a retry with the same lines
        # reuses it and cannot leave two live intents for one sale.
        self._unsent_intent_key: str | None = None
        # The coupon the clerk scanned, checked for the total (see terminal.coupons).
        self.coupon: AppliedCoupon | None = None
        self.coupon_rejection: CouponRejected | None = None
        # The latest rejected wallet pay call on the intent that the clerk has already been shown.
        self.mpm_rejection: IntentRejection | None = None

    # --- amounts -----------------------------------------------------------------------

    @property
    def typed_yen(self) -> int:
        return int(self.typed_digits) if self.typed_digits else 0

    @property
    def total_yen(self) -> int:
        """The sum of the committed tax lines; the amount being typed is not included."""
        return sum(line.amount_yen for line in self.tax_lines)

    @property
    def due_yen(self) -> int:
        """What the customer pays: the total less the coupon's discount, if one is applied."""
        if self.coupon is None or self.coupon.total_yen != self.total_yen:
            return self.total_yen
        return self.coupon.due_yen

    # --- coupon ------------------------------------------------------------------------

    def set_coupon(self, coupon: AppliedCoupon) -> None:
        """Apply a coupon checked for the current total (``terminal.coupons``)."""
        self._require(SaleState.IDLE, SaleState.AMOUNT_ENTRY, *FINISHED_STATES)
        if self.state is SaleState.APPROVED:
            raise InvalidTransition("a coupon cannot be applied to an approved sale")
        self.coupon = coupon
        self.coupon_rejection = None
        self._unsent_intent_key = None

    def remove_coupon(self) -> None:
        """Take the coupon off the sale; the next payment attempt is for the whole total."""
        self._require(SaleState.IDLE, SaleState.AMOUNT_ENTRY, *FINISHED_STATES)
        if self.state is SaleState.APPROVED:
            raise InvalidTransition("the coupon of an approved sale cannot be removed")
        self.coupon = None
        self.coupon_rejection = None
        self._unsent_intent_key = None
        if self.decline_code is not None and coupon_reason(self.decline_code) is not None:
            self._set_notice(None)

    def press(self, key: Key | str) -> str | None:
        """Apply one keypad key; return a message key when the key was rejected."""
        key = Key(key)
        self._require(SaleState.IDLE, SaleState.AMOUNT_ENTRY)
        self.state = SaleState.AMOUNT_ENTRY

        if key in DEPARTMENT_RATES:
            return self._set_notice(self._commit_line(DEPARTMENT_RATES[key]))
        if key is Key.CLEAR:
            self._clear()
        elif key is Key.BACKSPACE:
            self.typed_digits = self.typed_digits[:-1]
        else:
            return self._set_notice(self._type_digits(key.value))
        return self._set_notice(None)

    def remove_last_line(self) -> None:
        """Void the most recent department entry."""
        self._require(SaleState.AMOUNT_ENTRY)
        if self.tax_lines:
            self.tax_lines.pop()
            self._unsent_intent_key = None

    def _type_digits(self, digits: str) -> str | None:
        if not self.typed_digits and digits.startswith("0"):
            return None  # a leading zero adds nothing, so 0 and 00 on an empty entry are ignored
        candidate = self.typed_digits + digits
        if len(candidate) > self.max_digits:
            return messages.TOO_MANY_DIGITS
        if self.total_yen + int(candidate) > self.max_amount_yen:
            return messages.AMOUNT_TOO_LARGE
        self.typed_digits = candidate
        return None

    def _commit_line(self, rate_percent: Literal[10, 8]) -> str | None:
        if self.typed_yen == 0:
            return messages.AMOUNT_MISSING
        self.tax_lines.append(TaxLine(rate_percent=rate_percent, amount_yen=self.typed_yen))
        self.typed_digits = ""
        self._unsent_intent_key = None
        return None

    def _clear(self) -> None:
        # The first press clears the amount being typed, the next one the whole sale.
        if self.typed_digits:
            self.typed_digits = ""
        else:
            self.tax_lines.clear()
            self._unsent_intent_key = None

    def _check_ready_to_pay(self) -> str | None:
        self._require(SaleState.AMOUNT_ENTRY)
        if self.typed_digits and self.default_rate_percent is not None:
            self._commit_line(self.default_rate_percent)
        if self.typed_digits:
            return messages.AMOUNT_NOT_COMMITTED
        if not self.tax_lines:
            return messages.NO_ITEMS
        return self._check_coupon()

    def _check_coupon(self) -> str | None:
        """Recompute the coupon's discount for the final total; return a reason if it fails."""
        if self.coupon is None:
            return None
        try:
            self.coupon = self.coupon.for_total(self.total_yen)
        except CouponRejected as exc:
            self.coupon_rejection = exc
            return exc.reason
        return None

    def _coupon_use(self) -> dict[str, protocol.CouponUse]:
        """Return the keyword argument carrying the coupon, or none without a coupon.

        Without a coupon the request is made exactly as before coupons existed.
        """
        return {} if self.coupon is None else {"coupon": self.coupon.use()}

    def _record_coupon(self) -> str | None:
        """Record the coupon under the attempt's key before its first request."""
        key = self.idempotency_key
        if self.coupon is None or self._coupon_uses is None or key is None:
            return None
        try:
            self._coupon_uses.record(key, self.coupon, self._now())
        except CouponRejected as exc:
            self.coupon_rejection = exc
            return exc.reason
        except StoreError:
            logger.exception("coupon of attempt %s could not be stored, so it is not sent", key)
            return messages.STORE_WRITE_FAILED
        return None

    # --- MPM: the customer scans the screen --------------------------------------------

    def start_mpm(self, api: ApiClient, now: datetime | None = None) -> str | None:
        """Create a payment intent for the total and wait for the customer to pay it."""
        problem = self._check_ready_to_pay()
        if problem is not None:
            return self._set_notice(problem)

        self.method = "mpm"
        self.idempotency_key = self._unsent_intent_key or self._new_key()
        coupon_problem = self._record_coupon()
        if coupon_problem is not None:
            return self._set_notice(coupon_problem)
        if not self._open_redemption("mpm"):
            return self._set_notice(messages.STORE_WRITE_FAILED)
        try:
            intent = api.create_intent(
                self.due_yen, self.tax_lines, self.idempotency_key, **self._coupon_use()
            )
        except Declined as exc:
            self._close_redemption(str(exc.code))
            return self._decline(exc)
        except ApiError as exc:
            # The intent may exist on the server; the same key finds it again.
            self._unsent_intent_key = self.idempotency_key
            return self._set_notice(messages.message_key(exc))

        self._unsent_intent_key = None
        self._save_intent_id(intent.intent_id)
        self._deadline = _local_deadline(intent, now or datetime.now(UTC))
        self.state = SaleState.MPM_WAITING
        self._set_notice(None)
        return self._apply_intent(intent)

    def poll_mpm(self, api: ApiClient, wait_s: float) -> str | None:
        """Long-poll the intent once; the UI calls this again while the state stays waiting."""
        intent = self._require_intent()
        try:
            seen = self.mpm_rejection
            seen_at = protocol.NO_REJECTION_SEEN if seen is None else seen.at
            updated = api.wait_intent(intent.intent_id, wait_s, seen_at)
        except Declined as exc:
            return self._decline(exc)
        except ApiError as exc:
            return self._set_notice(messages.message_key(exc))
        return self._apply_intent(updated)

    def seconds_left(self, now: datetime | None = None) -> int:
        """Whole seconds until the intent expires (rounded up), for the countdown; 0 if none."""
        if self._deadline is None or self.state is not SaleState.MPM_WAITING:
            return 0
        remaining_s = (self._deadline - (now or datetime.now(UTC))).total_seconds()
        return max(0, math.ceil(remaining_s))

    def _require_intent(self) -> Intent:
        self._require(SaleState.MPM_WAITING)
        if self.intent is None:
            raise InvalidTransition("mpm_waiting without an intent")
        return self.intent

    def _apply_intent(self, intent: Intent) -> str | None:
        self.intent = intent
        if intent.status == "pending":
            return self._set_notice(self._new_rejection(intent))
        if intent.status == "approved":
            if intent.payment is None:
                # The server must include the payment of an approved intent; keep waiting.
                logger.warning("intent %s is approved but has no payment", intent.intent_id)
                return self._set_notice(messages.PROTOCOL_ERROR)
            self._approve(intent.payment)
        elif intent.status == "expired":
            self._close_redemption("expired")
            self.state = SaleState.EXPIRED
        elif intent.status == "cancelled":
            self._close_redemption("cancelled")
            self.state = SaleState.CANCELLED
        return self._set_notice(None)

    def _new_rejection(self, intent: Intent) -> str | None:
        """Return the message key of a rejection the clerk has not seen yet, else None.

        The server repeats the latest rejection in every intent it returns, so each rejection
        is reported once. A rejection leaves the intent payable, so the sale keeps waiting.
        """
        rejection = intent.last_rejection
        if rejection is None or rejection == self.mpm_rejection:
            return None
        self.mpm_rejection = rejection
        logger.info("intent %s: a wallet pay call was rejected with %s", intent.intent_id,
                    rejection.code)
        return messages.mpm_rejection_key(rejection.code)

    # --- CPM: the clerk scans the customer's code --------------------------------------

    def start_cpm(self) -> str | None:
        """Wait for the customer's payment code."""
        problem = self._check_ready_to_pay()
        if problem is not None:
            return self._set_notice(problem)
        self.method = "cpm"
        self.idempotency_key = self._new_key()
        self.state = SaleState.CPM_WAITING
        return self._set_notice(None)

    def submit_code(self, api: ApiClient, code: str) -> str | None:
        """Redeem a scanned payment code for the total, unless this sale already sent it."""
        self._require(SaleState.CPM_WAITING)
        if code in self.codes_sent:
            logger.info(
                "code %s was already sent in this sale, so it is not sent again",
                mask_code(code),
            )
            return self._set_notice(messages.CODE_ALREADY_SENT)
        if self.outcome_unknown:
            return self._set_notice(messages.OUTCOME_UNKNOWN)
        try:
            kind = classify_scan(code)
        except ScanCheckFailed as exc:
            # A damaged scan never reaches the server or offline acceptance.
            logger.info("rejected scanned code %s: %s", mask_code(code), exc)
            return self._set_notice(exc.message_key)

        if kind not in (ScanKind.PAYMENT, ScanKind.OFFLINE):
            logger.info("scanned code %s is a %s code, not a payment code", mask_code(code), kind)
            return self._set_notice(ErrorCode.CODE_INVALID)
        if self._offline is not None and (kind is ScanKind.OFFLINE or self._is_offline()):
            return self._accept_offline(self._offline, code)
        if kind is ScanKind.OFFLINE:
            return self._set_notice(messages.OFFLINE_NO_ISSUER_KEYS)
        coupon_problem = self._record_coupon()
        if coupon_problem is not None:
            return self._set_notice(coupon_problem)
        if not self._open_redemption("cpm", code):
            return self._set_notice(messages.STORE_WRITE_FAILED)

        self.codes_sent.add(code)
        self._pending_code = code
        return self._redeem(api, code)

    def resend_code(self, api: ApiClient) -> str | None:
        """Send the last code again with the same key, after its outcome was left unknown."""
        self._require(SaleState.CPM_WAITING)
        if not self.outcome_unknown or self._pending_code is None:
            raise InvalidTransition("resend_code needs a redeem whose outcome is unknown")
        return self._redeem(api, self._pending_code)

    def _redeem(self, api: ApiClient, code: str) -> str | None:
        if self.idempotency_key is None:
            raise InvalidTransition("cpm_waiting without an idempotency key")
        try:
            payment = api.redeem_cpm(
                code, self.due_yen, self.tax_lines, self.idempotency_key, **self._coupon_use()
            )
        except Declined as exc:
            if self.outcome_unknown and exc.code in TERMINAL_REFUSALS:
                return self._set_notice(messages.message_key(exc))
            self.outcome_unknown = False
            self._close_redemption(str(exc.code))
            if coupon_reason(str(exc.code)) is not None:
                # The server rejected the whole request because of the coupon and charged
                # nothing, so the same payment code may go out again without the coupon.
                self.codes_sent.discard(code)
            return self._decline(exc)
        except ApiError as exc:
            # The request may have reached the server: the result is unknown until resent.
            self.outcome_unknown = True
            return self._set_notice(messages.message_key(exc))
        self.outcome_unknown = False
        self._approve(payment)
        return self._set_notice(None)

    def _accept_offline(self, acceptor: OfflineAcceptor, code: str) -> str | None:
        coupon_problem = self._record_offline_coupon(acceptor, code)
        if coupon_problem is not None:
            return self._set_notice(coupon_problem)
        try:
            approval = acceptor.accept(code, self.due_yen, self.tax_lines, clerk=self.clerk)
        except OfflineRejected as exc:
            self._forget_offline_coupon(code)
            return self._set_notice(exc.message_key)
        except StoreError:
            logger.exception("offline payment could not be stored, so it is not approved")
            self._forget_offline_coupon(code)
            return self._set_notice(messages.STORE_WRITE_FAILED)

        self.codes_sent.add(code)
        self.method = "cpm"
        capture = approval.capture
        self.capture = capture
        self.payment = Payment(
            payment_id=capture.capture_id,
            merchant_id=acceptor.merchant_id,
            terminal_id=acceptor.terminal_id,
            amount_yen=capture.amount_yen,
            refunded_yen=0,
            method="offline",
            created_at=capture.captured_at.isoformat(timespec="seconds"),
            tax_lines=capture.tax_lines,
            coupon=None if self.coupon is None else self.coupon.applied(),
        )
        self.state = SaleState.APPROVED
        return self._set_notice(None)

    def _record_offline_coupon(self, acceptor: OfflineAcceptor, code: str) -> str | None:
        """Check the coupon against the offline code's wallet and record it before the capture.

        The wallet's certificate names the paying wallet, so a coupon of another wallet is
        rejected here instead of being declined when the payment is sent.
        """
        if self.coupon is None or self._coupon_uses is None:
            return None
        try:
            wallet_id = acceptor.verify(code).certificate.wallet_id
            coupons.check_coupon_wallet(self.coupon, wallet_id)
            self._coupon_uses.record_offline(code, self.coupon, self._now())
        except OfflineRejected as exc:
            return exc.message_key
        except CouponRejected as exc:
            self.coupon_rejection = exc
            return exc.reason
        except StoreError:
            logger.exception("coupon of an offline payment could not be stored")
            return messages.STORE_WRITE_FAILED
        return None

    def _forget_offline_coupon(self, code: str) -> None:
        if self.coupon is None or self._coupon_uses is None:
            return
        try:
            self._coupon_uses.forget_offline(code)
        except StoreError:
            # The row counts as a use only once a capture has the same code, so it is harmless.
            logger.exception("coupon of a rejected offline payment could not be removed")

    # --- ending ------------------------------------------------------------------------

    def cancel(self, api: ApiClient | None = None) -> str | None:
        """Cancel the sale; an MPM intent is cancelled on the server, which needs ``api``.

        The customer may pay an intent at the moment it is cancelled; the server then
        reports it paid, and the sale ends approved instead.
        """
        if self.state is not SaleState.MPM_WAITING:
            self._require(SaleState.IDLE, SaleState.AMOUNT_ENTRY, SaleState.CPM_WAITING)
            self.state = SaleState.CANCELLED
            if not self.outcome_unknown:
                return self._set_notice(None)
            # The redeem may still have charged the customer: the sync worker finds out.
            self._release_redemptions()
            return self._set_notice(messages.OUTCOME_CHECKED_LATER)

        if api is None:
            raise InvalidTransition("cancelling an MPM sale needs the ApiClient")
        intent = self._require_intent()
        try:
            return self._apply_intent(api.cancel_intent(intent.intent_id))
        except Declined as exc:
            return self._cancel_declined(api, intent, exc)
        except ApiError as exc:
            return self._set_notice(messages.message_key(exc))

    def _cancel_declined(self, api: ApiClient, intent: Intent, exc: Declined) -> str | None:
        if exc.code is ErrorCode.INTENT_EXPIRED:
            self.state = SaleState.EXPIRED
            return self._set_notice(None)
        if exc.code is ErrorCode.INTENT_ALREADY_PAID:
            return self.poll_mpm(api, 0)
        return self._decline(exc)

    def retry(self) -> None:
        """Go back to amount entry with the same lines, after a decline, expiry or cancel."""
        self._require(SaleState.DECLINED, SaleState.EXPIRED, SaleState.CANCELLED)
        if self.outcome_unknown:
            raise InvalidTransition("retry after a redeem with an unknown outcome")
        self.state = SaleState.AMOUNT_ENTRY
        self.idempotency_key = None
        self.method = None
        self.intent = None
        self.decline_code = None
        self.mpm_rejection = None
        self._deadline = None
        self._set_notice(None)

    def _approve(self, payment: Payment) -> None:
        self._record_online(payment)
        self.payment = payment
        self.state = SaleState.APPROVED
        logger.info("sale approved: payment %s, %d yen", payment.payment_id, payment.amount_yen)

    def _record_online(self, payment: Payment) -> None:
        if self.store is None or self.idempotency_key is None:
            return
        key = self.idempotency_key
        try:
            self.capture = self.store.complete_redemption(key, payment, self._now(), recovered=False)
        except StoreError:
            # The server has booked this payment already, so the sale stays approved. The
            # redemption stays open, and the sync worker records the approval after the sale.
            logger.exception("approved payment %s could not be stored", payment.payment_id)
            return
        self._release(key)

    # --- redemptions (see terminal.store) ----------------------------------------------

    def _open_redemption(self, method: RedemptionMethod, code: str | None = None) -> bool:
        """Record the attempt under ``idempotency_key`` before its first request.

        Returns False when the store cannot record it; the request must then not be sent.
        """
        key = self.idempotency_key
        if self.store is None or key is None:
            return True
        new = NewRedemption(
            key, method, self.total_yen, tuple(self.tax_lines), self._now(), code, self.clerk
        )
        try:
            self.store.open_redemption(new)
        except StoreError:
            logger.exception("redemption %s could not be stored, so it is not sent", key)
            return False
        # An earlier attempt of this sale that was never resolved is left to the sync worker.
        self._release_redemptions()
        self.store.hold_redemption(key)
        self._held_keys.add(key)
        return True

    def _save_intent_id(self, intent_id: str) -> None:
        if self.store is None or self.idempotency_key is None:
            return
        try:
            self.store.set_redemption_intent(self.idempotency_key, intent_id)
        except StoreError:
            # The sync worker finds the intent again by creating it with the same key.
            logger.exception("intent %s of redemption %s not saved", intent_id, self.idempotency_key)

    def _close_redemption(self, outcome: str) -> None:
        key = self.idempotency_key
        if self.store is None or key is None:
            return
        try:
            self.store.close_redemption(key, outcome)
        except StoreError:
            # Left open: the sync worker repeats the request later and closes it then.
            logger.exception("redemption %s could not be closed as %s", key, outcome)
            return
        self._release(key)

    def _release(self, key: str) -> None:
        if self.store is not None:
            self.store.release_redemption(key)
        self._held_keys.discard(key)

    def _release_redemptions(self) -> None:
        for key in list(self._held_keys):
            self._release(key)

    def _decline(self, exc: Declined) -> str:
        if coupon_reason(str(exc.code)) is not None and self.coupon is not None:
            minimum_yen = self.coupon.terms.minimum_spend_yen
            self.coupon_rejection = CouponRejected(
                str(exc.code), exc.message, minimum_spend_yen=minimum_yen
            )
        self.decline_code = exc.code
        self.state = SaleState.DECLINED
        logger.info("sale declined: %s", exc.code)
        notice = messages.message_key(exc)
        self.notice = notice
        return notice

    def notice_text(self, lang: messages.Language = "ja") -> str | None:
        """Return the clerk's text for ``notice`` in ``lang``, or None when there is none."""
        if self.notice is None:
            return None
        if coupon_reason(self.notice) is not None:
            rejection = self.coupon_rejection
            minimum_yen = rejection.minimum_spend_yen if rejection is not None else 0
            return coupon_message(self.notice, lang, minimum_spend_yen=minimum_yen)
        fields = {"max_amount": format_yen(self.max_amount_yen)}
        if self.notice == messages.MPM_REJECTED_COUPON and self.mpm_rejection is not None:
            minimum_yen = self.coupon.terms.minimum_spend_yen if self.coupon is not None else 0
            fields["reason"] = coupon_message(self.mpm_rejection.code, lang,
                                              minimum_spend_yen=minimum_yen)
        if self._offline is not None:
            fields["max_offline_amount"] = format_yen(self._offline.caps.max_payment_yen)
        return messages.message_for(self.notice, lang, **fields)

    def _set_notice(self, notice: str | None) -> str | None:
        self.notice = notice
        return notice

    def _require(self, *allowed: SaleState) -> None:
        if self.state not in allowed:
            names = ", ".join(state.value for state in allowed)
            raise InvalidTransition(
                f"this action needs state {names}, but the sale is {self.state}"
            )


def _local_deadline(intent: Intent, received_at: datetime) -> datetime:
    """Translate the intent's expiry to the terminal's clock, whatever the clock skew."""
    expires_at = datetime.fromisoformat(intent.expires_at)
    lifetime = expires_at - datetime.fromisoformat(intent.server_time)
    return received_at + lifetime
