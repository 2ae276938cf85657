"""Cash-outs: a merchant turns its coin into yen on its bank account.

A request takes ``amount_yen`` from the merchant's balance in one transaction. The fee goes to
the operator's fee account and the rest (``net_yen``) to the payout clearing account. Each is
a ledger transfer whose id is built from the merchant and the request's idempotency key. The
merchant's balance counts every lot it holds, expired premium points included
(``ledger.held_balance``), and a cash-out spends the oldest lots first, so the lots of recent
sales, the ones most likely to be refunded, stay with the merchant.

A refund after a cash-out is still possible: ``ledger.reverse`` takes the rest from other
value the shop holds once the payment's own lots are spent.

States: requested -> in_file (``server.payouts`` wrote it into a transfer file) -> paid or
failed. Paid retires the net amount from the clearing account to the issuance account, since
the coin became yen at the bank. Failed returns the net amount and the fee to the merchant,
each lot with its kind and expiry: the payout did not happen, so no fee is kept, and the
month's volume no longer counts it.

Concurrency: a request locks the merchant's row before it reads the month's volume and the
balance, so two requests at once are priced and booked one after the other. The ledger then
rejects the second if the balance no longer covers it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import bank_accounts, business_days, fees, ledger, payments, tokens
from server.errors import IdempotencyConflict, InsufficientFunds, ServerError, invalid, not_found
from server.models import (
    FEE_ACCOUNT_ID,
    ISSUANCE_ACCOUNT_ID,
    PAYOUT_CLEARING_ACCOUNT_ID,
    CashOut,
    Merchant,
    MerchantBankAccount,
    Terminal,
)
from server.settings import Settings, iso_utc
from terminal import protocol
from terminal.japan_time import to_japan_time
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

REQUESTED = "requested"
IN_FILE = "in_file"
PAID = "paid"
FAILED = "failed"
_OPEN_STATUSES = (REQUESTED, IN_FILE)


@dataclass(frozen=True)
class Pricing:
    """The price of a cash-out of ``amount_yen`` requested now, and its payout date."""

    amount_yen: int
    balance_yen: int
    plan: fees.FeePlan
    month: str
    month_volume_yen: int
    quote: fees.FeeQuote
    payout_date: date

    @property
    def net_yen(self) -> int:
        return self.amount_yen - self.quote.fee_yen


# --- balance -------------------------------------------------------------------------------


def merchant_balance(session: Session, merchant_id: str) -> protocol.MerchantBalance:
    """Return what the merchant holds, and the net amount of cash-outs not yet paid."""
    kinds = ledger.held_balance(session, _account_id(session, merchant_id))
    pending_yen = session.scalar(
        select(func.coalesce(func.sum(CashOut.net_yen), 0))
        .where(CashOut.merchant_id == merchant_id, CashOut.status.in_(_OPEN_STATUSES))
    )
    return protocol.MerchantBalance(merchant_id=merchant_id, total_yen=sum(kinds.values()),
                                    kinds=kinds, pending_payout_yen=int(pending_yen or 0))


# --- requests ------------------------------------------------------------------------------


def price(session: Session, merchant_id: str, amount_yen: int, settings: Settings) -> Pricing:
    """Price a cash-out of ``amount_yen`` requested now; raise if it cannot be made."""
    payments.check_amount(amount_yen, settings)
    now = settings.clock()
    plan = fees.plan_for_merchant(session, merchant_id)
    month = month_of(now)
    volume_yen, fixed_charged = _month_so_far(session, merchant_id, month)
    quote = fees.quote(plan, volume_yen, amount_yen, fixed_due=not fixed_charged)
    balance_yen = sum(ledger.held_balance(session, _account_id(session, merchant_id)).values())
    pricing = Pricing(amount_yen, balance_yen, plan, month, volume_yen, quote,
                      business_days.payout_date(now, settings.payout_cutoff))

    if amount_yen > balance_yen:
        raise InsufficientFunds(f"cash-out of {amount_yen} yen exceeds the balance of"
                                f" {balance_yen} yen; cash out at most {balance_yen} yen")
    if pricing.net_yen < 1:
        raise ServerError(
            ErrorCode.AMOUNT_BELOW_FEE,
            f"cash-out of {amount_yen} yen does not cover its fee of {quote.fee_yen} yen"
            f" ({quote.fixed_fee_yen} yen monthly, {quote.metered_fee_yen} yen metered);"
            " cash out a larger amount",
        )
    return pricing


def preview(
    session: Session, terminal: Terminal, amount_yen: int, settings: Settings
) -> protocol.CashOutPreview:
    """Return the fee, net amount and payout date a cash-out of ``amount_yen`` would get now."""
    account = bank_accounts.bank_account_for_cash_out(session, terminal.merchant_id)
    pricing = price(session, terminal.merchant_id, amount_yen, settings)
    return protocol.CashOutPreview(
        amount_yen=amount_yen, balance_yen=pricing.balance_yen, fee_yen=pricing.quote.fee_yen,
        fixed_fee_yen=pricing.quote.fixed_fee_yen,
        metered_fee_yen=pricing.quote.metered_fee_yen, net_yen=pricing.net_yen,
        payout_date=pricing.payout_date.isoformat(), fee_plan=pricing.plan.name,
        month=pricing.month, month_volume_yen=pricing.month_volume_yen,
        bank_account=_account_summary(account),
    )


def request_cash_out(
    session: Session, merchant_id: str, amount_yen: int, idempotency_key: str,
    settings: Settings, *, terminal_id: str | None = None, cause_id: str | None = None,
) -> CashOut:
    """Book a cash-out; the same idempotency key again returns the first one.

    ``cause_id`` names the donation cause whose value the merchant received to pay it out
    (``server.donation_payouts``); it is only recorded on the row.
    """
    _lock_merchant(session, merchant_id)
    existing = session.scalars(
        select(CashOut).where(CashOut.merchant_id == merchant_id,
                              CashOut.idempotency_key == idempotency_key)
    ).one_or_none()
    if existing is not None:
        if existing.amount_yen != amount_yen:
            raise IdempotencyConflict(
                f"idempotency_key {idempotency_key} already requested cash-out {existing.id}"
                f" of {existing.amount_yen} yen, not {amount_yen}; repeat the first request"
                " unchanged, or use a new key for a new cash-out"
            )
        return existing

    account = bank_accounts.bank_account_for_cash_out(session, merchant_id)
    pricing = price(session, merchant_id, amount_yen, settings)
    now = settings.clock()
    try:
        _book(session, merchant_id, idempotency_key, pricing, now)
    except InsufficientFunds:
        # Only a refund or a merchant transfer committed since ``price`` read the balance.
        balance_yen = sum(ledger.held_balance(session, _account_id(session, merchant_id)).values())
        raise InsufficientFunds(
            f"cash-out of {amount_yen} yen exceeds the balance of {balance_yen} yen;"
            f" cash out at most {balance_yen} yen"
        ) from None
    row = CashOut(
        id=tokens.new_id("co"), merchant_id=merchant_id, terminal_id=terminal_id,
        cause_id=cause_id, idempotency_key=idempotency_key, month=pricing.month,
        amount_yen=amount_yen,
        fee_yen=pricing.quote.fee_yen, fixed_fee_yen=pricing.quote.fixed_fee_yen,
        metered_fee_yen=pricing.quote.metered_fee_yen, net_yen=pricing.net_yen,
        fee_plan=pricing.plan.name, status=REQUESTED, payout_date=pricing.payout_date,
        bank_code=account.bank_code, branch_code=account.branch_code,
        account_type=account.account_type, account_number=account.account_number,
        holder_name=account.holder_name, created_at=now,
    )
    session.add(row)
    session.flush()
    logger.info("cash-out %s of merchant %s: %d yen, fee %d yen, payout on %s", row.id,
                merchant_id, amount_yen, pricing.quote.fee_yen, pricing.payout_date)
    return row


def _book(
    session: Session, merchant_id: str, idempotency_key: str, pricing: Pricing, now: datetime
) -> None:
    account_id = _account_id(session, merchant_id)
    base_id = _transfer_base(merchant_id, idempotency_key)
    ledger.pay_held(session, transfer_id=f"{base_id}:net", source_id=account_id,
                    destination_id=PAYOUT_CLEARING_ACCOUNT_ID, amount_yen=pricing.net_yen,
                    now=now)
    if pricing.quote.fee_yen > 0:
        ledger.pay_held(session, transfer_id=f"{base_id}:fee", source_id=account_id,
                        destination_id=FEE_ACCOUNT_ID, amount_yen=pricing.quote.fee_yen,
                        now=now)


# --- payout results ------------------------------------------------------------------------


def settle(
    session: Session, cash_out_id: str, *, paid: bool, now: datetime, reason: str | None = None
) -> CashOut:
    """Mark an in-file cash-out paid or failed; marking it the same way again changes nothing."""
    row = session.scalars(
        select(CashOut).where(CashOut.id == cash_out_id).with_for_update()
    ).one_or_none()
    if row is None:
        raise not_found(f"cash-out {cash_out_id} does not exist; run chiiki-settle cash-outs"
                        " to list them")
    outcome = PAID if paid else FAILED
    if row.status == outcome:
        return row
    if row.status != IN_FILE:
        raise invalid(f"cash-out {cash_out_id} is {row.status}, so it cannot be marked"
                      f" {outcome}; only a cash-out in a transfer file (in_file) can")

    base_id = _transfer_base(row.merchant_id, row.idempotency_key)
    if paid:
        ledger.pay_held(session, transfer_id=f"{base_id}:retire",
                        source_id=PAYOUT_CLEARING_ACCOUNT_ID, destination_id=ISSUANCE_ACCOUNT_ID,
                        amount_yen=row.net_yen, now=now, delivered_by=f"{base_id}:net")
    else:
        _return_to_merchant(session, row, base_id, now)
    row.status = outcome
    row.settled_at = now
    row.failure_reason = None if paid else (reason or "failed")[:200]
    session.flush()
    logger.info("cash-out %s of merchant %s %s", row.id, row.merchant_id, outcome)
    return row


def _return_to_merchant(session: Session, row: CashOut, base_id: str, now: datetime) -> None:
    ledger.reverse(session, transfer_id=f"{base_id}:net-return",
                   original_transfer_id=f"{base_id}:net", amount_yen=row.net_yen, now=now)
    if row.fee_yen > 0:
        ledger.reverse(session, transfer_id=f"{base_id}:fee-return",
                       original_transfer_id=f"{base_id}:fee", amount_yen=row.fee_yen, now=now)


# --- reading -------------------------------------------------------------------------------


def list_cash_outs(session: Session, merchant_id: str, limit: int) -> list[CashOut]:
    """Return the merchant's cash-outs, newest first."""
    query = (
        select(CashOut).where(CashOut.merchant_id == merchant_id)
        .order_by(CashOut.seq.desc()).limit(limit)
    )
    return list(session.scalars(query))


def cash_out_model(row: CashOut) -> protocol.CashOut:
    return protocol.CashOut(
        cash_out_id=row.id, status=row.status,  # type: ignore[arg-type]
        amount_yen=row.amount_yen, fee_yen=row.fee_yen, fixed_fee_yen=row.fixed_fee_yen,
        metered_fee_yen=row.metered_fee_yen, net_yen=row.net_yen,
        payout_date=row.payout_date.isoformat(), month=row.month,
        created_at=iso_utc(row.created_at),
        settled_at=None if row.settled_at is None else iso_utc(row.settled_at),
        failure_reason=row.failure_reason,
        bank_account=bank_accounts.summary(row.bank_code, row.branch_code, row.account_type,
                                           row.account_number, row.holder_name),
    )


def month_of(moment: datetime) -> str:
    """Return the Japan-time month of ``moment`` as YYYY-MM."""
    return to_japan_time(moment).strftime("%Y-%m")


# --- internals -----------------------------------------------------------------------------


def _month_so_far(session: Session, merchant_id: str, month: str) -> tuple[int, bool]:
    """Return the month's cash-out volume and whether its fixed fee was charged (failed aside)."""
    volume_yen, fixed_count = session.execute(
        select(func.coalesce(func.sum(CashOut.amount_yen), 0),
               func.count().filter(CashOut.fixed_fee_yen > 0))
        .where(CashOut.merchant_id == merchant_id, CashOut.month == month,
               CashOut.status != FAILED)
    ).one()
    return int(volume_yen), int(fixed_count) > 0


def _lock_merchant(session: Session, merchant_id: str) -> None:
    found = session.execute(
        select(Merchant.id).where(Merchant.id == merchant_id).with_for_update()
    ).first()
    if found is None:
        raise not_found(f"merchant {merchant_id} does not exist")


def _account_id(session: Session, merchant_id: str) -> str:
    account_id = session.scalar(select(Merchant.account_id).where(Merchant.id == merchant_id))
    if account_id is None:
        raise not_found(f"merchant {merchant_id} does not exist")
    return account_id


def _transfer_base(merchant_id: str, idempotency_key: str) -> str:
    return f"cashout:{merchant_id}:{idempotency_key}"


def _account_summary(account: MerchantBankAccount) -> protocol.BankAccountSummary:
    return bank_accounts.summary(account.bank_code, account.branch_code, account.account_type,
                                 account.account_number, account.holder_name)
