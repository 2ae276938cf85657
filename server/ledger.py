"""Double-entry ledger of value kinds held as lots.

Every movement of value is a ``Transfer`` with a caller-chosen id. Booking the same id again
returns the first transfer and moves nothing; the same id with other parameters raises
``IdempotencyConflict``. A transfer writes, per value kind, a negative posting on the source
account and a positive posting on the destination account, so the postings of every kind sum
to zero over the whole ledger (``verify_ledger`` checks this).

Value sits in lots: one kind, one optional expiry, a remaining amount. A payment spends the
source's unexpired lots in ``SPEND_ORDER`` (most restricted kind first), then by earliest
expiry (lots without expiry last), and the destination receives new lots of the same kinds and
expiries. A reversal (refund) takes back lots that the original transfer delivered and returns
them to the payer with the same kinds and expiries. Issuing accounts do not hold spendable
lots: each issue books a negative lot on the issuer, so their balance goes below zero.

Concurrency: spending first locks the source account row (``SELECT ... FOR UPDATE`` on
PostgreSQL; SQLite transactions begin with ``BEGIN IMMEDIATE`` and run one at a time), so two
payments from one wallet never both read the same lots.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerInconsistent,
    UnknownAccount,
)
from server.models import Account, Lot, Posting, Transfer
from terminal.protocol import ValueKind

logger = logging.getLogger(__name__)

# The order in which a payment spends kinds: most restricted first, as declared in protocol.
SPEND_ORDER: tuple[ValueKind, ...] = tuple(ValueKind)
_KIND_RANK = {kind: rank for rank, kind in enumerate(SPEND_ORDER)}

PURPOSE_ISSUE = "issue"
PURPOSE_PAYMENT = "payment"
PURPOSE_REVERSAL = "reversal"


@dataclass(frozen=True)
class Portion:
    """An amount of one kind with one expiry, as moved by a transfer."""

    kind: ValueKind
    expires_at: datetime | None
    amount_yen: int


@dataclass(frozen=True)
class TransferResult:
    """Value moved by one transfer; ``created`` is False when an earlier identical one was found."""

    transfer_id: str
    source_account_id: str
    destination_account_id: str
    amount_yen: int
    kinds: dict[ValueKind, int]
    created: bool


@dataclass
class LedgerAudit:
    """Per-kind posting totals over all accounts and every mismatch found."""

    totals_by_kind: dict[ValueKind, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# --- accounts ------------------------------------------------------------------------------


def open_account(
    session: Session, account_id: str, owner_type: str, *, now: datetime, is_issuing: bool = False
) -> Account:
    """Create an empty account."""
    account = Account(id=account_id, owner_type=owner_type, is_issuing=is_issuing, created_at=now)
    session.add(account)
    session.flush()
    return account


def balance(session: Session, account_id: str, *, now: datetime) -> dict[ValueKind, int]:
    """Return the spendable amount of each kind; expired lots count only on issuing accounts."""
    account = _get_account(session, account_id)
    query = select(Lot.value_kind, func.sum(Lot.remaining_yen)).where(Lot.account_id == account_id)
    if not account.is_issuing:
        query = query.where(
            Lot.remaining_yen > 0, (Lot.expires_at.is_(None)) | (Lot.expires_at > now)
        )
    rows = session.execute(query.group_by(Lot.value_kind)).all()
    return {ValueKind(kind): int(total) for kind, total in rows if total}


# --- transfers -----------------------------------------------------------------------------


def issue(
    session: Session,
    *,
    transfer_id: str,
    issuer_id: str,
    destination_id: str,
    amount_yen: int,
    now: datetime,
    kind: ValueKind = ValueKind.COIN,
    expires_at: datetime | None = None,
) -> TransferResult:
    """Create new value of ``kind`` on an issuing account and deliver it to ``destination_id``."""
    _require_positive(amount_yen)
    issuer = _get_account(session, issuer_id)
    if not issuer.is_issuing:
        raise ValueError(f"account {issuer_id} is not an issuing account")
    # Locking the destination makes a repeated transfer id wait for the first one to commit.
    _lock_account(session, destination_id)

    parameters = _canonical({"kind": kind.value, "expires_at": _iso_or_none(expires_at)})
    existing = _find_existing(
        session, transfer_id, PURPOSE_ISSUE, issuer_id, destination_id, amount_yen, parameters
    )
    if existing is not None:
        return existing

    portion = Portion(kind, expires_at, amount_yen)
    _add_transfer(session, transfer_id, PURPOSE_ISSUE, issuer_id, destination_id, amount_yen,
                  parameters, now)
    session.add(
        Lot(account_id=issuer_id, transfer_id=transfer_id, value_kind=kind.value,
            expires_at=expires_at, initial_yen=-amount_yen, remaining_yen=-amount_yen)
    )
    return _deliver(session, transfer_id, issuer_id, destination_id, [portion])


def pay(
    session: Session,
    *,
    transfer_id: str,
    source_id: str,
    destination_id: str,
    amount_yen: int,
    now: datetime,
) -> TransferResult:
    """Move ``amount_yen`` from a non-issuing account, spending its lots in spend order."""
    _require_positive(amount_yen)
    source = _lock_account(session, source_id)
    if source.is_issuing:
        raise ValueError(f"account {source_id} is an issuing account; use issue()")
    _get_account(session, destination_id)

    existing = _find_existing(
        session, transfer_id, PURPOSE_PAYMENT, source_id, destination_id, amount_yen, ""
    )
    if existing is not None:
        return existing

    lots = _spendable_lots(session, source_id, now)
    available_yen = sum(lot.remaining_yen for lot in lots)
    if available_yen < amount_yen:
        raise InsufficientFunds(
            f"account {source_id} holds {available_yen} yen spendable, {amount_yen} yen requested"
        )
    _add_transfer(session, transfer_id, PURPOSE_PAYMENT, source_id, destination_id, amount_yen,
                  "", now)
    portions = _take_from_lots(lots, amount_yen)
    return _deliver(session, transfer_id, source_id, destination_id, portions)


def reverse(
    session: Session,
    *,
    transfer_id: str,
    original_transfer_id: str,
    amount_yen: int,
    now: datetime,
) -> TransferResult:
    """Return part of a payment: take lots the payment delivered back to the payer.

    The least restricted value goes back first (coin before premium points), and within a
    kind the lot that expires last, so the payer gets the most usable value. Each returned
    portion keeps its kind and expiry.
    """
    _require_positive(amount_yen)
    original = session.get(Transfer, original_transfer_id)
    if original is None or original.purpose != PURPOSE_PAYMENT:
        raise ValueError(f"transfer {original_transfer_id} is not a payment and cannot be reversed")
    source_id = original.destination_account_id
    destination_id = original.source_account_id
    _lock_account(session, source_id)

    parameters = _canonical({"original": original_transfer_id})
    existing = _find_existing(
        session, transfer_id, PURPOSE_REVERSAL, source_id, destination_id, amount_yen, parameters
    )
    if existing is not None:
        return existing

    lots = _delivered_lots(session, original_transfer_id, source_id)
    available_yen = sum(lot.remaining_yen for lot in lots)
    if available_yen < amount_yen:
        raise InsufficientFunds(
            f"account {source_id} holds {available_yen} yen of payment {original_transfer_id},"
            f" {amount_yen} yen requested back"
        )
    _add_transfer(session, transfer_id, PURPOSE_REVERSAL, source_id, destination_id, amount_yen,
                  parameters, now)
    portions = _take_from_lots(lots, amount_yen)
    return _deliver(session, transfer_id, source_id, destination_id, portions)


def transfer_kinds(session: Session, transfer_id: str) -> dict[ValueKind, int]:
    """Return how much of each kind a booked transfer delivered."""
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        raise KeyError(transfer_id)
    return _delivered_kinds(session, transfer)


# --- audit ---------------------------------------------------------------------------------


def posting_totals_by_kind(session: Session) -> dict[ValueKind, int]:
    """Sum every posting per kind over all accounts; each total is zero in a sound ledger."""
    rows = session.execute(
        select(Posting.value_kind, func.sum(Posting.amount_yen)).group_by(Posting.value_kind)
    ).all()
    totals = {kind: 0 for kind in ValueKind}
    for kind, total in rows:
        totals[ValueKind(kind)] = int(total)
    return totals


def audit_ledger(session: Session) -> LedgerAudit:
    """Check conservation per kind, and that each account's lots add up to its postings."""
    audit = LedgerAudit(totals_by_kind=posting_totals_by_kind(session))
    for kind, total in audit.totals_by_kind.items():
        if total != 0:
            audit.problems.append(f"postings of {kind} sum to {total}, expected 0")

    posted = _by_account_kind(session.execute(
        select(Posting.account_id, Posting.value_kind, func.sum(Posting.amount_yen))
        .group_by(Posting.account_id, Posting.value_kind)
    ).all())
    in_lots = _by_account_kind(session.execute(
        select(Lot.account_id, Lot.value_kind, func.sum(Lot.remaining_yen))
        .group_by(Lot.account_id, Lot.value_kind)
    ).all())
    for key in sorted(set(posted) | set(in_lots)):
        if posted.get(key, 0) != in_lots.get(key, 0):
            account_id, kind_name = key
            audit.problems.append(
                f"account {account_id} {kind_name}: lots hold {in_lots.get(key, 0)},"
                f" postings sum to {posted.get(key, 0)}"
            )
    return audit


def verify_ledger(session: Session) -> LedgerAudit:
    """Run ``audit_ledger`` and raise ``LedgerInconsistent`` if it found any problem."""
    audit = audit_ledger(session)
    if audit.problems:
        raise LedgerInconsistent("; ".join(audit.problems))
    return audit


# --- internals -----------------------------------------------------------------------------


def _require_positive(amount_yen: int) -> None:
    if not isinstance(amount_yen, int) or isinstance(amount_yen, bool) or amount_yen <= 0:
        raise ValueError(f"transfer amount must be a positive whole number of yen, got {amount_yen!r}")


def _get_account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise UnknownAccount(f"account {account_id} does not exist")
    return account


def _lock_account(session: Session, account_id: str) -> Account:
    query = select(Account).where(Account.id == account_id).with_for_update()
    account = session.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()
    if account is None:
        raise UnknownAccount(f"account {account_id} does not exist")
    return account


def _find_existing(
    session: Session,
    transfer_id: str,
    purpose: str,
    source_id: str,
    destination_id: str,
    amount_yen: int,
    parameters: str,
) -> TransferResult | None:
    transfer = session.get(Transfer, transfer_id)
    if transfer is None:
        return None
    same = (
        transfer.purpose == purpose
        and transfer.source_account_id == source_id
        and transfer.destination_account_id == destination_id
        and transfer.amount_yen == amount_yen
        and transfer.parameters == parameters
    )
    if not same:
        raise IdempotencyConflict(
            f"transfer id {transfer_id} was already used for a {transfer.purpose} of"
            f" {transfer.amount_yen} yen from {transfer.source_account_id} to"
            f" {transfer.destination_account_id}; choose a new id for a different transfer"
        )
    return _result(transfer, _delivered_kinds(session, transfer), created=False)


def _add_transfer(
    session: Session,
    transfer_id: str,
    purpose: str,
    source_id: str,
    destination_id: str,
    amount_yen: int,
    parameters: str,
    now: datetime,
) -> None:
    session.add(
        Transfer(id=transfer_id, purpose=purpose, source_account_id=source_id,
                 destination_account_id=destination_id, amount_yen=amount_yen,
                 parameters=parameters, created_at=now)
    )
    session.flush()


def _spendable_lots(session: Session, account_id: str, now: datetime) -> list[Lot]:
    query = select(Lot).where(
        Lot.account_id == account_id,
        Lot.remaining_yen > 0,
        (Lot.expires_at.is_(None)) | (Lot.expires_at > now),
    )
    lots = list(session.scalars(query))
    lots.sort(key=_spend_key)
    return lots


def _spend_key(lot: Lot) -> tuple[int, int, datetime | None, int]:
    no_expiry = 1 if lot.expires_at is None else 0
    return (_KIND_RANK[ValueKind(lot.value_kind)], no_expiry, lot.expires_at, lot.seq)


def _delivered_lots(session: Session, transfer_id: str, account_id: str) -> list[Lot]:
    query = select(Lot).where(
        Lot.transfer_id == transfer_id, Lot.account_id == account_id, Lot.remaining_yen > 0
    )
    lots = list(session.scalars(query))
    lots.sort(key=_spend_key, reverse=True)
    return lots


def _take_from_lots(lots: Iterable[Lot], amount_yen: int) -> list[Portion]:
    """Lower the lots' remaining amounts in the given order until ``amount_yen`` is taken."""
    portions: list[Portion] = []
    left_yen = amount_yen
    for lot in lots:
        if left_yen == 0:
            break
        taken_yen = min(lot.remaining_yen, left_yen)
        lot.remaining_yen -= taken_yen
        left_yen -= taken_yen
        portions.append(Portion(ValueKind(lot.value_kind), lot.expires_at, taken_yen))
    assert left_yen == 0, "caller checked the lots hold enough"
    return portions


def _deliver(
    session: Session,
    transfer_id: str,
    source_id: str,
    destination_id: str,
    portions: list[Portion],
) -> TransferResult:
    """Write the destination lots and both sides' postings for ``portions``."""
    merged: dict[tuple[ValueKind, datetime | None], int] = defaultdict(int)
    for portion in portions:
        merged[(portion.kind, portion.expires_at)] += portion.amount_yen
    for (kind, expires_at), amount_yen in merged.items():
        session.add(
            Lot(account_id=destination_id, transfer_id=transfer_id, value_kind=kind.value,
                expires_at=expires_at, initial_yen=amount_yen, remaining_yen=amount_yen)
        )

    kinds: dict[ValueKind, int] = defaultdict(int)
    for portion in portions:
        kinds[portion.kind] += portion.amount_yen
    for kind in SPEND_ORDER:
        if kind in kinds:
            session.add(Posting(transfer_id=transfer_id, account_id=source_id,
                                value_kind=kind.value, amount_yen=-kinds[kind]))
            session.add(Posting(transfer_id=transfer_id, account_id=destination_id,
                                value_kind=kind.value, amount_yen=kinds[kind]))
    session.flush()

    transfer = session.get(Transfer, transfer_id)
    assert transfer is not None
    logger.info("transfer %s booked: %s yen %s -> %s", transfer_id, transfer.amount_yen,
                source_id, destination_id)
    return _result(transfer, dict(kinds), created=True)


def _delivered_kinds(session: Session, transfer: Transfer) -> dict[ValueKind, int]:
    rows = session.execute(
        select(Posting.value_kind, Posting.amount_yen).where(
            Posting.transfer_id == transfer.id,
            Posting.account_id == transfer.destination_account_id,
        )
    ).all()
    return {ValueKind(kind): int(amount) for kind, amount in rows}


def _result(transfer: Transfer, kinds: dict[ValueKind, int], *, created: bool) -> TransferResult:
    return TransferResult(
        transfer_id=transfer.id,
        source_account_id=transfer.source_account_id,
        destination_account_id=transfer.destination_account_id,
        amount_yen=transfer.amount_yen,
        kinds=kinds,
        created=created,
    )


def _by_account_kind(rows: Sequence[Any]) -> dict[tuple[str, str], int]:
    return {(account_id, kind): int(total) for account_id, kind, total in rows if total}


def _canonical(parameters: dict[str, str | None]) -> str:
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"))


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
