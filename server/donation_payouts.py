"""Paying a donation cause the yen its account holds, through the merchants' cash-out path.

The cause organisation is registered as a merchant (the payee) with a bank account. One
transaction moves the amount from the cause's account to the payee's account, keeping each
lot's kind and expiry, in the transfer ``donation-payout:<key>``, and requests a cash-out of
the same amount for the payee with the same key (``cashout.request_cash_out``). From there
the cash-out is like any other: ``payout-batch`` writes it into a Zengin file, and
``payout-result`` or ``payout-mark`` settles it. A failed payout returns the value to the
payee merchant's account, not to the cause (``cashout.settle``). A payout ``from_payee`` cashes
out that returned value again, without moving anything from the cause.

Idempotency: the key names the payout. Running again with the same key, cause, merchant and
amount books nothing and returns the first cash-out. The same key with another cause,
merchant or amount is rejected. The cause's row is locked first, so two runs at once are
booked one after the other and the second finds the first's cash-out.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import bank_accounts, cashout, ledger, merchants
from server.donation_models import DonationCause
from server.errors import IdempotencyConflict, InsufficientFunds, invalid, not_found, shorten
from server.models import CashOut
from server.settings import Settings

logger = logging.getLogger(__name__)

# The same rule as the idempotency keys of the HTTP API (``protocol.IdempotencyKey``), so the
# key also fits the cash-out row's 64-character column.
_KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")


@dataclass(frozen=True)
class CausePayout:
    """The cash-out that pays a cause, and whether this call booked it."""

    cash_out: CashOut
    created: bool


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
    if from_payee:
        source = _Source(payee.account_id, f"merchant {merchant_id}",
                         "leave out --from-payee to pay from the cause")
    else:
        source = _Source(cause.account_id, f"cause {cause_id}", "run it again after donations"
                         " arrive")
    amount_yen = _checked_amount(session, source, amount_yen, settings)

    if not from_payee:
        ledger.pay_held(session, transfer_id=f"donation-payout:{key}",
                        source_id=cause.account_id, destination_id=payee.account_id,
                        amount_yen=amount_yen, now=settings.clock())
    row = cashout.request_cash_out(session, merchant_id, amount_yen, key, settings,
                                   cause_id=cause_id)
    logger.info("cause %s pays out %d yen through merchant %s in cash-out %s", cause_id,
                amount_yen, merchant_id, row.id)
    return CausePayout(row, created=True)


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
    cause = session.scalars(
        select(DonationCause).where(DonationCause.id == cause_id).with_for_update()
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


def _checked_amount(session: Session, source: _Source, amount_yen: int | None,
                    settings: Settings) -> int:
    """Return the amount to pay out, or raise if ``source`` cannot pay it."""
    held_yen = sum(ledger.held_balance(session, source.account_id).values())
    if amount_yen is None:
        if held_yen < 1:
            raise InsufficientFunds(f"{source.label} holds 0 yen, so --all has nothing to pay"
                                    f" out; {source.empty_hint}")
        amount_yen = held_yen
    if amount_yen < 1:
        raise invalid(f"--amount {amount_yen} is invalid; give the yen to pay out, at least 1")
    if amount_yen > held_yen:
        raise InsufficientFunds(f"--amount {amount_yen} exceeds the {held_yen} yen"
                                f" {source.label} holds; pay out at most {held_yen} yen")
    if amount_yen > settings.max_amount_yen:
        raise invalid(f"{amount_yen} yen exceeds the largest cash-out of"
                      f" {settings.max_amount_yen} yen (CHIIKI_MAX_AMOUNT_YEN); pay out in parts"
                      f" of at most {settings.max_amount_yen} yen, each with its own --key")
    return amount_yen
