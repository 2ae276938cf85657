"""Premium sale lotteries: commit, draw, publish, verify, and the second round."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from settle_helpers import FakeClock
from sqlalchemy import select
from sqlalchemy.orm import Session

from server import ledger, lottery, premium, wallets
from server.db import Database
from server.errors import ServerError
from server.models import ISSUANCE_ACCOUNT_ID, Wallet
from server.premium import SaleConfig
from server.premium_models import PremiumApplication

SALE = "draw-test"
# The seeds commit_seeds returned, by database URL: what the operator's seed file holds.
SEEDS: dict[str, dict[int, str]] = {}


def sale_config(now: datetime, **changes: Any) -> SaleConfig:
    values: dict[str, Any] = dict(
        sale_id=SALE, name="プレミアム商品券", apply_from=now,
        apply_until=now + timedelta(days=10), purchase_from=now + timedelta(days=12),
        purchase_until=now + timedelta(days=20), usage_until=now + timedelta(days=100),
        price_yen=10_000, local_yen=6_000, all_yen=6_000, total_sets=10,
        per_person_max_sets=3, household_max_people=4, household_max_sets=8,
        residents_only=True)
    values.update(changes)
    return SaleConfig(**values)


def new_resident(session: Session, now: datetime, coin_yen: int = 0) -> Wallet:
    created = wallets.create_wallet(session, now=now)
    wallet = session.get(Wallet, created.wallet_id)
    assert wallet is not None
    wallet.is_resident = True
    if coin_yen:
        ledger.issue(session, transfer_id=f"topup:{wallet.id}", issuer_id=ISSUANCE_ACCOUNT_ID,
                     destination_id=wallet.account_id, amount_yen=coin_yen, now=now)
    return wallet


def setup_sale(database: Database, clock: FakeClock, requests: list[int],
               coin_yen: int = 0, **changes: Any) -> list[str]:
    """Create and commit a sale, apply with one new resident per entry; return wallet ids."""
    now = clock()
    ids = []
    with database.write() as session:
        premium.create_sale(session, sale_config(now, **changes), now=now)
        seeds = premium.commit_seeds(session, SALE, now=now)
        SEEDS[str(database.engine.url)] = {item.round: item.seed for item in seeds}
        for sets in requests:
            wallet = new_resident(session, now, coin_yen)
            premium.apply(session, wallet, SALE, sets=sets, for_wallet_id=None,
                          idempotency_key=uuid.uuid4().hex, now=now)
            ids.append(wallet.id)
    return ids


def applications(database: Database) -> list[PremiumApplication]:
    with database.read() as session:
        return list(session.scalars(select(PremiumApplication).order_by(PremiumApplication.id)))


def seed_of(database: Database, round_number: int = 1) -> str:
    return SEEDS[str(database.engine.url)][round_number]


def draw(database: Database, clock: FakeClock, round_number: int = 1) -> dict[str, Any]:
    with database.write() as session:
        premium.draw(session, SALE, round_number, seed=seed_of(database, round_number),
                     now=clock())
        return premium.publish(session, SALE, round_number, now=clock())


def buy(database: Database, clock: FakeClock, application: PremiumApplication) -> None:
    with database.write() as session:
        wallet = session.get(Wallet, application.wallet_id)
        assert wallet is not None
        premium.purchase(session, wallet, application.id, now=clock())


def assert_conserved(database: Database) -> None:
    with database.read() as session:
        audit = ledger.audit_ledger(session)
    assert audit.problems == []
    assert set(audit.totals_by_kind.values()) == {0}


# --- round 1 -------------------------------------------------------------------------------


def test_oversubscribed_draw_fills_supply(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3] * 8)
    clock.advance(10 * 86400)

    record = draw(database, clock)

    rows = applications(database)
    assert sum(row.sets_won for row in rows) == 10
    assert sorted(row.status for row in rows).count("lost") == 4
    assert record["supply_sets"] == 10
    assert sum(record["winners"].values()) == 10
    assert premium.verify_record(record) == []
    assert_conserved(database)


def test_last_winner_gets_remainder(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3, 3, 3, 3])
    clock.advance(10 * 86400)

    record = draw(database, clock)

    won = [record["winners"].get(application_id, 0) for application_id in record["order"]]
    assert won == [3, 3, 3, 1]


def test_undersubscribed_draw_everyone_wins(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3, 2, 1])
    clock.advance(10 * 86400)

    draw(database, clock)

    rows = applications(database)
    assert [row.status for row in rows] == ["won"] * 3
    assert all(row.sets_won == row.sets_requested for row in rows)


def test_draw_reproducible_from_published_seed(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [2] * 12)
    clock.advance(10 * 86400)

    record = draw(database, clock)

    candidate_ids = [item["id"] for item in record["candidates"]]
    rerun = lottery.order(record["seed"], candidate_ids)
    assert rerun == record["order"]
    requests = {item["id"]: item["sets"] for item in record["candidates"]}
    assert lottery.allocate(rerun, requests, 10) == record["winners"]
    other_seed = lottery.generate_seed()
    assert lottery.order(other_seed, candidate_ids) != rerun
    assert lottery.commitment(record["seed"]) == record["commitment"]


def test_positions_stored_on_applications(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3] * 5)
    clock.advance(10 * 86400)

    record = draw(database, clock)

    positions = {row.id: row.draw_position for row in applications(database)}
    assert [positions[application_id] for application_id in record["order"]] == [1, 2, 3, 4, 5]


def test_tampered_record_fails_verification(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3] * 8)
    clock.advance(10 * 86400)
    record = draw(database, clock)
    loser = record["order"][-1]

    swapped = dict(record, winners={**record["winners"], loser: 3})
    wrong_seed = dict(record, seed=lottery.generate_seed())
    reordered = dict(record, order=list(reversed(record["order"])))

    assert "winners differ" in premium.verify_record(swapped)[0]
    assert premium.verify_record(wrong_seed) == [
        "the seed does not match the published commitment"]
    assert premium.verify_record(reordered)[0].startswith("position 1:")
    assert "malformed" in premium.verify_record({"seed": "x"})[0]


def test_seed_secret_until_published(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [1])
    clock.advance(10 * 86400)
    with database.write() as session:
        premium.draw(session, SALE, 1, seed=seed_of(database), now=clock())
        draw_row = premium.draws_of(session, SALE)[1]
        sale = premium.get_sale(session, SALE)
        unpublished = premium.draw_record(sale, draw_row)

    assert unpublished["seed"] is None
    assert premium.verify_record(unpublished) == [
        "the record has no seed; the round has not been published yet"]


@pytest.mark.parametrize("step, message", [
    ("commit_twice", "already has committed seeds"),
    ("draw_early", "can be drawn once applications close"),
    ("draw_twice", "a round is drawn once"),
    ("publish_early", "has not been drawn"),
    ("commit_late", "must be committed before"),
])
def test_draw_steps_out_of_order_rejected(database: Database, clock: FakeClock, step: str,
                                          message: str) -> None:
    setup_sale(database, clock, [1])

    with pytest.raises(ServerError, match=message), database.write() as session:
        if step == "commit_twice":
            premium.commit_seeds(session, SALE, now=clock())
        elif step == "draw_early":
            premium.draw(session, SALE, 1, seed=seed_of(database), now=clock())
        elif step == "draw_twice":
            clock.advance(10 * 86400)
            premium.draw(session, SALE, 1, seed=seed_of(database), now=clock())
            premium.draw(session, SALE, 1, seed=seed_of(database), now=clock())
        elif step == "publish_early":
            premium.publish(session, SALE, 1, now=clock())
        else:
            premium.create_sale(session, sale_config(clock(), sale_id="late"), now=clock())
            clock.advance(10 * 86400)
            premium.commit_seeds(session, "late", now=clock())


def test_draw_without_commitment_rejected(database: Database, clock: FakeClock) -> None:
    with database.write() as session:
        premium.create_sale(session, sale_config(clock()), now=clock())
    clock.advance(10 * 86400)

    with pytest.raises(ServerError, match="no committed seed"), database.write() as session:
        premium.draw(session, SALE, 1, seed=lottery.generate_seed(), now=clock())


def test_bad_sale_config_names_every_problem(database: Database, clock: FakeClock) -> None:
    now = clock()
    config = sale_config(now, sale_id="Bad Id", price_yen=0, local_yen=100, all_yen=100,
                         total_sets=0, purchase_from=now + timedelta(days=5))

    problems = premium.config_problems(config)

    assert any("id 'Bad Id' is invalid" in problem for problem in problems)
    assert any("price_yen 0 is out of range; use 1 to 1000000 yen" in problem
               for problem in problems)
    assert any("total_sets 0 is out of range" in problem for problem in problems)
    assert any(problem.startswith("apply_until") for problem in problems)


def test_cheap_set_rejected(database: Database, clock: FakeClock) -> None:
    config = sale_config(clock(), local_yen=4_000, all_yen=4_000)

    assert premium.config_problems(config) == [
        "local_yen + all_yen = 8000 yen is less than price_yen 10000; a set must be worth at"
        " least its price"]


# --- round 2 -------------------------------------------------------------------------------


def test_second_round_sells_unclaimed_sets(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3] * 6, coin_yen=30_000)
    clock.advance(12 * 86400)
    draw(database, clock)
    winners = [row for row in applications(database) if row.status == "won"]
    buy(database, clock, winners[0])
    buy(database, clock, winners[1])
    unclaimed_row = winners[2]
    clock.advance(8 * 86400)
    with database.write() as session:
        premium.set_second_round(session, SALE, purchase_from=clock() + timedelta(days=1),
                                 purchase_until=clock() + timedelta(days=8))

    record = draw(database, clock, 2)

    rows = {row.id: row for row in applications(database)}
    unclaimed = 10 - winners[0].sets_won - winners[1].sets_won
    assert record["supply_sets"] == unclaimed
    assert sum(record["winners"].values()) == unclaimed
    assert {item["id"] for item in record["candidates"]} == {
        row.id for row in rows.values() if row.round_won != 1 and row.draw_position is not None
    }
    assert premium.verify_record(record) == []
    assert unclaimed_row.id not in record["winners"]
    second_winners = [rows[key] for key in record["winners"]]
    assert all(row.round_won == 2 for row in second_winners)

    clock.advance(86400)
    for row in second_winners:
        buy(database, clock, row)
    with pytest.raises(ServerError, match="can\\s+be bought from"):
        buy(database, clock, rows[unclaimed_row.id])
    with database.read() as session:
        assert premium.sets_purchased(session, SALE) == 10
    assert_conserved(database)


def test_second_round_needs_period_and_end_of_first(database: Database,
                                                     clock: FakeClock) -> None:
    setup_sale(database, clock, [3] * 6)
    clock.advance(12 * 86400)
    draw(database, clock)

    with pytest.raises(ServerError, match="first purchase period ends"), \
            database.write() as session:
        premium.draw(session, SALE, 2, seed=seed_of(database, 2), now=clock())
    clock.advance(8 * 86400)
    with pytest.raises(ServerError, match="no second purchase period"), \
            database.write() as session:
        premium.draw(session, SALE, 2, seed=seed_of(database, 2), now=clock())
    with pytest.raises(ServerError, match="must start at or after"), \
            database.write() as session:
        premium.set_second_round(session, SALE, purchase_from=clock() - timedelta(days=1),
                                 purchase_until=clock() + timedelta(days=1))
    with pytest.raises(ServerError, match="by the end of the usage period"), \
            database.write() as session:
        premium.set_second_round(session, SALE, purchase_from=clock(),
                                 purchase_until=clock() + timedelta(days=365))


def test_second_round_with_nothing_unclaimed(database: Database, clock: FakeClock) -> None:
    setup_sale(database, clock, [3, 3, 3, 3], coin_yen=30_000)
    clock.advance(12 * 86400)
    draw(database, clock)
    for row in applications(database):
        if row.status == "won":
            buy(database, clock, row)
    clock.advance(8 * 86400)
    with database.write() as session:
        premium.set_second_round(session, SALE, purchase_from=clock(),
                                 purchase_until=clock() + timedelta(days=5))

    record = draw(database, clock, 2)

    assert record["supply_sets"] == 0
    assert record["winners"] == {}
    assert premium.verify_record(record) == []
    assert_conserved(database)


def test_sale_closed_before_creation_rejected(database: Database, clock: FakeClock) -> None:
    now = clock()
    config = sale_config(now - timedelta(days=30))

    with pytest.raises(ServerError) as raised, database.write() as session:
        premium.create_sale(session, config, now=now)

    message = raised.value.message
    assert "apply_until" in message
    assert "is not in the future" in message
    assert "set the periods to future dates" in message
    with database.read() as session:
        assert premium.list_sales(session) == []


def test_negative_price_range_agrees_with_rule(database: Database, clock: FakeClock) -> None:
    problems = premium.config_problems(sale_config(clock(), price_yen=-5))

    assert problems == ["price_yen -5 is out of range; use 1 to 1000000 yen"]
