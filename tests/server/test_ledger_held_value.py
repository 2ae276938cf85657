"""Merchant-held value in the ledger: expired lots still count and are spent oldest first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import ledger
from server.db import Database
from server.errors import InsufficientFunds
from server.models import ISSUANCE_ACCOUNT_ID, Lot
from terminal.protocol import ValueKind

NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
SOON = NOW + timedelta(days=1)
LATER = NOW + timedelta(days=30)


@pytest.fixture
def books(database: Database) -> Iterator[Database]:
    with database.write() as session:
        for account_id in ("shop", "clearing", "supplier"):
            ledger.open_account(session, account_id, "merchant", now=NOW)
        # The shop was paid premium points expiring soon, then coin, then later points.
        _issue(session, "t-1", 300, ValueKind.PREMIUM_LOCAL, SOON)
        _issue(session, "t-2", 500, ValueKind.COIN, None)
        _issue(session, "t-3", 200, ValueKind.PREMIUM_ALL, LATER)
    yield database


def _issue(session: Session, transfer_id: str, amount_yen: int, kind: ValueKind,
           expires_at: datetime | None) -> None:
    ledger.issue(session, transfer_id=transfer_id, issuer_id=ISSUANCE_ACCOUNT_ID,
                 destination_id="shop", amount_yen=amount_yen, now=NOW, kind=kind,
                 expires_at=expires_at)


def _lots(books: Database, account_id: str) -> list[tuple[str, datetime | None, int]]:
    with books.read() as session:
        rows = session.scalars(select(Lot).where(Lot.account_id == account_id,
                                                 Lot.remaining_yen > 0).order_by(Lot.seq))
        return [(row.value_kind, row.expires_at, row.remaining_yen) for row in rows]


def test_held_balance_counts_expired_lots(books: Database) -> None:
    after_expiry = SOON + timedelta(hours=1)
    with books.read() as session:
        spendable = ledger.balance(session, "shop", now=after_expiry)
        held = ledger.held_balance(session, "shop")

    assert spendable == {ValueKind.COIN: 500, ValueKind.PREMIUM_ALL: 200}
    assert held == {ValueKind.PREMIUM_LOCAL: 300, ValueKind.COIN: 500,
                    ValueKind.PREMIUM_ALL: 200}


def test_pay_held_spends_oldest_first_expired_too(books: Database) -> None:
    after_expiry = SOON + timedelta(hours=1)
    with books.write() as session:
        result = ledger.pay_held(session, transfer_id="t-out", source_id="shop",
                                 destination_id="supplier", amount_yen=600, now=after_expiry)

    assert result.kinds == {ValueKind.PREMIUM_LOCAL: 300, ValueKind.COIN: 300}
    assert _lots(books, "shop") == [("coin", None, 200), ("premium_all", LATER, 200)]
    assert _lots(books, "supplier") == [("premium_local", SOON, 300), ("coin", None, 300)]
    with books.read() as session:
        ledger.verify_ledger(session)


def test_pay_held_whole_balance_after_expiry(books: Database) -> None:
    with books.write() as session:
        ledger.pay_held(session, transfer_id="t-all", source_id="shop",
                        destination_id="clearing", amount_yen=1_000, now=LATER + timedelta(days=1))

    assert _lots(books, "shop") == []
    with books.read() as session:
        assert sum(ledger.held_balance(session, "clearing").values()) == 1_000


def test_pay_held_beyond_holding_rejected(books: Database) -> None:
    with pytest.raises(InsufficientFunds, match="account shop holds 1000 yen held, 1001 yen"), \
            books.write() as session:
        ledger.pay_held(session, transfer_id="t-big", source_id="shop",
                        destination_id="clearing", amount_yen=1_001, now=NOW)


def test_pay_held_delivered_by_takes_only_that_transfer(books: Database) -> None:
    with books.write() as session:
        ledger.pay_held(session, transfer_id="t-a", source_id="shop",
                        destination_id="clearing", amount_yen=300, now=NOW)
        ledger.pay_held(session, transfer_id="t-b", source_id="shop",
                        destination_id="clearing", amount_yen=500, now=NOW)
    with books.write() as session:
        passed_on = ledger.pay_held(session, transfer_id="t-b-on", source_id="clearing",
                                    destination_id="supplier", amount_yen=500, now=NOW,
                                    delivered_by="t-b")
    with books.write() as session:
        returned = ledger.reverse(session, transfer_id="t-a-back", original_transfer_id="t-a",
                                  amount_yen=300, now=NOW)

    assert passed_on.kinds == {ValueKind.COIN: 500}
    assert returned.kinds == {ValueKind.PREMIUM_LOCAL: 300}
    assert _lots(books, "clearing") == []
    with pytest.raises(InsufficientFunds, match="delivered by transfer t-b"), \
            books.write() as session:
        ledger.pay_held(session, transfer_id="t-b-twice", source_id="clearing",
                        destination_id="supplier", amount_yen=1, now=NOW, delivered_by="t-b")


def test_pay_held_same_id_once(books: Database) -> None:
    with books.write() as session:
        first = ledger.pay_held(session, transfer_id="t-same", source_id="shop",
                                destination_id="supplier", amount_yen=100, now=NOW)
    with books.write() as session:
        again = ledger.pay_held(session, transfer_id="t-same", source_id="shop",
                                destination_id="supplier", amount_yen=100, now=NOW)

    assert (first.created, again.created) == (True, False)
    with books.read() as session:
        assert ledger.held_balance(session, "supplier") == {ValueKind.PREMIUM_LOCAL: 100}
