from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from server import ledger
from server.db import Database
from server.errors import (
    IdempotencyConflict,
    InsufficientFunds,
    LedgerInconsistent,
    UnknownAccount,
)
from server.models import ISSUANCE_ACCOUNT_ID, Lot, Posting, Transfer
from terminal.protocol import ValueKind

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)
SOONER = NOW + timedelta(days=3)


def _open(db: Database, *account_ids: str) -> None:
    with db.write() as session:
        for account_id in account_ids:
            ledger.open_account(session, account_id, "wallet", now=NOW)


def _issue(db: Database, account_id: str, amount_yen: int, transfer_id: str,
           kind: ValueKind = ValueKind.COIN, expires_at: datetime | None = None) -> None:
    with db.write() as session:
        ledger.issue(session, transfer_id=transfer_id, issuer_id=ISSUANCE_ACCOUNT_ID,
                     destination_id=account_id, amount_yen=amount_yen, now=NOW, kind=kind,
                     expires_at=expires_at)


def _pay(db: Database, transfer_id: str, amount_yen: int, source: str = "alice",
         destination: str = "shop", now: datetime = NOW) -> ledger.TransferResult:
    with db.write() as session:
        return ledger.pay(session, transfer_id=transfer_id, source_id=source,
                          destination_id=destination, amount_yen=amount_yen, now=now)


def _balance(db: Database, account_id: str, now: datetime = NOW) -> dict[ValueKind, int]:
    with db.read() as session:
        return ledger.balance(session, account_id, now=now)


def _assert_conserved(db: Database) -> None:
    with db.read() as session:
        audit = ledger.verify_ledger(session)
    assert audit.totals_by_kind == {kind: 0 for kind in ValueKind}


def _count(db: Database, model: type[Transfer] | type[Posting] | type[Lot]) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _reverse(db: Database, transfer_id: str, original_transfer_id: str,
             amount_yen: int) -> ledger.TransferResult:
    with db.write() as session:
        return ledger.reverse(session, transfer_id=transfer_id,
                              original_transfer_id=original_transfer_id, amount_yen=amount_yen,
                              now=NOW)


@pytest.fixture
def books(database: Database) -> Database:
    _open(database, "alice", "shop")
    return database


def test_issue_makes_issuer_negative(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    assert _balance(books, "alice") == {ValueKind.COIN: 1000}
    assert _balance(books, ISSUANCE_ACCOUNT_ID) == {ValueKind.COIN: -1000}
    _assert_conserved(books)


def test_payment_moves_value(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    result = _pay(books, "t-pay-1", 300)

    assert result.created
    assert result.kinds == {ValueKind.COIN: 300}
    assert _balance(books, "alice") == {ValueKind.COIN: 700}
    assert _balance(books, "shop") == {ValueKind.COIN: 300}
    _assert_conserved(books)


def test_same_transfer_id_moves_once(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")
    first = _pay(books, "t-pay-1", 300)
    transfers_before = _count(books, Transfer)
    postings_before = _count(books, Posting)

    second = _pay(books, "t-pay-1", 300)

    assert not second.created
    assert second.transfer_id == first.transfer_id
    assert second.kinds == first.kinds
    assert _balance(books, "alice") == {ValueKind.COIN: 700}
    assert _count(books, Transfer) == transfers_before
    assert _count(books, Posting) == postings_before
    _assert_conserved(books)


def test_same_id_other_amount_conflicts(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")
    _pay(books, "t-pay-1", 300)

    with pytest.raises(IdempotencyConflict):
        _pay(books, "t-pay-1", 301)

    assert _balance(books, "alice") == {ValueKind.COIN: 700}
    _assert_conserved(books)


def test_repeat_after_balance_spent(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")
    first = _pay(books, "t-pay-1", 1000)
    postings_before = _count(books, Posting)

    second = _pay(books, "t-pay-1", 1000)

    assert not second.created
    assert second.kinds == first.kinds == {ValueKind.COIN: 1000}
    assert _balance(books, "alice") == {}
    assert _balance(books, "shop") == {ValueKind.COIN: 1000}
    assert _count(books, Posting) == postings_before
    _assert_conserved(books)


def test_spent_balance_other_amount_conflicts(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")
    _pay(books, "t-pay-1", 1000)

    with pytest.raises(IdempotencyConflict):
        _pay(books, "t-pay-1", 500)

    assert _balance(books, "shop") == {ValueKind.COIN: 1000}
    _assert_conserved(books)


def test_same_id_other_destination_conflicts(books: Database) -> None:
    _open(books, "bakery")
    _issue(books, "alice", 1000, "t-issue-1")
    _pay(books, "t-pay-1", 300)

    with pytest.raises(IdempotencyConflict, match="from account alice to account shop"):
        _pay(books, "t-pay-1", 300, destination="bakery")

    assert _balance(books, "alice") == {ValueKind.COIN: 700}
    assert _balance(books, "bakery") == {}
    _assert_conserved(books)


def test_payment_id_reused_by_issue_conflicts(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")
    _pay(books, "t-pay-1", 300)

    with pytest.raises(IdempotencyConflict, match="already booked, with purpose payment"):
        _issue(books, "alice", 300, "t-pay-1")

    assert _balance(books, "alice") == {ValueKind.COIN: 700}
    _assert_conserved(books)


def test_pay_from_issuer_rejected(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    with pytest.raises(ValueError, match="issuing account"):
        _pay(books, "t-pay-1", 100, source=ISSUANCE_ACCOUNT_ID)

    assert _balance(books, "shop") == {}
    assert _count(books, Transfer) == 1
    _assert_conserved(books)


def test_unknown_destination_rejected(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    with pytest.raises(UnknownAccount, match="account nobody does not exist"):
        _pay(books, "t-pay-1", 100, destination="nobody")

    assert _balance(books, "alice") == {ValueKind.COIN: 1000}
    assert _count(books, Transfer) == 1
    _assert_conserved(books)


def test_unknown_source_rejected(books: Database) -> None:
    with pytest.raises(UnknownAccount, match="account nobody does not exist"):
        _pay(books, "t-pay-1", 100, source="nobody")

    assert _count(books, Transfer) == 0


def test_same_issue_id_other_kind_conflicts(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    with pytest.raises(IdempotencyConflict):
        _issue(books, "alice", 1000, "t-issue-1", kind=ValueKind.BENEFIT)

    assert _balance(books, "alice") == {ValueKind.COIN: 1000}


def test_overdraft_rejected(books: Database) -> None:
    _issue(books, "alice", 100, "t-issue-1")

    with pytest.raises(InsufficientFunds, match="100 yen spendable, 101 yen requested"):
        _pay(books, "t-pay-1", 101)

    assert _balance(books, "alice") == {ValueKind.COIN: 100}
    assert _balance(books, "shop") == {}
    assert _count(books, Transfer) == 1
    _assert_conserved(books)


def test_spend_order_restricted_first(books: Database) -> None:
    _issue(books, "alice", 500, "t-coin", kind=ValueKind.COIN)
    _issue(books, "alice", 200, "t-premium-all", kind=ValueKind.PREMIUM_ALL, expires_at=LATER)
    _issue(books, "alice", 100, "t-benefit", kind=ValueKind.BENEFIT, expires_at=LATER)
    _issue(books, "alice", 50, "t-local", kind=ValueKind.PREMIUM_LOCAL, expires_at=LATER)

    result = _pay(books, "t-pay-1", 400)

    assert result.kinds == {
        ValueKind.PREMIUM_LOCAL: 50,
        ValueKind.BENEFIT: 100,
        ValueKind.PREMIUM_ALL: 200,
        ValueKind.COIN: 50,
    }
    assert _balance(books, "alice") == {ValueKind.COIN: 450}
    assert _balance(books, "shop") == result.kinds
    _assert_conserved(books)


def test_spend_order_earliest_expiry_first(books: Database) -> None:
    _issue(books, "alice", 100, "t-none", kind=ValueKind.BENEFIT)
    _issue(books, "alice", 100, "t-later", kind=ValueKind.BENEFIT, expires_at=LATER)
    _issue(books, "alice", 100, "t-sooner", kind=ValueKind.BENEFIT, expires_at=SOONER)

    _pay(books, "t-pay-1", 150)

    with books.read() as session:
        shop_lots = session.scalars(select(Lot).where(Lot.account_id == "shop")).all()
        alice_lots = session.scalars(select(Lot).where(Lot.account_id == "alice")).all()
    received = sorted((lot.expires_at or datetime.max.replace(tzinfo=UTC), lot.initial_yen)
                      for lot in shop_lots)
    assert received == [(SOONER, 100), (LATER, 50)]
    left = {lot.transfer_id: lot.remaining_yen for lot in alice_lots}
    assert left == {"t-sooner": 0, "t-later": 50, "t-none": 100}
    _assert_conserved(books)


def test_kind_order_before_expiry(books: Database) -> None:
    _issue(books, "alice", 100, "t-benefit", kind=ValueKind.BENEFIT, expires_at=SOONER)
    _issue(books, "alice", 100, "t-local", kind=ValueKind.PREMIUM_LOCAL, expires_at=LATER)

    result = _pay(books, "t-pay-1", 150)

    assert result.kinds == {ValueKind.PREMIUM_LOCAL: 100, ValueKind.BENEFIT: 50}
    assert _balance(books, "alice") == {ValueKind.BENEFIT: 50}
    _assert_conserved(books)


def test_expired_lots_not_spendable(books: Database) -> None:
    _issue(books, "alice", 100, "t-soon", kind=ValueKind.PREMIUM_LOCAL, expires_at=SOONER)
    _issue(books, "alice", 100, "t-coin")
    after_expiry = SOONER + timedelta(seconds=1)

    assert _balance(books, "alice", now=after_expiry) == {ValueKind.COIN: 100}
    with pytest.raises(InsufficientFunds):
        _pay(books, "t-pay-1", 150, now=after_expiry)
    result = _pay(books, "t-pay-2", 100, now=after_expiry)

    assert result.kinds == {ValueKind.COIN: 100}
    _assert_conserved(books)


def test_reverse_returns_same_kinds(books: Database) -> None:
    _issue(books, "alice", 100, "t-local", kind=ValueKind.PREMIUM_LOCAL, expires_at=LATER)
    _issue(books, "alice", 500, "t-coin")
    _pay(books, "t-pay-1", 300)

    with books.write() as session:
        first = ledger.reverse(session, transfer_id="t-back-1", original_transfer_id="t-pay-1",
                               amount_yen=250, now=NOW)
    with books.write() as session:
        second = ledger.reverse(session, transfer_id="t-back-2", original_transfer_id="t-pay-1",
                                amount_yen=50, now=NOW)

    assert first.kinds == {ValueKind.COIN: 200, ValueKind.PREMIUM_LOCAL: 50}
    assert second.kinds == {ValueKind.PREMIUM_LOCAL: 50}
    assert _balance(books, "alice") == {ValueKind.COIN: 500, ValueKind.PREMIUM_LOCAL: 100}
    assert _balance(books, "shop") == {}
    with books.read() as session:
        returned = session.scalars(select(Lot).where(Lot.transfer_id == "t-back-2")).one()
    assert returned.expires_at == LATER
    _assert_conserved(books)


def test_reverse_same_id_moves_once(books: Database) -> None:
    _issue(books, "alice", 500, "t-coin")
    _pay(books, "t-pay-1", 300)
    first = _reverse(books, "t-back-1", "t-pay-1", 300)
    postings_before = _count(books, Posting)

    second = _reverse(books, "t-back-1", "t-pay-1", 300)

    assert first.created
    assert not second.created
    assert second.kinds == first.kinds == {ValueKind.COIN: 300}
    assert _balance(books, "alice") == {ValueKind.COIN: 500}
    assert _count(books, Posting) == postings_before
    _assert_conserved(books)


def test_reverse_same_id_other_amount_conflicts(books: Database) -> None:
    _issue(books, "alice", 500, "t-coin")
    _pay(books, "t-pay-1", 300)
    _reverse(books, "t-back-1", "t-pay-1", 100)

    with pytest.raises(IdempotencyConflict):
        _reverse(books, "t-back-1", "t-pay-1", 200)

    assert _balance(books, "alice") == {ValueKind.COIN: 300}
    _assert_conserved(books)


def test_reverse_beyond_payment_rejected(books: Database) -> None:
    _issue(books, "alice", 500, "t-coin")
    _pay(books, "t-pay-1", 300)

    with pytest.raises(InsufficientFunds), books.write() as session:
        ledger.reverse(session, transfer_id="t-back-1", original_transfer_id="t-pay-1",
                       amount_yen=301, now=NOW)

    assert _balance(books, "shop") == {ValueKind.COIN: 300}


def test_audit_finds_tampered_lot(books: Database) -> None:
    _issue(books, "alice", 500, "t-coin")
    with books.write() as session:
        lot = session.scalars(select(Lot).where(Lot.account_id == "alice")).one()
        lot.remaining_yen = 400

    with books.read() as session:
        audit = ledger.audit_ledger(session)
        with pytest.raises(LedgerInconsistent, match="alice coin: lots hold 400"):
            ledger.verify_ledger(session)

    assert audit.totals_by_kind[ValueKind.COIN] == 0
    assert audit.problems == ["account alice coin: lots hold 400, postings sum to 500"]


def _run_concurrently(count: int, action: Callable[[int], None]) -> list[BaseException | None]:
    barrier = threading.Barrier(count)
    outcomes: list[BaseException | None] = [None] * count

    def worker(index: int) -> None:
        barrier.wait()
        try:
            action(index)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertions
            outcomes[index] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_concurrent_payments_never_overdraw(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    outcomes = _run_concurrently(20, lambda i: _pay(books, f"t-pay-{i}", 100) and None)

    failures = [exc for exc in outcomes if exc is not None]
    assert sum(exc is None for exc in outcomes) == 10
    assert len(failures) == 10
    assert all(isinstance(exc, InsufficientFunds) for exc in failures)
    assert _balance(books, "alice") == {}
    assert _balance(books, "shop") == {ValueKind.COIN: 1000}
    with books.read() as session:
        negative = session.scalar(select(func.count()).select_from(Lot)
                                  .where(Lot.remaining_yen < 0, Lot.account_id == "alice"))
    assert negative == 0
    _assert_conserved(books)


def test_concurrent_same_id_books_once(books: Database) -> None:
    _issue(books, "alice", 1000, "t-issue-1")

    outcomes = _run_concurrently(8, lambda i: _pay(books, "t-pay-same", 100) and None)

    assert outcomes == [None] * 8
    assert _balance(books, "alice") == {ValueKind.COIN: 900}
    _assert_conserved(books)


def test_concurrent_same_id_other_sources(books: Database) -> None:
    _open(books, "bob")
    _issue(books, "alice", 1000, "t-issue-1")
    _issue(books, "bob", 1000, "t-issue-2")
    sources = ["alice", "bob"]

    outcomes = _run_concurrently(2, lambda i: _pay(books, "t-pay-same", 100, source=sources[i])
                                 and None)

    assert sorted(type(exc).__name__ for exc in outcomes) == ["IdempotencyConflict", "NoneType"]
    spent = {source: 1000 - sum(_balance(books, source).values()) for source in sources}
    assert sorted(spent.values()) == [0, 100]
    assert _balance(books, "shop") == {ValueKind.COIN: 100}
    assert _count(books, Transfer) == 3
    _assert_conserved(books)
