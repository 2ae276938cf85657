"""Fee plans: marginal tiers, the monthly cap, rounding, plan files and assignment."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from money_helpers import PLAN_TOML
from sqlalchemy.orm import Session

from server import fees
from server.db import Database
from server.errors import ServerError
from server.merchants import create_merchant
from server.demo import DEMO_MERCHANT
from server.settings import utc_now

PLAN = next(plan for plan in fees.parse_plans(PLAN_TOML) if plan.name == "default")


def test_plan_file_parsed() -> None:
    assert PLAN == fees.FeePlan(
        name="default", fixed_monthly_yen=500, monthly_cap_yen=25_000,
        tiers=(fees.FeeTier(0, 300), fees.FeeTier(100_000, 200), fees.FeeTier(1_000_000, 100)),
    )


@pytest.mark.parametrize(("volume_yen", "fee_yen"), [
    (0, 0),
    (1, 0),                  # 0.03 yen rounds down
    (33, 0),                 # 0.99 yen
    (34, 1),                 # 1.02 yen
    (99_999, 2_999),         # 2,999.97 yen
    (100_000, 3_000),        # first tier boundary
    (100_001, 3_000),        # + 0.02 yen at 2 %
    (100_050, 3_001),        # + 1.00 yen at 2 %
    (999_999, 20_999),       # 3,000 + 17,999.98
    (1_000_000, 21_000),     # second tier boundary
    (1_000_001, 21_000),     # + 0.01 yen at 1 %
    (1_000_100, 21_001),     # + 1.00 yen at 1 %
    (1_399_999, 24_999),     # 24,999.99 yen, just under the cap
    (1_400_000, 25_000),     # the cap, reached exactly
    (1_400_001, 25_000),     # capped
    (50_000_000, 25_000),    # capped
])
def test_month_metered_fee_at_boundaries(volume_yen: int, fee_yen: int) -> None:
    assert fees.month_metered_fee_yen(PLAN, volume_yen) == fee_yen


def test_effective_rate_falls() -> None:
    volumes = [100_000, 1_000_000, 1_400_000]
    rates = [fees.month_metered_fee_yen(PLAN, volume) / volume for volume in volumes]

    assert rates == [0.03, 0.021, 25_000 / 1_400_000]
    assert rates[0] > rates[1] > rates[2]


@pytest.mark.parametrize(("before_yen", "amount_yen", "metered_yen"), [
    (0, 100_000, 3_000),
    (99_999, 2, 1),           # 2,999 -> 3,000: crosses the first boundary
    (50_000, 100_000, 2_500), # 1,500 at 3 % + 1,000 at 2 %
    (900_000, 200_000, 3_000),  # 2,000 at 2 % + 1,000 at 1 %
    (1_390_000, 20_000, 100), # 24,900 -> capped 25,000
    (1_400_000, 10_000, 0),   # cap already reached
])
def test_cash_out_fee_is_increase_of_month_total(
    before_yen: int, amount_yen: int, metered_yen: int
) -> None:
    quote = fees.quote(PLAN, before_yen, amount_yen, fixed_due=False)

    assert quote.metered_fee_yen == metered_yen
    assert quote.fixed_fee_yen == 0
    assert quote.fee_yen == metered_yen


def test_fixed_part_only_when_due() -> None:
    first = fees.quote(PLAN, 0, 10_000, fixed_due=True)
    later = fees.quote(PLAN, 10_000, 10_000, fixed_due=False)

    assert (first.fixed_fee_yen, first.metered_fee_yen, first.fee_yen) == (500, 300, 800)
    assert (later.fixed_fee_yen, later.metered_fee_yen, later.fee_yen) == (0, 300, 300)


@given(st.lists(st.integers(min_value=1, max_value=400_000), min_size=1, max_size=30))
def test_split_cash_outs_add_up_to_month_fee(amounts: list[int]) -> None:
    volume_yen = 0
    charged_yen = 0
    for amount_yen in amounts:
        charged_yen += fees.quote(PLAN, volume_yen, amount_yen, fixed_due=False).metered_fee_yen
        volume_yen += amount_yen

    assert charged_yen == fees.month_metered_fee_yen(PLAN, volume_yen)


def test_plan_without_cap() -> None:
    flat = next(plan for plan in fees.parse_plans(PLAN_TOML) if plan.name == "flat")

    assert flat.monthly_cap_yen is None
    assert fees.month_metered_fee_yen(flat, 100_000_000) == 1_000_000


@pytest.mark.parametrize(("text", "message"), [
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 5, rate_bp = 1 }]",
     "plans.a.tiers[0].from_yen = 5; the first tier must start at 0"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 0, rate_bp = 100 },"
     " { from_yen = 10, rate_bp = 200 }]",
     "plans.a.tiers[1].rate_bp = 200 is above the previous tier's 100; rates must fall"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 0, rate_bp = 100 },"
     " { from_yen = 0, rate_bp = 50 }]",
     "plans.a.tiers[1].from_yen = 0 must be above the previous tier's 0"),
    ("[plans.a]\nfixed_monthly_yen = -1\ntiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.fixed_monthly_yen = -1 is out of range; allowed: 0 to 100000000 yen"),
    ("[plans.a]\nfixed_monthly_yen = 99999999999999999999\n"
     "tiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.fixed_monthly_yen = 99999999999999999999 is out of range;"
     " allowed: 0 to 100000000 yen"),
    ("[plans.a]\nfixed_monthly_yen = 9223372036854775807\n"
     "tiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.fixed_monthly_yen = 9223372036854775807 is out of range;"
     " allowed: 0 to 100000000 yen"),
    ("[plans.a]\nfixed_monthly_yen = 0\nmonthly_cap_yen = 100000001\n"
     "tiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.monthly_cap_yen = 100000001 is out of range; allowed: 0 to 100000000 yen"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 0, rate_bp = 2 },"
     " { from_yen = 100000001, rate_bp = 1 }]",
     "plans.a.tiers[1].from_yen = 100000001 is out of range; allowed: 0 to 100000000 yen"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 0, rate_bp = -1 }]",
     "plans.a.tiers[0].rate_bp = -1 is out of range; allowed: 0 to 10000 bp"),
    ("[plans.a]\nfixed_monthly_yen = 1.5\ntiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.fixed_monthly_yen = 1.5 is invalid"),
    ("[plans.a]\nfixed_monthly_yen = true\ntiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.fixed_monthly_yen = True is invalid"),
    ("[plans.a]\ntiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.fixed_monthly_yen is missing"),
    ("[plans.a]\nfixed_monthly_yen = 0\nmonthly_cap_yen = \"lots\"\n"
     "tiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a.monthly_cap_yen = 'lots' is invalid"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 0, rate_bp = 10001 }]",
     "plans.a.tiers[0].rate_bp = 10001 is out of range; allowed: 0 to 10000 bp"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = []",
     "plans.a.tiers must be a non-empty list of { from_yen = N, rate_bp = N }"),
    ("[plans.a]\nfixed_monthly_yen = 0\nrate = 3\ntiers = [{ from_yen = 0, rate_bp = 1 }]",
     "plans.a has unknown keys ['rate']"),
    ("[plans.a]\nfixed_monthly_yen = 0\ntiers = [{ from_yen = 0 }]",
     "plans.a.tiers[0] must have exactly from_yen and rate_bp"),
    ("fixed = 1", "fee-plan file has no [plans.NAME] table"),
    ("[plans.a\n", "fee-plan file is not valid TOML"),
])
def test_plan_file_errors_name_field(text: str, message: str) -> None:
    with pytest.raises(fees.FeePlanError) as caught:
        fees.parse_plans(text)

    assert message in str(caught.value)


def _merchant(session: Session) -> str:
    return create_merchant(session, DEMO_MERCHANT, now=utc_now()).id


def test_merchant_uses_default_then_assigned(database: Database) -> None:
    with database.write() as session:
        merchant_id = _merchant(session)
        fees.save_plans(session, fees.parse_plans(PLAN_TOML), now=utc_now())

    with database.read() as session:
        default = fees.plan_for_merchant(session, merchant_id)
    with database.write() as session:
        fees.assign_plan(session, merchant_id, "flat", now=utc_now())
    with database.read() as session:
        assigned = fees.plan_for_merchant(session, merchant_id)

    assert default.name == "default"
    assert assigned.name == "flat"
    assert assigned.tiers == (fees.FeeTier(0, 100),)


def test_missing_plan_is_fee_plan_missing(database: Database) -> None:
    with database.write() as session:
        merchant_id = _merchant(session)

    with database.read() as session, pytest.raises(ServerError) as caught:
        fees.plan_for_merchant(session, merchant_id)

    assert caught.value.code == "fee_plan_missing"
    assert "chiiki-settle fee-plan-load FILE" in caught.value.message


def test_assign_unknown_plan_rejected(database: Database) -> None:
    with database.write() as session:
        merchant_id = _merchant(session)

    with database.write() as session, pytest.raises(ServerError) as caught:
        fees.assign_plan(session, merchant_id, "gold", now=utc_now())

    assert caught.value.code == "not_found"
    assert "fee plan 'gold' does not exist" in caught.value.message


def test_reloading_plan_replaces_it(database: Database) -> None:
    changed = PLAN_TOML.replace("fixed_monthly_yen = 500", "fixed_monthly_yen = 800")
    with database.write() as session:
        merchant_id = _merchant(session)
        fees.save_plans(session, fees.parse_plans(PLAN_TOML), now=utc_now())
    with database.write() as session:
        fees.save_plans(session, fees.parse_plans(changed), now=utc_now())

    with database.read() as session:
        plan = fees.plan_for_merchant(session, merchant_id)
        names = [stored.name for stored in fees.list_plans(session)]

    assert plan.fixed_monthly_yen == 800
    assert names == ["default", "flat"]


def test_plan_at_limits_accepted() -> None:
    text = ("[plans.a]\nfixed_monthly_yen = 100000000\nmonthly_cap_yen = 100000000\n"
            "tiers = [{ from_yen = 0, rate_bp = 10000 }, { from_yen = 100000000, rate_bp = 0 }]")

    plan = fees.parse_plans(text)[0]

    assert (plan.fixed_monthly_yen, plan.monthly_cap_yen) == (100_000_000, 100_000_000)
    assert plan.tiers == (fees.FeeTier(0, 10_000), fees.FeeTier(100_000_000, 0))
