"""Paying a donation cause the yen its account holds, through the merchants' cash-out path.

The cause organisation is registered as a merchant (the payee) with a bank account. One
transaction moves the amount from the cause's account to the payee's account, keeping each
lot's kind and expiry, in the transfer ``donation-payout:<key>``, and requests a cash-out of
the same amount for the payee with the same key (``cashout.request_cash_out``). From there
the cash-out is like any other: ``payout-batch`` writes it into a Zengin file, and
``payout-result`` or ``payout-mark`` settles it. A failed payout returns the value to the
payee merchant's account, not to the cause (``cashout.settle``). A payout ``from_payee`` cashes
out that returned value again, without moving anything from the cause.

Debts first: a cause that could not return a refund's full share owes the rest back to the
funder (``clawback_owed_yen`` on the donation row, see ``server.donations``). Before a payout
from the cause moves anything, the cause repays those debts from what it holds, oldest
donation first, each repayment in the transfer ``donation-clawback:<donation seq>:<n>`` (the
row's n-th repayment) from the cause to the merchant or the fee account. The amount to pay
out, and ``--all``, count only what remains after that. If the cause's holdings do not cover
its debts, the repayments it can make stay booked and no cash-out is requested. A payout
``from_payee`` repays nothing, because it does not touch the cause's account.

Idempotency: the key names the payout. Running again with the same key, cause, merchant and
amount books nothing and returns the first cash-out. The same key with another cause,
merchant or amount is rejected. The cause's row is locked first, so two runs at once are
booked one after the other and the second finds the first's cash-out.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import bank_accounts, cashout, ledger, merchants
from server.donation_models import (
    EVENT_CLAWBACK_REPAID,
    FUNDER_OPERATOR,
    DonationCause,
    DonationEvent,
    DonationRow,
)
from server.errors import IdempotencyConflict, InsufficientFunds, invalid, not_found, shorten
from server.models import FEE_ACCOUNT_ID, Account, CashOut, Merchant
from server.settings import Settings

logger = logging.getLogger(__name__)

# The same rule as the idempotency keys of the HTTP API (``protocol.IdempotencyKey``), so the
# key also fits the cash-out row's 64-character column.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True)
class CausePayout:
    """The cash-out that pays a cause, whether this call booked it, and the debts it repaid.

    ``cash_out`` is None when the cause's holdings did not cover what it owes back
    (``owed_back_yen`` still owed after repaying ``repaid_yen``); nothing was cashed out.
    """

    cash_out: CashOut | None
    created: bool
    repaid_yen: int = 0
    owed_back_yen: int = 0


def debt_message(cause_id: str, payout: CausePayout) -> str:
    """Explain why ``payout`` requested no cash-out, for the operator."""
    return (f"cause {cause_id} still owes {payout.owed_back_yen} yen back to the funders of"
            f" refunded donations after repaying {payout.repaid_yen} yen from what it held, so"
            " nothing was paid out; run the payout again after donations arrive")


@dataclass(frozen=True)
class DebtRepayment:
    """Yen of a cause's debts to funders repaid by one run, and yen still owed back."""

    repaid_yen: int
    owed_back_yen: int


@dataclass(frozen=True)
class CausePayoutTotals:
    """Yen a cause has given to cash-outs: still in payout (requested, in a file), and paid."""

    in_payout_yen: int
    paid_out_yen: int


def pay_out_cause(
    session: Session, cause_id: str, merchant_id: str, amount_yen: int | None, key: str,
    settings: Settings, *, from_payee: bool = False,
) -> CausePayout:
    """Move ``amount_yen`` (None: all) of the cause's value to the payee and cash it out.

    With ``from_payee``, cash out ``amount_yen`` (None: all) of what the payee holds instead,
    such as the value a failed payout returned to it.
    """
    _check_key(key)
    cause = _lock_cause(session, cause_id)
    existing = session.scalars(select(CashOut).where(CashOut.idempotency_key == key)).first()
    if existing is not None:
        _check_same(existing, cause_id, merchant_id, amount_yen, key)
        return CausePayout(existing, created=False)

    payee = merchants.get_merchant(session, merchant_id)
    bank_accounts.bank_account_for_cash_out(session, merchant_id)
    repayment = DebtRepayment(0, 0)
    if from_payee:
        source = _Source(payee.account_id, f"merchant {merchant_id}",
                         "leave out --from-payee to pay from the cause")
    else:
        repayment = repay_debts(session, cause, now=settings.clock())
        if repayment.owed_back_yen > 0:
            logger.warning("cause %s still owes %d yen back after repaying %d yen; payout %s"
                           " to merchant %s not requested", cause_id, repayment.owed_back_yen,
                           repayment.repaid_yen, key, merchant_id)
            return CausePayout(None, created=False, repaid_yen=repayment.repaid_yen,
                               owed_back_yen=repayment.owed_back_yen)
        source = _Source(cause.account_id, f"cause {cause_id}",
                         "run it again after donations arrive", repayment.repaid_yen)
    amount_yen = _checked_amount(session, source, amount_yen, settings)

    if not from_payee:
        ledger.pay_held(session, transfer_id=f"donation-payout:{key}",
                        source_id=cause.account_id, destination_id=payee.account_id,
                        amount_yen=amount_yen, now=settings.clock())
    row = cashout.request_cash_out(session, merchant_id, amount_yen, key, settings,
                                   cause_id=cause_id)
    logger.info("cause %s pays out %d yen through merchant %s in cash-out %s", cause_id,
                amount_yen, merchant_id, row.id)
    return CausePayout(row, created=True, repaid_yen=repayment.repaid_yen)


def repay_debts(session: Session, cause: DonationCause, *, now: datetime) -> DebtRepayment:
    """Repay what ``cause`` owes back to funders, oldest donation first, from what it holds.

    The caller holds the cause's row lock. Each row is repaid as far as the holdings go, so a
    cause that cannot cover all its debts still repays the oldest in full or in part.
    """
    rows = session.scalars(
        select(DonationRow).where(DonationRow.cause_id == cause.id,
                                  DonationRow.clawback_owed_yen > 0)
        .order_by(DonationRow.seq).with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    if not rows:
        return DebtRepayment(0, 0)

    # Locked after the donation rows, the order a refund locks them in, so a refund cannot take
    # the value counted here while the repayments are booked.
    session.execute(select(Account.id).where(Account.id == cause.account_id).with_for_update())
    available_yen = sum(ledger.held_balance(session, cause.account_id).values())
    repaid_yen = 0
    for row in rows:
        amount_yen = min(row.clawback_owed_yen, available_yen)
        if amount_yen == 0:
            break
        _repay_row(session, cause, row, amount_yen, now)
        available_yen -= amount_yen
        repaid_yen += amount_yen
    owed_back_yen = sum(row.clawback_owed_yen for row in rows)
    return DebtRepayment(repaid_yen, owed_back_yen)


def _repay_row(session: Session, cause: DonationCause, row: DonationRow, amount_yen: int,
               now: datetime) -> None:
    """Move ``amount_yen`` the cause owes back on ``row`` to the donation's funder."""
    number = 1 + int(session.scalar(select(func.count()).select_from(DonationEvent).where(
        DonationEvent.donation_seq == row.seq, DonationEvent.kind == EVENT_CLAWBACK_REPAID,
    )) or 0)
    transfer_id = f"donation-clawback:{row.seq}:{number}"
    funder_account_id = _funder_account(session, row)
    ledger.pay_held(session, transfer_id=transfer_id, source_id=cause.account_id,
                    destination_id=funder_account_id, amount_yen=amount_yen, now=now)
    row.clawback_owed_yen -= amount_yen
    row.reversed_yen += amount_yen
    session.flush()
    session.add(DonationEvent(
        donation_seq=row.seq, campaign_id=row.campaign_id, cause_id=row.cause_id,
        kind=EVENT_CLAWBACK_REPAID, key=f"clawback-repaid:{number}", amount_yen=amount_yen,
        transfer_id=transfer_id, created_at=now,
    ))
    session.flush()
    logger.info("cause %s repaid %d yen of donation %s to %s in %s", cause.id, amount_yen,
                row.transfer_id, funder_account_id, transfer_id)


def _funder_account(session: Session, row: DonationRow) -> str:
    if row.funder == FUNDER_OPERATOR:
        return FEE_ACCOUNT_ID
    account_id = session.scalar(select(Merchant.account_id).where(Merchant.id == row.merchant_id))
    assert account_id is not None, f"donation names merchant {row.merchant_id}, which has no row"
    return account_id


def payout_totals(session: Session, cause_id: str) -> CausePayoutTotals:
    """Add up the cause's cash-outs that are requested or in a file, and those paid."""
    in_payout = func.coalesce(func.sum(CashOut.amount_yen).filter(
        CashOut.status.in_((cashout.REQUESTED, cashout.IN_FILE))), 0)
    paid = func.coalesce(func.sum(CashOut.amount_yen).filter(CashOut.status == cashout.PAID), 0)
    in_payout_yen, paid_yen = session.execute(
        select(in_payout, paid).where(CashOut.cause_id == cause_id)
    ).one()
    return CausePayoutTotals(int(in_payout_yen), int(paid_yen))


def _check_key(key: str) -> None:
    if _KEY_PATTERN.fullmatch(key) is None:
        raise invalid(f"--key {shorten(key)!r} is invalid; use 8 to 64 letters, digits, - or _,"
                      " e.g. kodomo-2027-04")


def _lock_cause(session: Session, cause_id: str) -> DonationCause:
    # FOR NO KEY UPDATE on PostgreSQL, so payouts of the cause still wait for each other. A
    # refund that writes rows referencing the cause takes a KEY SHARE lock, which this mode
    # lets through. With FOR UPDATE that refund would wait here while holding the cause's
    # account, which the payout locks next, and PostgreSQL would abort one as a deadlock.
    cause = session.scalars(
        select(DonationCause).where(DonationCause.id == cause_id)
        .with_for_update(key_share=True)
    ).one_or_none()
    if cause is None:
        raise not_found(f"donation cause {shorten(cause_id)} does not exist; run chiiki-settle"
                        " donation-causes to see the cause ids")
    return cause


def _check_same(existing: CashOut, cause_id: str, merchant_id: str, amount_yen: int | None,
                key: str) -> None:
    """Raise unless ``existing`` is the payout these arguments request again."""
    same = (existing.cause_id == cause_id and existing.merchant_id == merchant_id
            and amount_yen in (None, existing.amount_yen))
    if same:
        return
    if existing.cause_id is None:
        first = f"merchant {existing.merchant_id}'s own cash-out {existing.id}"
    else:
        first = (f"cash-out {existing.id} of {existing.amount_yen} yen from cause"
                 f" {existing.cause_id} to merchant {existing.merchant_id}")
    raise IdempotencyConflict(
        f"key {key} was already used for {first}; repeat that payout unchanged to see it,"
        " or choose a new --key for a different payout"
    )


@dataclass(frozen=True)
class _Source:
    """The account a payout takes its value from, named for messages."""

    account_id: str
    label: str
    empty_hint: str
    repaid_yen: int = 0

    @property
    def after_repaying(self) -> str:
        """Note on the debts repaid just before, for messages; empty when none were."""
        if self.repaid_yen == 0:
            return ""
        return f" after repaying {self.repaid_yen} yen it owed back"


def _checked_amount(session: Session, source: _Source, amount_yen: int | None,
                    settings: Settings) -> int:
    """Return the amount to pay out, or raise if ``source`` cannot pay it."""
    held_yen = sum(ledger.held_balance(session, source.account_id).values())
    if amount_yen is None:
        if held_yen < 1:
            raise InsufficientFunds(f"{source.label} holds 0 yen{source.after_repaying}, so"
                                    f" --all has nothing to pay out; {source.empty_hint}")
        amount_yen = held_yen
    if amount_yen < 1:
        raise invalid(f"--amount {amount_yen} is invalid; give the yen to pay out, at least 1")
    if amount_yen > held_yen:
        raise InsufficientFunds(f"--amount {amount_yen} exceeds the {held_yen} yen"
                                f" {source.label} holds{source.after_repaying}; pay out at"
                                f" most {held_yen} yen")
    if amount_yen > settings.max_amount_yen:
        raise invalid(f"{amount_yen} yen exceeds the largest cash-out of"
                      f" {settings.max_amount_yen} yen (CHIIKI_MAX_AMOUNT_YEN); pay out in parts"
                      f" of at most {settings.max_amount_yen} yen, each with its own --key")
    return amount_yen
