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

Transfers are written with SQLAlchemy Core statements on the session's connection, not through
the ORM unit of work: a payment costs one statement per step and no object loading. The
functions flush the session's pending ORM changes first, and they never load ``Lot``,
``Posting`` or ``Transfer`` objects, so an ORM object of those classes already in the session
is not refreshed by a transfer.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerInconsistent,
    UnknownAccount,
)
from server.models import Account, Lot, Merchant, Posting, Transfer, table_of
from terminal.protocol import ValueKind

logger = logging.getLogger(__name__)

# The order in which a payment spends kinds: most restricted first, as declared in protocol.
SPEND_ORDER: tuple[ValueKind, ...] = tuple(ValueKind)
_KIND_RANK = {kind: rank for rank, kind in enumerate(SPEND_ORDER)}

PURPOSE_ISSUE = "issue"
PURPOSE_PAYMENT = "payment"
PURPOSE_REVERSAL = "reversal"
PURPOSE_EXPIRY = "expiry"
# Owner type of wallet accounts: the only accounts whose expired lots are swept back.
WALLET_OWNER = "wallet"
# Width of the lots.restriction column: 40 four-digit codes with their commas.
MAX_RESTRICTION_CHARS = 200


@dataclass(frozen=True)
class Acceptance:
    """The value kinds a receiving shop may take.

    A shop takes premium_local only if it is local, and a category-restricted benefit only if
    its merchant category is one of the benefit's categories.
    """

    local: bool
    merchant_category: str | None
    # When set, only these kinds may be spent (premium sets are bought with coin only).
    kinds: frozenset[ValueKind] | None = None


# Value any shop may receive: coin, premium_all and unrestricted benefit. The offline reserve
# holds only this, so an approved offline payment is covered at whichever shop took it.
UNRESTRICTED = Acceptance(local=False, merchant_category=None)
COIN_ONLY = Acceptance(local=False, merchant_category=None, kinds=frozenset({ValueKind.COIN}))


@dataclass(frozen=True)
class Portion:
    """An amount of one kind with one expiry, as moved by a transfer."""

    kind: ValueKind
    expires_at: datetime | None
    amount_yen: int
    restriction: str | None = None
    funding_account_id: str | None = None


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


@dataclass(frozen=True)
class _Booking:
    """The columns of a transfer row that a repeated transfer id must match."""

    transfer_id: str
    purpose: str
    source_id: str
    destination_id: str
    amount_yen: int
    parameters: str


@dataclass(frozen=True)
class _Lot:
    """The columns of a lot row that spending reads."""

    seq: int
    kind: ValueKind
    expires_at: datetime | None
    remaining_yen: int
    restriction: str | None
    funding_account_id: str | None

    def accepted_by(self, acceptance: Acceptance | None) -> bool:
        if acceptance is None:
            return True
        if acceptance.kinds is not None and self.kind not in acceptance.kinds:
            return False
        if self.kind is ValueKind.PREMIUM_LOCAL:
            return acceptance.local
        if self.restriction is None:
            return True
        return acceptance.merchant_category in self.restriction.split(",")


# --- statements ----------------------------------------------------------------------------
# Built once at import; SQLAlchemy caches their compiled form per dialect.

_ACCOUNTS = table_of(Account)
_TRANSFERS = table_of(Transfer)
_POSTINGS = table_of(Posting)
_LOTS = table_of(Lot)

_locked = _ACCOUNTS.alias("locked")
_other = _ACCOUNTS.alias("other")
# Locks one account row and, in the same round trip, reads whether a second account exists.
# Only the first row is locked, so payments to one merchant do not queue behind each other.
_LOCK_ACCOUNT = (
    select(_locked.c.is_issuing, _other.c.is_issuing)
    .select_from(_locked.outerjoin(_other, _other.c.id == bindparam("other_id")))
    .where(_locked.c.id == bindparam("locked_id"))
    .with_for_update(of=_locked)
)
_ACCOUNT_IS_ISSUING = select(_ACCOUNTS.c.is_issuing).where(
    _ACCOUNTS.c.id == bindparam("account_id")
)

_FIND_TRANSFER = select(
    _TRANSFERS.c.purpose,
    _TRANSFERS.c.source_account_id,
    _TRANSFERS.c.destination_account_id,
    _TRANSFERS.c.amount_yen,
    _TRANSFERS.c.parameters,
).where(_TRANSFERS.c.id == bindparam("transfer_id"))
# The id check and the insert of a new transfer are one statement. On PostgreSQL a concurrent
# insert of the same id makes it wait, and the row is visible to the next statement once
# that transaction commits.
_CLAIM_TRANSFER_SQLITE: Insert = (
    sqlite.insert(_TRANSFERS).on_conflict_do_nothing(index_elements=[_TRANSFERS.c.id])
    .returning(_TRANSFERS.c.id)
)
_CLAIM_TRANSFER_POSTGRESQL: Insert = (
    postgresql.insert(_TRANSFERS).on_conflict_do_nothing(index_elements=[_TRANSFERS.c.id])
    .returning(_TRANSFERS.c.id)
)

_POSTED_KINDS = select(_POSTINGS.c.value_kind, _POSTINGS.c.amount_yen).where(
    _POSTINGS.c.transfer_id == bindparam("transfer_id"),
    _POSTINGS.c.account_id == bindparam("account_id"),
)
_INSERT_POSTING = insert(_POSTINGS)

_LOT_COLUMNS = (_LOTS.c.seq, _LOTS.c.value_kind, _LOTS.c.expires_at, _LOTS.c.remaining_yen,
                _LOTS.c.restriction, _LOTS.c.funding_account_id)
_SPENDABLE_LOTS = select(*_LOT_COLUMNS).where(
    _LOTS.c.account_id == bindparam("account_id"),
    _LOTS.c.remaining_yen > 0,
    _LOTS.c.expires_at.is_(None) | (_LOTS.c.expires_at > bindparam("now")),
)
_DELIVERED_LOTS = select(*_LOT_COLUMNS).where(
    _LOTS.c.transfer_id == bindparam("transfer_id"),
    _LOTS.c.account_id == bindparam("account_id"),
    _LOTS.c.remaining_yen > 0,
)
_HELD_LOTS = select(*_LOT_COLUMNS).where(
    _LOTS.c.account_id == bindparam("account_id"), _LOTS.c.remaining_yen > 0
)
_UPDATE_LOT = (
    update(_LOTS)
    .where(_LOTS.c.seq == bindparam("lot_seq"))
    .values(remaining_yen=bindparam("new_remaining_yen"))
)
_INSERT_LOT = insert(_LOTS)


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
    connection = _connection(session)
    is_issuing = connection.execute(_ACCOUNT_IS_ISSUING, {"account_id": account_id}).scalar()
    if is_issuing is None:
        raise UnknownAccount(f"account {account_id} does not exist")

    query = select(_LOTS.c.value_kind, func.sum(_LOTS.c.remaining_yen)).where(
        _LOTS.c.account_id == account_id
    )
    if not is_issuing:
        query = query.where(
            _LOTS.c.remaining_yen > 0, _LOTS.c.expires_at.is_(None) | (_LOTS.c.expires_at > now)
        )
    rows = connection.execute(query.group_by(_LOTS.c.value_kind)).all()
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
    categories: Iterable[str] | None = None,
    funding_account_id: str | None = None,
) -> TransferResult:
    """Create new value of ``kind`` on an issuing account and deliver it to ``destination_id``.

    ``categories`` restricts a benefit to shops of those merchant category codes. The value
    returns to ``funding_account_id`` (default: the issuer) if it expires in a wallet.
    """
    _require_positive(amount_yen)
    restriction = _restriction_of(kind, categories)
    funding_id = issuer_id if funding_account_id is None else funding_account_id
    connection = _connection(session)
    # Locking the destination makes a repeated transfer id wait for the first one to commit.
    _, issuer_is_issuing = _lock_account(connection, destination_id, issuer_id)
    if not issuer_is_issuing:
        raise ValueError(f"account {issuer_id} is not an issuing account")

    parameters = _canonical({"kind": kind.value, "expires_at": _iso_or_none(expires_at),
                             "restriction": restriction, "funding": funding_id})
    booking = _Booking(transfer_id, PURPOSE_ISSUE, issuer_id, destination_id, amount_yen,
                       parameters)
    existing = _claim_transfer(connection, booking, now)
    if existing is not None:
        return existing

    connection.execute(_INSERT_LOT, {
        "account_id": issuer_id, "transfer_id": transfer_id, "value_kind": kind.value,
        "expires_at": expires_at, "initial_yen": -amount_yen, "remaining_yen": -amount_yen,
    })
    return _deliver(connection, booking,
                    [Portion(kind, expires_at, amount_yen, restriction, funding_id)])


def pay(
    session: Session,
    *,
    transfer_id: str,
    source_id: str,
    destination_id: str,
    amount_yen: int,
    now: datetime,
    unexpired_until: datetime | None = None,
    acceptance: Acceptance | None = None,
) -> TransferResult:
    """Move ``amount_yen`` from a non-issuing account, spending its lots in spend order.

    With ``unexpired_until``, only lots still unexpired at that later moment are spent, for
    value set aside to be spent until then. With ``acceptance``, only lots the receiving shop
    may take are spent (see ``Acceptance``); without it, every lot may be spent, as for moves
    between the operator's own accounts.
    """
    _require_positive(amount_yen)
    connection = _connection(session)
    source_is_issuing, _ = _lock_account(connection, source_id, destination_id)
    if source_is_issuing:
        raise ValueError(f"account {source_id} is an issuing account; use issue()")

    booking = _Booking(transfer_id, PURPOSE_PAYMENT, source_id, destination_id, amount_yen, "")
    spendable_at = now if unexpired_until is None else max(now, unexpired_until)
    lots = _spendable_lots(connection, source_id, spendable_at, acceptance)
    if acceptance is None:
        label = "spendable"
    elif acceptance.kinds is not None:
        label = "spendable as " + " or ".join(sorted(kind.value for kind in acceptance.kinds))
    else:
        label = "spendable at this shop"
    return _book_from_lots(connection, booking, lots, now, label)


def reverse(
    session: Session,
    *,
    transfer_id: str,
    original_transfer_id: str,
    amount_yen: int,
    now: datetime,
    other_held_value: bool = False,
) -> TransferResult:
    """Return part of a payment: take lots the payment delivered back to the payer.

    The least restricted value goes back first (coin before premium points), and within a
    kind the lot that expires last, so the payer gets the most usable value. Each returned
    portion keeps its kind and expiry.

    With ``other_held_value``, a shop that has since spent those lots (a cash-out, a payment
    to a supplier) returns other value it holds for the rest: the same kinds as the payment
    first, unexpired before expired, oldest first.
    """
    _require_positive(amount_yen)
    connection = _connection(session)
    original = connection.execute(_FIND_TRANSFER, {"transfer_id": original_transfer_id}).first()
    if original is None or original.purpose != PURPOSE_PAYMENT:
        raise ValueError(f"transfer {original_transfer_id} is not a payment and cannot be reversed")
    source_id: str = original.destination_account_id
    destination_id: str = original.source_account_id
    _lock_account(connection, source_id, destination_id)

    parameters = _canonical({"original": original_transfer_id})
    booking = _Booking(transfer_id, PURPOSE_REVERSAL, source_id, destination_id, amount_yen,
                       parameters)
    lots = _delivered_lots(connection, original_transfer_id, source_id)
    label = f"of payment {original_transfer_id}"
    if other_held_value and sum(lot.remaining_yen for lot in lots) < amount_yen:
        lots += _other_held_lots(connection, source_id, original_transfer_id, lots, now)
        label = f"of payment {original_transfer_id} and other held value"
    return _book_from_lots(connection, booking, lots, now, label)


def _other_held_lots(
    connection: Connection, account_id: str, transfer_id: str, delivered: list[_Lot],
    now: datetime,
) -> list[_Lot]:
    """Return the account's lots other than ``delivered``, in the order a refund takes them."""
    paid_kinds = set(_delivered_kinds(connection, transfer_id, account_id))
    taken = {lot.seq for lot in delivered}
    rows = connection.execute(_HELD_LOTS, {"account_id": account_id})
    others = [lot for lot in map(_lot_of, rows) if lot.seq not in taken]

    def order(lot: _Lot) -> tuple[bool, bool, int]:
        expired = lot.expires_at is not None and lot.expires_at <= now
        return (lot.kind not in paid_kinds, expired, lot.seq)

    return sorted(others, key=order)


def _book_from_lots(
    connection: Connection, booking: _Booking, lots: list[_Lot], now: datetime, lots_label: str
) -> TransferResult:
    """Book ``booking`` out of ``lots``, or return the first booking of a repeated id."""
    available_yen = sum(lot.remaining_yen for lot in lots)
    if available_yen < booking.amount_yen:
        # A repeated transfer id returns the first result even after the balance was spent.
        existing = _find_existing(connection, booking)
        if existing is not None:
            return existing
        raise InsufficientFunds(
            f"account {booking.source_id} holds {available_yen} yen {lots_label}, "
            f"{booking.amount_yen} yen requested"
        )

    existing = _claim_transfer(connection, booking, now)
    if existing is not None:
        return existing
    portions = _take_from_lots(connection, lots, booking.amount_yen)
    return _deliver(connection, booking, portions)


# --- value held by merchants ----------------------------------------------------------------
# Expiry limits where a wallet may spend premium points, not what a shop may keep: value a
# merchant was paid never expires in its hands. These functions count and spend every lot an
# account holds, expired or not. They are for merchant accounts and the operator's clearing
# accounts; wallets keep using ``balance`` and ``pay``.


def held_balance(session: Session, account_id: str) -> dict[ValueKind, int]:
    """Return the amount of each kind a non-issuing account holds, expired lots included."""
    connection = _connection(session)
    if connection.execute(_ACCOUNT_IS_ISSUING, {"account_id": account_id}).scalar() is None:
        raise UnknownAccount(f"account {account_id} does not exist")
    rows = connection.execute(
        select(_LOTS.c.value_kind, func.sum(_LOTS.c.remaining_yen))
        .where(_LOTS.c.account_id == account_id, _LOTS.c.remaining_yen > 0)
        .group_by(_LOTS.c.value_kind)
    ).all()
    return {ValueKind(kind): int(total) for kind, total in rows if total}


def pay_held(
    session: Session,
    *,
    transfer_id: str,
    source_id: str,
    destination_id: str,
    amount_yen: int,
    now: datetime,
    delivered_by: str | None = None,
) -> TransferResult:
    """Move ``amount_yen`` from a non-issuing account, spending its lots oldest first.

    Expired lots are spent like any other, and the destination receives them with their kinds
    and expiries. With ``delivered_by``, only the lots that transfer delivered to the source
    are spent, so a clearing account passes on exactly the value one transfer put there. The
    transfer is a payment, so ``reverse`` can return it.
    """
    _require_positive(amount_yen)
    connection = _connection(session)
    source_is_issuing, _ = _lock_account(connection, source_id, destination_id)
    if source_is_issuing:
        raise ValueError(f"account {source_id} is an issuing account; use issue()")

    booking = _Booking(transfer_id, PURPOSE_PAYMENT, source_id, destination_id, amount_yen, "")
    if delivered_by is None:
        rows = connection.execute(_HELD_LOTS, {"account_id": source_id})
        label = "held"
    else:
        rows = connection.execute(
            _DELIVERED_LOTS, {"transfer_id": delivered_by, "account_id": source_id}
        )
        label = f"delivered by transfer {delivered_by}"
    lots = sorted(map(_lot_of, rows), key=lambda lot: lot.seq)
    return _book_from_lots(connection, booking, lots, now, label)


def transfer_kinds(session: Session, transfer_id: str) -> dict[ValueKind, int]:
    """Return how much of each kind a booked transfer delivered."""
    connection = _connection(session)
    row = connection.execute(_FIND_TRANSFER, {"transfer_id": transfer_id}).first()
    if row is None:
        raise KeyError(transfer_id)
    return _delivered_kinds(connection, transfer_id, row.destination_account_id)


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


# --- expiry --------------------------------------------------------------------------------

_EXPIRED_WALLET_LOTS = (
    select(_LOTS.c.seq, _LOTS.c.account_id, _LOTS.c.funding_account_id)
    .join(_ACCOUNTS, _ACCOUNTS.c.id == _LOTS.c.account_id)
    .where(
        _ACCOUNTS.c.owner_type == WALLET_OWNER,
        _LOTS.c.remaining_yen > 0,
        _LOTS.c.funding_account_id.is_not(None),
        _LOTS.c.expires_at <= bindparam("now"),
    )
    .order_by(_LOTS.c.seq)
    .limit(bindparam("limit"))
)
_LOT_BY_SEQ = select(*_LOT_COLUMNS).where(_LOTS.c.seq == bindparam("lot_seq"))


def sweep_expired(session: Session, *, now: datetime, limit: int = 1000) -> list[TransferResult]:
    """Return expired value in wallets to the accounts that funded it.

    Each expired lot with value left moves, whole, in its own transfer ``expiry:<lot seq>``
    of purpose ``expiry``, so running the sweep twice moves nothing the second time. At most
    ``limit`` lots are swept per call; call again until it returns an empty list.
    """
    connection = _connection(session)
    candidates = connection.execute(_EXPIRED_WALLET_LOTS, {"now": now, "limit": limit}).all()
    results = []
    for seq, account_id, funding_id in candidates:
        _lock_account(connection, account_id, funding_id)
        # Re-read under the lock: a payment may have spent the lot since the first read.
        lot = _lot_of(connection.execute(_LOT_BY_SEQ, {"lot_seq": seq}).one())
        if lot.remaining_yen <= 0:
            continue
        booking = _Booking(f"expiry:{seq}", PURPOSE_EXPIRY, account_id, funding_id,
                           lot.remaining_yen, _canonical({"lot": str(seq)}))
        if _claim_transfer(connection, booking, now) is not None:
            continue
        portions = _take_from_lots(connection, [lot], lot.remaining_yen)
        results.append(_deliver(connection, booking, portions))
    return results


def acceptance_for(session: Session, merchant_id: str) -> Acceptance:
    """Return what the merchant may receive: local points if it is local, its category."""
    row = session.execute(
        select(Merchant.is_local, Merchant.merchant_category_code).where(Merchant.id == merchant_id)
    ).first()
    if row is None:
        raise UnknownAccount(f"merchant {merchant_id} does not exist")
    return Acceptance(local=bool(row.is_local), merchant_category=row.merchant_category_code)


# --- internals -----------------------------------------------------------------------------


def _restriction_of(kind: ValueKind, categories: Iterable[str] | None) -> str | None:
    """Return the lot restriction for ``categories``: sorted, comma-joined, checked."""
    if categories is None:
        return None
    codes = sorted(set(categories))
    if kind is not ValueKind.BENEFIT:
        raise ValueError(f"only benefit value can be restricted to categories, not {kind}")
    bad = [code for code in codes if not (len(code) == 4 and code.isascii() and code.isdigit())]
    if not codes or bad:
        raise ValueError(f"merchant categories must be 4-digit codes, got {codes!r}")
    restriction = ",".join(codes)
    if len(restriction) > MAX_RESTRICTION_CHARS:
        raise ValueError(f"at most {MAX_RESTRICTION_CHARS // 5 + 1} merchant categories can be"
                         f" named, got {len(codes)}")
    return restriction


def _require_positive(amount_yen: int) -> None:
    if not isinstance(amount_yen, int) or isinstance(amount_yen, bool) or amount_yen <= 0:
        raise ValueError(f"transfer amount must be a positive whole number of yen, got {amount_yen!r}")


def _connection(session: Session) -> Connection:
    """Flush pending ORM changes, so the Core statements that follow see them."""
    session.flush()
    return session.connection()


def _lock_account(connection: Connection, account_id: str, other_id: str) -> tuple[bool, bool]:
    """Lock ``account_id``, check that ``other_id`` exists, and return both accounts' is_issuing."""
    row = connection.execute(
        _LOCK_ACCOUNT, {"locked_id": account_id, "other_id": other_id}
    ).first()
    if row is None:
        raise UnknownAccount(f"account {account_id} does not exist")
    locked_is_issuing, other_is_issuing = row
    if other_is_issuing is None:
        raise UnknownAccount(f"account {other_id} does not exist")
    return bool(locked_is_issuing), bool(other_is_issuing)


def _find_existing(connection: Connection, booking: _Booking) -> TransferResult | None:
    """Return the transfer booked earlier under ``booking``'s id, or None if there is none.

    Raises ``IdempotencyConflict`` when that transfer differs from ``booking``.
    """
    transfer = connection.execute(_FIND_TRANSFER, {"transfer_id": booking.transfer_id}).first()
    if transfer is None:
        return None
    same = (
        transfer.purpose == booking.purpose
        and transfer.source_account_id == booking.source_id
        and transfer.destination_account_id == booking.destination_id
        and transfer.amount_yen == booking.amount_yen
        and transfer.parameters == booking.parameters
    )
    if not same:
        raise IdempotencyConflict(
            f"transfer id {booking.transfer_id} is already booked, with purpose"
            f" {transfer.purpose}, {transfer.amount_yen} yen, from account"
            f" {transfer.source_account_id} to account {transfer.destination_account_id};"
            " choose a new id for a different transfer"
        )
    kinds = _delivered_kinds(connection, booking.transfer_id, booking.destination_id)
    return _result(booking, kinds, created=False)


def _claim_transfer(
    connection: Connection, booking: _Booking, now: datetime
) -> TransferResult | None:
    """Insert the transfer row, or return the earlier transfer when its id is taken.

    Returns None when this call inserted the row. Raises ``IdempotencyConflict`` when the
    earlier transfer differs from ``booking``.
    """
    statement = (
        _CLAIM_TRANSFER_SQLITE if connection.dialect.name == "sqlite"
        else _CLAIM_TRANSFER_POSTGRESQL
    )
    inserted = connection.execute(statement, {
        "id": booking.transfer_id, "purpose": booking.purpose,
        "source_account_id": booking.source_id,
        "destination_account_id": booking.destination_id, "amount_yen": booking.amount_yen,
        "parameters": booking.parameters, "created_at": now,
    }).first()
    if inserted is not None:
        return None
    existing = _find_existing(connection, booking)
    if existing is None:
        raise LedgerInconsistent(
            f"transfer id {booking.transfer_id} was rejected as a duplicate, but no transfer"
            " row has that id"
        )
    return existing


def _spendable_lots(
    connection: Connection, account_id: str, now: datetime, acceptance: Acceptance | None
) -> list[_Lot]:
    rows = connection.execute(_SPENDABLE_LOTS, {"account_id": account_id, "now": now})
    lots = [lot for lot in map(_lot_of, rows) if lot.accepted_by(acceptance)]
    lots.sort(key=_spend_key)
    return lots


def _lot_of(row: Any) -> _Lot:
    seq, kind, expires_at, remaining_yen, restriction, funding_account_id = row
    return _Lot(seq, ValueKind(kind), expires_at, remaining_yen, restriction, funding_account_id)


def _spend_key(lot: _Lot) -> tuple[int, int, datetime | None, int]:
    no_expiry = 1 if lot.expires_at is None else 0
    return (_KIND_RANK[lot.kind], no_expiry, lot.expires_at, lot.seq)


def _delivered_lots(connection: Connection, transfer_id: str, account_id: str) -> list[_Lot]:
    rows = connection.execute(
        _DELIVERED_LOTS, {"transfer_id": transfer_id, "account_id": account_id}
    )
    lots = [_lot_of(row) for row in rows]
    lots.sort(key=_spend_key, reverse=True)
    return lots


def _take_from_lots(connection: Connection, lots: Iterable[_Lot], amount_yen: int) -> list[Portion]:
    """Lower the lots' remaining amounts in the given order until ``amount_yen`` is taken."""
    portions: list[Portion] = []
    updates: list[dict[str, int]] = []
    left_yen = amount_yen
    for lot in lots:
        if left_yen == 0:
            break
        taken_yen = min(lot.remaining_yen, left_yen)
        left_yen -= taken_yen
        portions.append(Portion(lot.kind, lot.expires_at, taken_yen, lot.restriction,
                                lot.funding_account_id))
        updates.append({"lot_seq": lot.seq, "new_remaining_yen": lot.remaining_yen - taken_yen})
    assert left_yen == 0, "caller checked the lots hold enough"

    connection.execute(_UPDATE_LOT, updates)
    return portions


def _deliver(connection: Connection, booking: _Booking, portions: list[Portion]) -> TransferResult:
    """Write the destination lots and both sides' postings for ``portions``."""
    transfer_id = booking.transfer_id
    source_id = booking.source_id
    destination_id = booking.destination_id
    merged: dict[tuple[ValueKind, datetime | None, str | None, str | None], int] = (
        defaultdict(int)
    )
    for portion in portions:
        key = (portion.kind, portion.expires_at, portion.restriction, portion.funding_account_id)
        merged[key] += portion.amount_yen
    connection.execute(_INSERT_LOT, [
        {"account_id": destination_id, "transfer_id": transfer_id, "value_kind": kind.value,
         "expires_at": expires_at, "initial_yen": lot_yen, "remaining_yen": lot_yen,
         "restriction": restriction, "funding_account_id": funding_account_id}
        for (kind, expires_at, restriction, funding_account_id), lot_yen in merged.items()
    ])

    kinds: dict[ValueKind, int] = defaultdict(int)
    for portion in portions:
        kinds[portion.kind] += portion.amount_yen
    postings: list[dict[str, Any]] = []
    for kind in SPEND_ORDER:
        if kind in kinds:
            postings.append({"transfer_id": transfer_id, "account_id": source_id,
                             "value_kind": kind.value, "amount_yen": -kinds[kind]})
            postings.append({"transfer_id": transfer_id, "account_id": destination_id,
                             "value_kind": kind.value, "amount_yen": kinds[kind]})
    connection.execute(_INSERT_POSTING, postings)

    logger.info("transfer %s booked: %s yen %s -> %s", transfer_id, booking.amount_yen,
                source_id, destination_id)
    return _result(booking, dict(kinds), created=True)


def _delivered_kinds(
    connection: Connection, transfer_id: str, destination_id: str
) -> dict[ValueKind, int]:
    rows = connection.execute(
        _POSTED_KINDS, {"transfer_id": transfer_id, "account_id": destination_id}
    ).all()
    return {ValueKind(kind): int(amount) for kind, amount in rows}


def _result(booking: _Booking, kinds: dict[ValueKind, int], *, created: bool) -> TransferResult:
    return TransferResult(booking.transfer_id, booking.source_id, booking.destination_id,
                          booking.amount_yen, kinds, created)


def _by_account_kind(rows: Sequence[Any]) -> dict[tuple[str, str], int]:
    return {(account_id, kind): int(total) for account_id, kind, total in rows if total}


def _canonical(parameters: dict[str, str | None]) -> str:
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"))


def _iso_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
