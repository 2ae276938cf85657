"""Payments: merchant-presented intents, consumer-presented codes, and refunds.

Each operation runs inside one writing transaction that the caller opens. Rows are locked in
one order, the domain row first (intent, payment code or payment) and then the ledger account,
so concurrent requests queue instead of deadlocking.

Paying an intent, redeeming a code and refunding lock and update their domain rows with Core
statements and insert the payment or refund with ``INSERT ... RETURNING``, so the hot path
loads only the row it returns and never flushes. An ``Intent``, ``PaymentCodeRow`` or
``Payment`` object that the session loaded before such a call is not refreshed by it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached

from server import coupons, donations, ledger, tokens, value_remaining
from server.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    ServerError,
    invalid,
    not_found,
    shorten,
)
from server.models import Intent, Merchant, PaymentCodeRow, Refund, Terminal, Wallet, table_of
from server.models import Payment as PaymentRow
from server.settings import Settings, iso_utc
from terminal import emv, paycode, protocol
from terminal.protocol import ErrorCode, TaxLine

logger = logging.getLogger(__name__)

MAX_PAYMENT_LIST = 200

_Row = TypeVar("_Row", PaymentRow, Refund)

_METHODS: dict[str, Literal["mpm", "cpm", "offline"]] = {
    "mpm": "mpm", "cpm": "cpm", "offline": "offline",
}

# Rejections of a wallet's pay call that leave the intent pending and that the clerk can act
# on, so they are recorded on the intent for the terminal. The others are left out: the
# intent's status already shows an expired, cancelled or paid intent, and an idempotency
# conflict or an invalid body is the wallet app's own fault.
RECORDED_REJECTIONS = frozenset({
    ErrorCode.INSUFFICIENT_FUNDS,
    # NOTE: pay_intent does not reject blocked wallets yet, because only their requests for an
    # offline certificate are rejected. The code is listed so that such a rejection is recorded.
    ErrorCode.WALLET_BLOCKED,
    ErrorCode.AMOUNT_MISMATCH,
    *(code for code in ErrorCode if code.value.startswith("coupon_")),
})

# --- statements ----------------------------------------------------------------------------

_INTENTS = table_of(Intent)
_MERCHANTS = table_of(Merchant)
_WALLETS = table_of(Wallet)
_CODES = table_of(PaymentCodeRow)
_PAYMENTS = table_of(PaymentRow)
_REFUNDS = table_of(Refund)

# The merchant's columns are read here, not in a statement of their own, to spare the payment
# a round trip. They are read again by every request, so a changed shop applies at once.
_LOCK_INTENT = (
    select(_INTENTS, _MERCHANTS.c.account_id.label("merchant_account_id"),
           _MERCHANTS.c.is_local, _MERCHANTS.c.merchant_category_code)
    .join_from(_INTENTS, _MERCHANTS, _INTENTS.c.merchant_id == _MERCHANTS.c.id)
    .where(_INTENTS.c.id == bindparam("intent_id"))
    .with_for_update(of=_INTENTS)
)
_APPROVE_INTENT = (
    update(_INTENTS)
    .where(_INTENTS.c.id == bindparam("intent_id"))
    .values(status="approved", payment_id=bindparam("approved_payment_id"))
)
_RECORD_REJECTION = (
    update(_INTENTS)
    .where(_INTENTS.c.id == bindparam("intent_id"), _INTENTS.c.status == "pending",
           _INTENTS.c.expires_at > bindparam("rejected_at"))
    .values(last_rejection_code=bindparam("rejection_code"),
            last_rejection_at=bindparam("rejected_at"))
)
_LOCK_CODE = (
    select(_CODES, _WALLETS.c.account_id.label("wallet_account_id"),
           _WALLETS.c.show_balance_on_receipt)
    .join_from(_CODES, _WALLETS, _CODES.c.wallet_id == _WALLETS.c.id)
    .where(_CODES.c.code_hash == bindparam("code_hash"))
    .with_for_update(of=_CODES)
)
_USE_CODE = (
    update(_CODES)
    .where(_CODES.c.code_hash == bindparam("used_code_hash"))
    .values(payment_id=bindparam("used_payment_id"))
)
_MERCHANT_ACCOUNT = select(
    _MERCHANTS.c.account_id, _MERCHANTS.c.is_local, _MERCHANTS.c.merchant_category_code
).where(_MERCHANTS.c.id == bindparam("merchant_id"))
_LOCK_PAYMENT = (
    select(_PAYMENTS).where(_PAYMENTS.c.id == bindparam("payment_id")).with_for_update()
)
_ADD_REFUNDED = (
    update(_PAYMENTS)
    .where(_PAYMENTS.c.id == bindparam("payment_id"))
    .values(refunded_yen=_PAYMENTS.c.refunded_yen + bindparam("refund_yen"))
)
_FIND_REFUND = select(_REFUNDS.c.seq).where(
    _REFUNDS.c.terminal_id == bindparam("terminal_id"),
    _REFUNDS.c.idempotency_key == bindparam("idempotency_key"),
)


@dataclass(frozen=True)
class IntentView:
    """An intent with its status as of ``now`` and its payment, if any."""

    intent: Intent
    status: protocol.IntentStatus
    payment: PaymentRow | None


@dataclass(frozen=True)
class ReceivingMerchant:
    """The ledger account of the merchant that a payment pays, and what it may receive."""

    account_id: str
    acceptance: ledger.Acceptance


# --- checks --------------------------------------------------------------------------------


def check_amount(amount_yen: int, settings: Settings, field: str = "amount_yen") -> None:
    """Reject amounts outside 1..max_amount_yen with a message naming the value."""
    if not 1 <= amount_yen <= settings.max_amount_yen:
        raise invalid(
            f"{field} {amount_yen} is out of range; allowed: 1 to {settings.max_amount_yen} yen"
        )


def check_tax_lines(
    tax_lines: list[TaxLine], amount_yen: int, coupon: protocol.CouponUse | None = None
) -> None:
    """Check that the tax lines add up to the sale total.

    With a coupon the sale total is ``coupon.total_yen``: the wallet pays ``amount_yen`` and the
    coupon's issuer pays the discount, so the shop's sale (and its tax) is the whole total.
    """
    if not tax_lines:
        return
    total_yen = sum(line.amount_yen for line in tax_lines)
    expected_yen = amount_yen if coupon is None else coupon.total_yen
    if total_yen != expected_yen:
        named = "amount_yen" if coupon is None else "coupon.total_yen"
        raise invalid(
            f"tax_lines add up to {total_yen} yen but {named} is {expected_yen}; the lines"
            " must sum to the sale total"
        )


# --- merchant-presented mode ---------------------------------------------------------------


def create_intent(
    session: Session, terminal: Terminal, request: protocol.IntentCreate, settings: Settings
) -> IntentView:
    """Create a pending intent with its EMV payload, or return the one made with the same key."""
    check_amount(request.amount_yen, settings)
    check_tax_lines(request.tax_lines, request.amount_yen, request.coupon)
    now = settings.clock()
    tax_lines = _tax_json(request.tax_lines)

    existing = session.scalars(
        select(Intent).where(Intent.terminal_id == terminal.id,
                             Intent.idempotency_key == request.idempotency_key)
    ).one_or_none()
    if existing is not None:
        _check_same_intent(existing, request, tax_lines)
        return view_intent(session, existing, now)

    merchant = session.get(Merchant, terminal.merchant_id)
    assert merchant is not None
    intent_id = tokens.new_intent_id()
    payload = emv.build_mpm_payload(
        merchant_name=merchant.name_ascii,
        merchant_city=merchant.city_ascii,
        merchant_name_ja=merchant.name,
        amount_yen=request.amount_yen,
        reference_label=intent_id,
        terminal_label=terminal.label,
        merchant_category_code=merchant.merchant_category_code,
        merchant_id=merchant.id,
    )
    intent = Intent(
        id=intent_id, terminal_id=terminal.id, merchant_id=merchant.id,
        idempotency_key=request.idempotency_key, amount_yen=request.amount_yen,
        tax_lines=tax_lines, payload=payload, status="pending", created_at=now,
        expires_at=now + timedelta(seconds=settings.intent_ttl_s),
    )
    session.add(intent)
    session.flush()
    if request.coupon is not None:
        coupons.store_intent_coupon(session, intent_id, merchant.id, request.coupon,
                                    request.amount_yen, now)
    logger.info("intent %s created by terminal %s for %d yen", intent_id, terminal.id,
                request.amount_yen)
    return IntentView(intent, "pending", None)


def _check_same_intent(
    existing: Intent, request: protocol.IntentCreate, tax_lines: list[dict[str, int]]
) -> None:
    """Raise ``IdempotencyConflict`` naming the parameter that differs from the first request."""
    if existing.amount_yen != request.amount_yen:
        difference = f"amount_yen {existing.amount_yen}, not {request.amount_yen}"
    elif existing.tax_lines != tax_lines:
        first_lines = _show_tax_lines(existing.tax_lines)
        difference = f"tax_lines {first_lines}, not {_show_tax_lines(tax_lines)}"
    else:
        return
    raise IdempotencyConflict(
        f"idempotency_key {request.idempotency_key} already created intent {existing.id} with"
        f" {difference}; repeat the first request unchanged, or use a new key for a new sale"
    )


def _show_tax_lines(tax_lines: list[dict[str, int]]) -> str:
    if not tax_lines:
        return "[] (none)"
    return "[" + ", ".join(
        f"{line['rate_percent']}%: {line['amount_yen']} yen" for line in tax_lines
    ) + "]"


def _intent_not_found(intent_id: str) -> ServerError:
    return not_found(f"intent {shorten(intent_id)} does not exist for this merchant;"
                     " check the intent id or create a new intent")


def _payment_not_found(payment_id: str) -> ServerError:
    return not_found(f"payment {shorten(payment_id)} does not exist for this merchant;"
                     " check the payment id, e.g. in GET /v1/payments")


def read_intent(session: Session, terminal: Terminal, intent_id: str, now: datetime) -> IntentView:
    intent = session.get(Intent, intent_id)
    if intent is None or intent.merchant_id != terminal.merchant_id:
        raise _intent_not_found(intent_id)
    return view_intent(session, intent, now)


def view_intent(session: Session, intent: Intent, now: datetime) -> IntentView:
    status: protocol.IntentStatus
    if intent.status == "pending" and now >= intent.expires_at:
        status = "expired"
    elif intent.status in ("pending", "approved", "cancelled"):
        status = intent.status  # type: ignore[assignment]
    else:
        raise AssertionError(f"intent {intent.id} has unknown status {intent.status}")
    payment = _payment_by_id(session, intent.payment_id) if intent.payment_id else None
    return IntentView(intent, status, payment)


def cancel_intent(
    session: Session, terminal: Terminal, intent_id: str, now: datetime
) -> IntentView:
    """Cancel a pending intent; cancelling twice is harmless, cancelling a paid one fails."""
    intent = _lock_intent(session, intent_id)
    if intent is None or intent.merchant_id != terminal.merchant_id:
        raise _intent_not_found(intent_id)
    if intent.status == "approved":
        raise ServerError(ErrorCode.INTENT_ALREADY_PAID,
                          f"intent {intent_id} is already paid; refund the payment instead")
    if intent.status == "pending" and now < intent.expires_at:
        intent.status = "cancelled"
        session.flush()
        logger.info("intent %s cancelled by terminal %s", intent_id, terminal.id)
    return view_intent(session, intent, now)


def pay_intent(
    session: Session, wallet: Wallet, intent_id: str, request: protocol.IntentPay,
    settings: Settings,
) -> PaymentRow:
    """Pay a pending intent from the wallet; the same key again returns the same payment."""
    check_amount(request.amount_yen, settings)
    now = settings.clock()
    transfer_id = f"mpm:{wallet.id}:{request.idempotency_key}"
    connection = session.connection()
    intent = connection.execute(_LOCK_INTENT, {"intent_id": intent_id}).first()
    if intent is None:
        raise not_found(
            f"intent {shorten(intent_id)} does not exist; scan the shop's QR code again"
        )

    if intent.status == "approved":
        assert intent.payment_id is not None
        payment = _payment_by_id(session, intent.payment_id)
        if payment.transfer_id != transfer_id:
            raise ServerError(ErrorCode.INTENT_ALREADY_PAID,
                              f"intent {intent_id} is already paid; do not pay it again")
        if payment.amount_yen != request.amount_yen:
            raise IdempotencyConflict(
                f"idempotency_key {request.idempotency_key} already paid {payment.amount_yen}"
                f" yen, not {request.amount_yen}; repeat the first request unchanged"
            )
        return payment
    if intent.status == "cancelled":
        raise ServerError(ErrorCode.INTENT_CANCELLED,
                          f"intent {intent_id} was cancelled by the shop; ask for a new QR code")
    if now >= intent.expires_at:
        raise ServerError(ErrorCode.INTENT_EXPIRED,
                          f"intent {intent_id} expired at {iso_utc(intent.expires_at)};"
                          " ask the shop for a new QR code")
    if request.amount_yen != intent.amount_yen:
        raise ServerError(
            ErrorCode.AMOUNT_MISMATCH,
            f"amount_yen {request.amount_yen} does not match intent {intent_id},"
            f" which is for {intent.amount_yen} yen; send the amount from the QR code",
        )

    payment = book_payment(
        session, wallet_id=wallet.id, wallet_account_id=wallet.account_id,
        merchant_id=intent.merchant_id, merchant_account_id=intent.merchant_account_id,
        terminal_id=intent.terminal_id, transfer_id=transfer_id, amount_yen=intent.amount_yen,
        method="mpm", tax_lines=intent.tax_lines, now=now,
        coupon=coupons.intent_coupon(session, intent_id), acceptance=_acceptance_of(intent),
        # Read with the wallet's token at the start of this request.
        show_balance_on_receipt=wallet.show_balance_on_receipt,
    )
    connection.execute(_APPROVE_INTENT, {"intent_id": intent_id, "approved_payment_id": payment.id})
    return payment


def record_rejection(session: Session, intent_id: str, code: ErrorCode, now: datetime) -> bool:
    """Store ``code`` as the intent's latest rejection; return False if it is no longer pending.

    The caller runs this in its own transaction after the pay call's transaction rolled back.
    """
    values = {"intent_id": intent_id, "rejection_code": code.value, "rejected_at": now}
    result = session.connection().execute(_RECORD_REJECTION, values)
    recorded = bool(result.rowcount == 1)
    if recorded:
        logger.info("intent %s: wallet pay call rejected with %s, recorded for the terminal",
                    intent_id, code.value)
    return recorded


# --- consumer-presented mode ---------------------------------------------------------------


def redeem_code(
    session: Session, terminal: Terminal, request: protocol.CpmRedeem, settings: Settings
) -> PaymentRow:
    """Charge the wallet behind a scanned one-time code; a code is charged at most once."""
    check_amount(request.amount_yen, settings)
    check_tax_lines(request.tax_lines, request.amount_yen, request.coupon)
    now = settings.clock()
    try:
        code = paycode.validate_payment_code(request.code)
    except paycode.PaymentCodeError as exc:
        raise ServerError(ErrorCode.CODE_INVALID, f"{exc}; scan the code again") from None

    transfer_id = f"cpm:{terminal.id}:{request.idempotency_key}"
    code_hash = tokens.sha256_hex(code)
    connection = session.connection()
    row = connection.execute(_LOCK_CODE, {"code_hash": code_hash}).first()
    if row is None:
        raise ServerError(
            ErrorCode.CODE_INVALID,
            f"payment code {paycode.mask_payment_code(code)} is not known;"
            " ask the customer for a new code",
        )
    if row.payment_id is not None:
        return _repeated_redeem(session, row.payment_id, transfer_id, request)
    if now >= row.expires_at:
        raise ServerError(
            ErrorCode.CODE_EXPIRED,
            f"payment code {paycode.mask_payment_code(code)} has expired;"
            " ask the customer for a new code",
        )

    merchant = receiving_merchant(connection, terminal.merchant_id)
    payment = book_payment(
        session, wallet_id=row.wallet_id, wallet_account_id=row.wallet_account_id,
        merchant_id=terminal.merchant_id, merchant_account_id=merchant.account_id,
        terminal_id=terminal.id, transfer_id=transfer_id, amount_yen=request.amount_yen,
        method="cpm", tax_lines=_tax_json(request.tax_lines), now=now, coupon=request.coupon,
        acceptance=merchant.acceptance, show_balance_on_receipt=row.show_balance_on_receipt,
    )
    connection.execute(_USE_CODE, {"used_code_hash": code_hash, "used_payment_id": payment.id})
    return payment


def _repeated_redeem(
    session: Session, payment_id: str, transfer_id: str, request: protocol.CpmRedeem
) -> PaymentRow:
    payment = _payment_by_id(session, payment_id)
    if payment.transfer_id != transfer_id:
        raise ServerError(ErrorCode.CODE_USED,
                          "payment code was already used; ask the customer for a new code")
    if payment.amount_yen != request.amount_yen:
        raise IdempotencyConflict(
            f"idempotency_key {request.idempotency_key} already charged {payment.amount_yen}"
            f" yen, not {request.amount_yen}; repeat the first request unchanged"
        )
    return payment


# --- payments and refunds ------------------------------------------------------------------


def list_payments(session: Session, terminal: Terminal, limit: int) -> list[PaymentRow]:
    """Return the merchant's payments, newest first."""
    query = (
        select(PaymentRow)
        .where(PaymentRow.merchant_id == terminal.merchant_id)
        .order_by(PaymentRow.created_at.desc(), PaymentRow.seq.desc())
        .limit(limit)
    )
    return list(session.scalars(query))


def read_payment(session: Session, terminal: Terminal, payment_id: str) -> PaymentRow:
    payment = session.scalars(select(PaymentRow).where(PaymentRow.id == payment_id)).one_or_none()
    if payment is None or payment.merchant_id != terminal.merchant_id:
        raise _payment_not_found(payment_id)
    return payment


def refund_payment(
    session: Session, terminal: Terminal, payment_id: str, request: protocol.RefundCreate,
    settings: Settings,
) -> Refund:
    """Return part or all of a payment to the wallet, in the kinds it was paid with."""
    check_amount(request.amount_yen, settings)
    now = settings.clock()
    connection = session.connection()
    payment = connection.execute(_LOCK_PAYMENT, {"payment_id": payment_id}).first()
    # Another merchant's payment gets the same response as a missing one, so a terminal cannot
    # learn which payment ids exist elsewhere.
    if payment is None or payment.merchant_id != terminal.merchant_id:
        raise _payment_not_found(payment_id)

    existing = _find_refund(connection, session, terminal.id, request.idempotency_key)
    if existing is not None:
        if existing.payment_id != payment_id or existing.amount_yen != request.amount_yen:
            raise IdempotencyConflict(
                f"idempotency_key {request.idempotency_key} already refunded"
                f" {existing.amount_yen} yen of payment {existing.payment_id}; repeat the first"
                " request unchanged, or use a new key for a new refund"
            )
        return existing

    left_yen = payment.amount_yen - payment.refunded_yen
    if request.amount_yen > left_yen:
        raise ServerError(
            ErrorCode.REFUND_EXCEEDS_PAYMENT,
            f"refund of {request.amount_yen} yen exceeds the {left_yen} yen not yet refunded"
            f" of payment {payment_id} ({payment.amount_yen} yen); refund at most {left_yen} yen",
        )

    transfer_id = f"refund:{terminal.id}:{request.idempotency_key}"
    refund_id = tokens.new_id("r")
    # A shop-funded donation came out of this payment, so it comes back before the refund.
    donations.reverse_for_refund(session, _payment_by_id(session, payment_id),
                                 refund_id=refund_id, refund_yen=request.amount_yen, now=now)
    try:
        ledger.reverse(session, transfer_id=transfer_id, original_transfer_id=payment.transfer_id,
                       amount_yen=request.amount_yen, now=now, other_held_value=True)
    except IdempotencyConflict as exc:
        logger.info("refund on payment %s rejected: %s", payment_id, exc.message)
        raise _key_used(request.idempotency_key, "refund") from None
    connection.execute(_ADD_REFUNDED, {"payment_id": payment_id, "refund_yen": request.amount_yen})
    refund = _insert_returning(session, Refund, {
        "id": refund_id, "payment_id": payment_id, "terminal_id": terminal.id,
        "idempotency_key": request.idempotency_key, "transfer_id": transfer_id,
        "amount_yen": request.amount_yen, "created_at": now,
    })
    coupons.on_refund(session, _payment_by_id(session, payment_id), refund, now=now)
    logger.info("refund %s of %d yen on payment %s", refund.id, request.amount_yen, payment_id)
    return refund


# --- wire models ---------------------------------------------------------------------------


def payment_model(session: Session, payment: PaymentRow) -> protocol.Payment:
    return _payment_model(payment, coupons.applied_coupon(session, payment.id),
                          donations.payment_donations(session, payment.id))


def payment_models(session: Session, rows: Sequence[PaymentRow]) -> list[protocol.Payment]:
    """Return ``payment_model`` of many payments, reading donations and coupon uses once."""
    ids = [row.id for row in rows]
    donated = donations.donations_by_payment(session, ids)
    with_coupon = coupons.payments_with_coupon(session, ids)
    return [
        _payment_model(row,
                       coupons.applied_coupon(session, row.id) if row.id in with_coupon else None,
                       donated.get(row.id, []))
        for row in rows
    ]


def _payment_model(payment: PaymentRow, coupon: protocol.CouponApplied | None,
                   donated: list[protocol.DonationLine]) -> protocol.Payment:
    remaining = payment.wallet_remaining
    return protocol.Payment(
        payment_id=payment.id,
        merchant_id=payment.merchant_id,
        terminal_id=payment.terminal_id,
        amount_yen=payment.amount_yen,
        refunded_yen=payment.refunded_yen,
        method=_METHODS[payment.method],
        created_at=iso_utc(payment.created_at),
        tax_lines=[TaxLine.model_validate(line) for line in payment.tax_lines],
        kinds={protocol.ValueKind(kind): amount for kind, amount in payment.kinds.items()},
        coupon=coupon,
        donations=donated,
        remaining=(None if remaining is None
                   else [protocol.RemainingValue.model_validate(item) for item in remaining]),
    )


def intent_model(session: Session, view: IntentView, now: datetime) -> protocol.Intent:
    intent = view.intent
    return protocol.Intent(
        intent_id=intent.id,
        amount_yen=intent.amount_yen,
        status=view.status,
        payload=intent.payload,
        created_at=iso_utc(intent.created_at),
        expires_at=iso_utc(intent.expires_at),
        server_time=iso_utc(now),
        payment=payment_model(session, view.payment) if view.payment is not None else None,
        last_rejection=_rejection_model(intent),
    )


def _rejection_model(intent: Intent) -> protocol.IntentRejection | None:
    if intent.last_rejection_code is None or intent.last_rejection_at is None:
        return None
    return protocol.IntentRejection(code=intent.last_rejection_code,
                                    at=iso_utc(intent.last_rejection_at))


def refund_model(session: Session, refund: Refund) -> protocol.Refund:
    payment = _payment_by_id(session, refund.payment_id)
    return protocol.Refund(
        refund_id=refund.id,
        payment_id=refund.payment_id,
        amount_yen=refund.amount_yen,
        created_at=iso_utc(refund.created_at),
        payment=payment_model(session, payment),
        kinds=ledger.transfer_kinds(session, refund.transfer_id),
    )


# --- internals -----------------------------------------------------------------------------


def book_payment(
    session: Session, *, wallet_id: str, wallet_account_id: str, merchant_id: str,
    merchant_account_id: str, terminal_id: str, transfer_id: str, amount_yen: int, method: str,
    tax_lines: list[dict[str, int]], now: datetime, coupon: protocol.CouponUse | None = None,
    acceptance: ledger.Acceptance | None = None, show_balance_on_receipt: bool | None = None,
) -> PaymentRow:
    """Pay the merchant from the wallet's account and insert the payment row.

    The wallet spends only value the merchant may receive (``acceptance``). A coupon is
    redeemed, and donation shares are booked, in the same transaction. The handlers pass the
    shop's ``acceptance`` and the wallet's ``show_balance_on_receipt`` as read with the rows
    they lock. When a caller leaves either as None, it is read here, one statement each.
    """
    if acceptance is None:
        acceptance = ledger.acceptance_for(session, merchant_id)
    checked_coupon = None
    if coupon is not None:
        checked_coupon = coupons.check_for_payment(session, coupon, merchant_id=merchant_id,
                                                   wallet_id=wallet_id, amount_yen=amount_yen,
                                                   now=now)
    try:
        result = ledger.pay(session, transfer_id=transfer_id, source_id=wallet_account_id,
                            destination_id=merchant_account_id, amount_yen=amount_yen, now=now,
                            acceptance=acceptance)
    except InsufficientFunds as exc:
        # The ledger's message names the wallet and its balance, which the shop must not see.
        logger.info("%s payment of %d yen from wallet %s to merchant %s rejected: %s", method,
                    amount_yen, wallet_id, merchant_id, exc.message)
        raise InsufficientFunds(_insufficient_message(method, amount_yen)) from None
    except IdempotencyConflict as exc:
        logger.info("%s payment from wallet %s to merchant %s rejected: %s", method, wallet_id,
                    merchant_id, exc.message)
        raise _key_used(_key_of(transfer_id), "payment") from None
    if not result.created:
        # The key already paid something else with the same amount and merchant.
        raise _key_used(_key_of(transfer_id), "payment")
    wallet_remaining = _wallet_remaining(
        session, method=method, wallet_id=wallet_id, wallet_account_id=wallet_account_id,
        show_balance_on_receipt=show_balance_on_receipt, now=now,
    )
    payment = _insert_returning(session, PaymentRow, {
        "id": tokens.new_id("p"), "merchant_id": merchant_id, "terminal_id": terminal_id,
        "wallet_id": wallet_id, "transfer_id": transfer_id, "method": method,
        "amount_yen": amount_yen, "refunded_yen": 0, "tax_lines": tax_lines,
        "kinds": {kind.value: amount for kind, amount in result.kinds.items()}, "created_at": now,
        "wallet_remaining": wallet_remaining,
    })
    logger.info("payment %s: %s %d yen from wallet %s to merchant %s", payment.id, method,
                amount_yen, wallet_id, merchant_id)
    if coupon is not None and checked_coupon is not None:
        coupons.redeem_checked(session, payment, checked_coupon, coupon, now=now)
    # NOTE: every payment still reads the active donation campaigns in a statement of its own,
    # because the operator can move a campaign's end at any time and the payment must see the
    # current one. The handlers run at 0.1 to 0.3 of a raw-SQL baseline that issues only the
    # ledger's writes (benchmarks/BENCHMARKS.md).
    donations.book_for_payment(session, payment, now=now)
    return payment


def receiving_merchant(connection: Connection, merchant_id: str) -> ReceivingMerchant:
    """Read the merchant's ledger account and acceptance in one statement."""
    row = connection.execute(_MERCHANT_ACCOUNT, {"merchant_id": merchant_id}).one()
    return ReceivingMerchant(str(row.account_id), _acceptance_of(row))


def merchant_account_id(connection: Connection, merchant_id: str) -> str:
    return receiving_merchant(connection, merchant_id).account_id


def _acceptance_of(row: Any) -> ledger.Acceptance:
    """Return the acceptance of a row that has the merchant's is_local and category columns."""
    return ledger.Acceptance(local=bool(row.is_local),
                             merchant_category=row.merchant_category_code)


def _wallet_remaining(
    session: Session, *, method: str, wallet_id: str, wallet_account_id: str,
    show_balance_on_receipt: bool | None, now: datetime,
) -> list[dict[str, Any]] | None:
    """Return what the payment row stores as the wallet's remaining value, or None."""
    # An offline payment is booked at sync, after its receipt was printed, so what the wallet
    # holds by then says nothing about that sale.
    if method == "offline":
        return None
    if show_balance_on_receipt is None:
        return value_remaining.remaining_for_receipt(session, wallet_id, now=now)
    if not show_balance_on_receipt:
        return None
    return value_remaining.stored_remaining(session, wallet_account_id, now=now)


def _insufficient_message(method: str, amount_yen: int) -> str:
    if method == "mpm":
        return (f"the wallet's balance does not cover {amount_yen} yen;"
                " top up the wallet or pay another way")
    return (f"the customer's balance does not cover {amount_yen} yen;"
            " ask the customer to pay another way")


def _key_used(idempotency_key: str, operation: str) -> IdempotencyConflict:
    return IdempotencyConflict(
        f"idempotency_key {idempotency_key} was already used for a different {operation};"
        f" repeat the first request unchanged, or use a new key for a new {operation}"
    )


def _key_of(transfer_id: str) -> str:
    """Return the client's idempotency key from a transfer id such as ``cpm:t_x:KEY``."""
    return transfer_id.rsplit(":", 1)[-1]


def _lock_intent(session: Session, intent_id: str) -> Intent | None:
    query = select(Intent).where(Intent.id == intent_id).with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one_or_none()


def _payment_by_id(session: Session, payment_id: str) -> PaymentRow:
    # Refunds update the row with a Core statement, so a copy in the session may be stale.
    query = select(PaymentRow).where(PaymentRow.id == payment_id)
    return session.scalars(query.execution_options(populate_existing=True)).one()


def _find_refund(
    connection: Connection, session: Session, terminal_id: str, idempotency_key: str
) -> Refund | None:
    """Return the refund this terminal made with ``idempotency_key``, loading it only if found."""
    seq = connection.execute(
        _FIND_REFUND, {"terminal_id": terminal_id, "idempotency_key": idempotency_key}
    ).scalar()
    return None if seq is None else session.get(Refund, seq)


def _insert_returning(session: Session, model: type[_Row], values: dict[str, Any]) -> _Row:
    """Insert one row with Core and return it as a persistent object of ``model``.

    The database generates only ``seq``, which ``RETURNING`` sends back; every other column
    is already in ``values``. Marking the object detached and adding it makes it persistent
    without a SELECT or a flush.
    """
    table = table_of(model)
    statement = insert(table).returning(table.c.seq)
    seq = session.connection().execute(statement, values).scalar_one()
    row = model(seq=seq, **values)
    make_transient_to_detached(row)
    session.add(row)
    return row


def _tax_json(tax_lines: list[TaxLine]) -> list[dict[str, int]]:
    return [{"rate_percent": line.rate_percent, "amount_yen": line.amount_yen} for line in tax_lines]
