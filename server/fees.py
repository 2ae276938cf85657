"""Merchant fee plans and the fee of a cash-out.

A plan has a fixed monthly part and a metered part. The metered rate falls in marginal tiers
as the month's cash-out volume grows, like tax brackets: each tier's rate (in basis points,
1/10000) applies only to the part of the volume inside that tier, so the effective rate falls.
The month's metered fee is capped at ``monthly_cap_yen``; the fixed part is outside the cap.

When fees are charged: each cash-out pays the metered fee on its own amount, priced at the
tiers the month's volume has reached, and the month's first cash-out also pays the fixed part.
A month is a calendar month in Japan time. The volume is the sum of the month's cash-out
amounts, not counting failed payouts, whose fee is returned.

Rounding: the month's metered fee on a volume V is the exact sum of (part of V in a tier) x
(tier rate) / 10000, rounded down to whole yen, then capped. A cash-out's metered fee is
that month total after it minus the total before it, so a month's cash-outs always add up to
the fee on the month's whole volume, with no rounding drift between them.

Plans are configuration: the operator writes them in a TOML file and loads it with
``chiiki-settle fee-plan-load FILE``, which stores them in the database, where every server
process reads them. Example::

    [plans.default]
    fixed_monthly_yen = 500
    monthly_cap_yen = 50000          # optional; no cap when left out
    tiers = [
      { from_yen = 0, rate_bp = 300 },          # 3.00 % of the first 100,000 yen
      { from_yen = 100000, rate_bp = 200 },     # 2.00 % from 100,000 to 1,000,000 yen
      { from_yen = 1000000, rate_bp = 100 },    # 1.00 % above 1,000,000 yen
    ]

Yen values are whole numbers from 0 to ``MAX_PLAN_YEN`` (100,000,000); rates are 0 to 10000 bp.

A merchant uses the plan assigned with ``chiiki-settle fee-plan-assign``, else the plan
named ``default``.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.errors import ServerError, not_found
from server.models import FeePlanRow, Merchant, MerchantFeePlan
from terminal.protocol import ErrorCode

logger = logging.getLogger(__name__)

DEFAULT_PLAN_NAME = "default"
BASIS_POINTS_PER_UNIT = 10_000
_MAX_PLAN_NAME_CHARS = 40
# Largest yen value a plan may name (fixed part, cap, tier start): 100 million yen.
MAX_PLAN_YEN = 100_000_000


class FeePlanError(ValueError):
    """A fee-plan file or entry is invalid; the message names the plan and the field."""


@dataclass(frozen=True)
class FeeTier:
    """The rate that applies to the part of the month's volume from ``from_yen`` upwards."""

    from_yen: int
    rate_bp: int


@dataclass(frozen=True)
class FeePlan:
    name: str
    fixed_monthly_yen: int
    monthly_cap_yen: int | None
    tiers: tuple[FeeTier, ...]


@dataclass(frozen=True)
class FeeQuote:
    """The fee of one cash-out: the fixed part (if due this time) plus the metered part."""

    fixed_fee_yen: int
    metered_fee_yen: int

    @property
    def fee_yen(self) -> int:
        return self.fixed_fee_yen + self.metered_fee_yen


# --- arithmetic ----------------------------------------------------------------------------


def month_metered_fee_yen(plan: FeePlan, volume_yen: int) -> int:
    """Return the metered fee of a month with ``volume_yen`` of cash-outs, rounded down, capped."""
    if volume_yen < 0:
        raise ValueError(f"volume_yen must not be negative, got {volume_yen}")
    fee_bp_yen = 0
    for index, tier in enumerate(plan.tiers):
        upper_yen = plan.tiers[index + 1].from_yen if index + 1 < len(plan.tiers) else None
        if volume_yen <= tier.from_yen:
            break
        top_yen = volume_yen if upper_yen is None else min(volume_yen, upper_yen)
        fee_bp_yen += (top_yen - tier.from_yen) * tier.rate_bp
    fee_yen = fee_bp_yen // BASIS_POINTS_PER_UNIT
    if plan.monthly_cap_yen is not None:
        fee_yen = min(fee_yen, plan.monthly_cap_yen)
    return fee_yen


def quote(plan: FeePlan, month_volume_yen: int, amount_yen: int, *, fixed_due: bool) -> FeeQuote:
    """Price a cash-out of ``amount_yen`` after ``month_volume_yen`` of earlier cash-outs."""
    before_yen = month_metered_fee_yen(plan, month_volume_yen)
    after_yen = month_metered_fee_yen(plan, month_volume_yen + amount_yen)
    fixed_yen = plan.fixed_monthly_yen if fixed_due else 0
    return FeeQuote(fixed_fee_yen=fixed_yen, metered_fee_yen=after_yen - before_yen)


# --- plan files ----------------------------------------------------------------------------


def parse_plans(text: str) -> list[FeePlan]:
    """Parse and validate a fee-plan TOML document (see the module docstring)."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FeePlanError(f"fee-plan file is not valid TOML: {exc}") from None
    plans = document.get("plans")
    if not isinstance(plans, dict) or not plans:
        raise FeePlanError("fee-plan file has no [plans.NAME] table; see the example in"
                           " server/fees.py or docs/api.md")
    unknown = sorted(set(document) - {"plans"})
    if unknown:
        raise FeePlanError(f"fee-plan file has unknown top-level keys {unknown}; only [plans.NAME]"
                           " tables are allowed")
    return [_parse_plan(name, entry) for name, entry in plans.items()]


def _parse_plan(name: str, entry: Any) -> FeePlan:
    if not 1 <= len(name) <= _MAX_PLAN_NAME_CHARS or not name.isascii():
        raise FeePlanError(f"plan name {name!r} must be 1-{_MAX_PLAN_NAME_CHARS} ASCII characters")
    if not isinstance(entry, dict):
        raise FeePlanError(f"plans.{name} must be a table")
    unknown = sorted(set(entry) - {"fixed_monthly_yen", "monthly_cap_yen", "tiers"})
    if unknown:
        raise FeePlanError(f"plans.{name} has unknown keys {unknown}; allowed: fixed_monthly_yen,"
                           " monthly_cap_yen, tiers")
    fixed_yen = _yen(entry.get("fixed_monthly_yen"), f"plans.{name}.fixed_monthly_yen")
    cap_value = entry.get("monthly_cap_yen")
    cap_yen = None if cap_value is None else _yen(cap_value, f"plans.{name}.monthly_cap_yen")
    tiers = _parse_tiers(name, entry.get("tiers"))
    return FeePlan(name, fixed_yen, cap_yen, tiers)


def _parse_tiers(name: str, value: Any) -> tuple[FeeTier, ...]:
    if not isinstance(value, list) or not value:
        raise FeePlanError(f"plans.{name}.tiers must be a non-empty list of"
                           " { from_yen = N, rate_bp = N }")
    tiers: list[FeeTier] = []
    for index, item in enumerate(value):
        where = f"plans.{name}.tiers[{index}]"
        if not isinstance(item, dict) or set(item) != {"from_yen", "rate_bp"}:
            raise FeePlanError(f"{where} must have exactly from_yen and rate_bp, got {item!r}")
        tier = FeeTier(_yen(item["from_yen"], f"{where}.from_yen"),
                       _whole_number(item["rate_bp"], f"{where}.rate_bp",
                                     BASIS_POINTS_PER_UNIT, "bp"))
        _check_tier(where, tier, tiers[-1] if tiers else None)
        tiers.append(tier)
    return tuple(tiers)


def _check_tier(where: str, tier: FeeTier, previous: FeeTier | None) -> None:
    if previous is None:
        if tier.from_yen != 0:
            raise FeePlanError(f"{where}.from_yen = {tier.from_yen}; the first tier must start"
                               " at 0")
        return
    if tier.from_yen <= previous.from_yen:
        raise FeePlanError(f"{where}.from_yen = {tier.from_yen} must be above the previous"
                           f" tier's {previous.from_yen}")
    if tier.rate_bp > previous.rate_bp:
        raise FeePlanError(f"{where}.rate_bp = {tier.rate_bp} is above the previous tier's"
                           f" {previous.rate_bp}; rates must fall as volume grows")


def _yen(value: Any, field: str) -> int:
    return _whole_number(value, field, MAX_PLAN_YEN, "yen")


def _whole_number(value: Any, field: str, maximum: int, unit: str) -> int:
    if value is None:
        raise FeePlanError(f"{field} is missing")
    if not isinstance(value, int) or isinstance(value, bool):
        raise FeePlanError(f"{field} = {value!r} is invalid; expected a whole number from 0 to"
                           f" {maximum} {unit}")
    if not 0 <= value <= maximum:
        raise FeePlanError(f"{field} = {value} is out of range; allowed: 0 to {maximum} {unit}")
    return value


# --- stored plans --------------------------------------------------------------------------


def save_plans(session: Session, plans: list[FeePlan], *, now: datetime) -> None:
    """Insert or replace each plan; cash-outs already booked keep the fee they were charged."""
    for plan in plans:
        row = session.get(FeePlanRow, plan.name)
        tiers = [{"from_yen": tier.from_yen, "rate_bp": tier.rate_bp} for tier in plan.tiers]
        if row is None:
            session.add(FeePlanRow(name=plan.name, fixed_monthly_yen=plan.fixed_monthly_yen,
                                   monthly_cap_yen=plan.monthly_cap_yen, tiers=tiers,
                                   updated_at=now))
        else:
            row.fixed_monthly_yen = plan.fixed_monthly_yen
            row.monthly_cap_yen = plan.monthly_cap_yen
            row.tiers = tiers
            row.updated_at = now
        logger.info("fee plan %s saved", plan.name)
    session.flush()


def list_plans(session: Session) -> list[FeePlan]:
    rows = session.scalars(select(FeePlanRow).order_by(FeePlanRow.name))
    return [_plan_from_row(row) for row in rows]


def assign_plan(session: Session, merchant_id: str, plan_name: str, *, now: datetime) -> None:
    """Make ``merchant_id`` pay by ``plan_name`` from its next cash-out on."""
    if session.get(Merchant, merchant_id) is None:
        raise not_found(f"merchant {merchant_id} does not exist; run chiiki-settle"
                        " list-merchants to see the merchant ids")
    if session.get(FeePlanRow, plan_name) is None:
        raise not_found(f"fee plan {plan_name!r} does not exist; load it with chiiki-settle"
                        " fee-plan-load FILE, or list plans with chiiki-settle fee-plans")
    row = session.get(MerchantFeePlan, merchant_id)
    if row is None:
        session.add(MerchantFeePlan(merchant_id=merchant_id, plan_name=plan_name,
                                    assigned_at=now))
    else:
        row.plan_name = plan_name
        row.assigned_at = now
    session.flush()
    logger.info("merchant %s assigned fee plan %s", merchant_id, plan_name)


def plan_for_merchant(session: Session, merchant_id: str) -> FeePlan:
    """Return the merchant's plan, or ``default``; raise ``fee_plan_missing`` if neither exists."""
    assignment = session.get(MerchantFeePlan, merchant_id)
    name = DEFAULT_PLAN_NAME if assignment is None else assignment.plan_name
    row = session.get(FeePlanRow, name)
    if row is None:
        raise ServerError(
            ErrorCode.FEE_PLAN_MISSING,
            f"merchant {merchant_id} has no fee plan and no plan named {DEFAULT_PLAN_NAME!r}"
            " exists; the operator loads one with chiiki-settle fee-plan-load FILE",
        )
    return _plan_from_row(row)


def _plan_from_row(row: FeePlanRow) -> FeePlan:
    tiers = tuple(FeeTier(int(tier["from_yen"]), int(tier["rate_bp"])) for tier in row.tiers)
    return FeePlan(row.name, row.fixed_monthly_yen, row.monthly_cap_yen, tiers)

