"""Which lots a payment may spend at which shop, lot attributes through transfers, and expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server import ledger
from server.db import Database
from server.errors import InsufficientFunds
from server.models import ISSUANCE_ACCOUNT_ID, Lot, Transfer
from terminal.protocol import ValueKind

NOW = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
SOON = NOW + timedelta(days=3)
LATER = NOW + timedelta(days=30)

LOCAL_GROCER = ledger.Acceptance(local=True, merchant_category="5411")
CHAIN_GROCER = ledger.Acceptance(local=False, merchant_category="5411")
LOCAL_CAFE = ledger.Acceptance(local=True, merchant_category="5814")
CITY_FUND = "city-fund"


@pytest.fixture
def wallet(database: Database) -> Database:
    """A wallet 'w' holding local points, a food-only benefit, all-shop points and coin."""
    with database.write() as session:
        for account_id in ("w", "shop"):
            ledger.open_account(session, account_id, "wallet" if account_id == "w" else "merchant",
                                now=NOW)
        ledger.open_account(session, CITY_FUND, "campaign", now=NOW, is_issuing=True)
        lots = [
            ("local", ValueKind.PREMIUM_LOCAL, 300, LATER, None),
            ("benefit", ValueKind.BENEFIT, 200, LATER, ["5411", "5499"]),
            ("all", ValueKind.PREMIUM_ALL, 400, LATER, None),
            ("coin", ValueKind.COIN, 500, None, None),
        ]
        for name, kind, amount_yen, expires_at, categories in lots:
            ledger.issue(session, transfer_id=f"issue-{name}", issuer_id=CITY_FUND,
                         destination_id="w", amount_yen=amount_yen, now=NOW, kind=kind,
                         expires_at=expires_at, categories=categories)
    return database


def _pay(db: Database, transfer_id: str, amount_yen: int,
         acceptance: ledger.Acceptance | None, now: datetime = NOW) -> ledger.TransferResult:
    with db.write() as session:
        return ledger.pay(session, transfer_id=transfer_id, source_id="w", destination_id="shop",
                          amount_yen=amount_yen, now=now, acceptance=acceptance)


def _assert_conserved(db: Database) -> None:
    with db.read() as session:
        assert ledger.verify_ledger(session).totals_by_kind == {kind: 0 for kind in ValueKind}


def test_local_food_shop_spends_most_restricted_kinds_first(wallet: Database) -> None:
    result = _pay(wallet, "pay-1", 1_000, LOCAL_GROCER)

    assert result.kinds == {ValueKind.PREMIUM_LOCAL: 300, ValueKind.BENEFIT: 200,
                            ValueKind.PREMIUM_ALL: 400, ValueKind.COIN: 100}
    _assert_conserved(wallet)


def test_chain_shop_never_receives_local_points(wallet: Database) -> None:
    result = _pay(wallet, "pay-1", 1_100, CHAIN_GROCER)

    assert result.kinds == {ValueKind.BENEFIT: 200, ValueKind.PREMIUM_ALL: 400,
                            ValueKind.COIN: 500}
    with pytest.raises(InsufficientFunds, match="spendable at this shop"):
        _pay(wallet, "pay-2", 1, CHAIN_GROCER)
    with wallet.read() as session:
        assert ledger.balance(session, "w", now=NOW) == {ValueKind.PREMIUM_LOCAL: 300}


def test_category_restricted_benefit_is_skipped_at_other_categories(wallet: Database) -> None:
    result = _pay(wallet, "pay-1", 800, LOCAL_CAFE)

    assert result.kinds == {ValueKind.PREMIUM_LOCAL: 300, ValueKind.PREMIUM_ALL: 400,
                            ValueKind.COIN: 100}
    with wallet.read() as session:
        assert ledger.balance(session, "w", now=NOW)[ValueKind.BENEFIT] == 200


def test_unrestricted_acceptance_takes_only_value_any_shop_may_receive(wallet: Database) -> None:
    result = _pay(wallet, "pay-1", 900, ledger.UNRESTRICTED)

    assert result.kinds == {ValueKind.PREMIUM_ALL: 400, ValueKind.COIN: 500}


def test_earliest_expiry_is_spent_first_within_a_kind(wallet: Database) -> None:
    with wallet.write() as session:
        ledger.issue(session, transfer_id="issue-soon", issuer_id=CITY_FUND, destination_id="w",
                     amount_yen=100, now=NOW, kind=ValueKind.PREMIUM_ALL, expires_at=SOON)

    _pay(wallet, "pay-1", 150, CHAIN_GROCER)

    with wallet.read() as session:
        lots = session.execute(
            select(Lot.expires_at, Lot.remaining_yen)
            .where(Lot.account_id == "w", Lot.value_kind == ValueKind.PREMIUM_ALL.value)
            .order_by(Lot.expires_at)
        ).all()
    # 150 yen: the benefit (200) covers it whole at a food shop, so nothing else moves.
    assert [(row.expires_at, row.remaining_yen) for row in lots] == [(SOON, 100), (LATER, 400)]

    _pay(wallet, "pay-2", 150, LOCAL_CAFE)  # 300 local first, so again no premium_all
    _pay(wallet, "pay-3", 250, LOCAL_CAFE)  # 150 local left, then 100 of the sooner all-shops
    with wallet.read() as session:
        lots = session.execute(
            select(Lot.expires_at, Lot.remaining_yen)
            .where(Lot.account_id == "w", Lot.value_kind == ValueKind.PREMIUM_ALL.value)
            .order_by(Lot.expires_at)
        ).all()
    assert [(row.expires_at, row.remaining_yen) for row in lots] == [(SOON, 0), (LATER, 400)]
    _assert_conserved(wallet)


def test_restriction_and_funding_travel_with_the_value_and_back_on_refund(
    wallet: Database,
) -> None:
    _pay(wallet, "pay-1", 600, LOCAL_GROCER)
    with wallet.read() as session:
        shop_benefit = session.execute(
            select(Lot.restriction, Lot.funding_account_id, Lot.remaining_yen)
            .where(Lot.account_id == "shop", Lot.value_kind == ValueKind.BENEFIT.value)
        ).one()
    assert tuple(shop_benefit) == ("5411,5499", CITY_FUND, 200)

    with wallet.write() as session:
        refund = ledger.reverse(session, transfer_id="refund-1", original_transfer_id="pay-1",
                                amount_yen=600, now=NOW)
    assert refund.kinds == {ValueKind.PREMIUM_LOCAL: 300, ValueKind.BENEFIT: 200,
                            ValueKind.PREMIUM_ALL: 100}
    with wallet.read() as session:
        returned = session.execute(
            select(Lot.restriction, Lot.funding_account_id)
            .where(Lot.transfer_id == "refund-1", Lot.value_kind == ValueKind.BENEFIT.value)
        ).one()
    assert tuple(returned) == ("5411,5499", CITY_FUND)
    _assert_conserved(wallet)


def test_sweep_returns_expired_wallet_value_to_its_funding_account_once(
    wallet: Database,
) -> None:
    _pay(wallet, "pay-1", 100, LOCAL_GROCER)  # the shop holds 100 local points
    after_expiry = LATER + timedelta(seconds=1)

    with wallet.write() as session:
        first = ledger.sweep_expired(session, now=after_expiry)
    with wallet.write() as session:
        second = ledger.sweep_expired(session, now=after_expiry)

    assert {result.destination_account_id for result in first} == {CITY_FUND}
    assert sorted(tuple(result.kinds.items()) for result in first) == sorted([
        ((ValueKind.PREMIUM_LOCAL, 200),), ((ValueKind.BENEFIT, 200),),
        ((ValueKind.PREMIUM_ALL, 400),),
    ])
    assert second == []
    with wallet.read() as session:
        assert ledger.balance(session, "w", now=after_expiry) == {ValueKind.COIN: 500}
        # Value a shop was paid does not expire in its hands.
        assert ledger.held_balance(session, "shop") == {ValueKind.PREMIUM_LOCAL: 100}
        purposes = session.scalars(
            select(Transfer.purpose).where(Transfer.id.like("expiry:%"))
        ).all()
    assert purposes == ["expiry"] * 3
    _assert_conserved(wallet)


def test_sweep_leaves_unexpired_value_alone(wallet: Database) -> None:
    with wallet.write() as session:
        assert ledger.sweep_expired(session, now=LATER - timedelta(seconds=1)) == []


def test_sweep_works_through_many_lots_in_limited_rounds(wallet: Database) -> None:
    with wallet.write() as session:
        for number in range(5):
            ledger.issue(session, transfer_id=f"small-{number}", issuer_id=CITY_FUND,
                         destination_id="w", amount_yen=10, now=NOW,
                         kind=ValueKind.PREMIUM_ALL, expires_at=SOON)
    rounds = []
    while True:
        with wallet.write() as session:
            swept = ledger.sweep_expired(session, now=SOON, limit=2)
        if not swept:
            break
        rounds.append(len(swept))

    assert rounds == [2, 2, 1]
    _assert_conserved(wallet)


@pytest.mark.parametrize("categories", [[], ["54"], ["5411", "abcd"], ["５４１１"]])
def test_issue_rejects_malformed_categories(wallet: Database, categories: list[str]) -> None:
    with wallet.write() as session, pytest.raises(ValueError, match="4-digit"):
        ledger.issue(session, transfer_id="bad", issuer_id=CITY_FUND, destination_id="w",
                     amount_yen=1, now=NOW, kind=ValueKind.BENEFIT, categories=categories)


def test_only_benefit_value_can_be_restricted(wallet: Database) -> None:
    with wallet.write() as session, pytest.raises(ValueError, match="only benefit"):
        ledger.issue(session, transfer_id="bad", issuer_id=ISSUANCE_ACCOUNT_ID,
                     destination_id="w", amount_yen=1, now=NOW, kind=ValueKind.COIN,
                     categories=["5411"])


def test_coin_only_payment_names_the_kind_it_lacks(wallet: Database) -> None:
    with pytest.raises(InsufficientFunds, match="holds 500 yen spendable as coin"):
        _pay(wallet, "pay-1", 600, ledger.COIN_ONLY)

    result = _pay(wallet, "pay-2", 500, ledger.COIN_ONLY)
    assert result.kinds == {ValueKind.COIN: 500}
