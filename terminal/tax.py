"""Consumption tax per rate, as the qualified invoice system requires it on a receipt.

Japan has two rates: 10% (standard) and 8% (reduced, for food and drink other than alcohol and
eating in, and for newspapers). Tax is computed once per rate from the total of all entries at
that rate, and the fraction of a yen is rounded once, by the shop's chosen method. Rounding each
line and then summing is not allowed (消費税法施行令 第70条の10): three ¥105 lines at 10%,
tax-exclusive, floor, make 315 * 10 / 100 = 31.5 -> ¥31, where per-line rounding would give ¥30.

Tax-inclusive (税込) entries, as department keys produce them: tax = total * rate / (100 + rate).
Tax-exclusive (税抜) entries: tax = base * rate / 100. Only integer arithmetic is used.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from terminal.protocol import TaxLine

STANDARD_RATE_PERCENT = 10
REDUCED_RATE_PERCENT = 8
RATES_PERCENT = (STANDARD_RATE_PERCENT, REDUCED_RATE_PERCENT)


class Rounding(StrEnum):
    """Rounding method for the fraction of a yen in a tax amount."""

    FLOOR = "floor"  # 切り捨て, the most common choice
    CEIL = "ceil"  # 切り上げ
    HALF_UP = "half_up"  # 四捨五入


class Pricing(StrEnum):
    INCLUSIVE = "inclusive"
    EXCLUSIVE = "exclusive"


def divide(numerator: int, denominator: int, rounding: Rounding) -> int:
    """Divide two non-negative integers and round the quotient by ``rounding``."""
    if numerator < 0 or denominator <= 0:
        raise ValueError(
            f"divide needs numerator >= 0 and denominator > 0, got {numerator}/{denominator}"
        )
    if rounding is Rounding.FLOOR:
        return numerator // denominator
    if rounding is Rounding.CEIL:
        return -(-numerator // denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def tax_included(total_yen: int, rate_percent: int, rounding: Rounding = Rounding.FLOOR) -> int:
    """Return the tax contained in a tax-inclusive ``total_yen``."""
    return divide(total_yen * rate_percent, 100 + rate_percent, rounding)


def tax_on(base_yen: int, rate_percent: int, rounding: Rounding = Rounding.FLOOR) -> int:
    """Return the tax to add to a tax-exclusive ``base_yen``."""
    return divide(base_yen * rate_percent, 100, rounding)


@dataclass(frozen=True)
class TaxSummary:
    """The receipt line for one rate: ``10%対象 ￥1,100 (内消費税 ￥100)``."""

    rate_percent: int
    total_yen: int  # including tax
    tax_yen: int
    taxable_base_yen: int  # excluding tax

    @property
    def reduced(self) -> bool:
        return self.rate_percent == REDUCED_RATE_PERCENT


@dataclass(frozen=True)
class TaxBreakdown:
    """Per-rate summaries, standard rate first, for the rates that have entries."""

    summaries: tuple[TaxSummary, ...]

    @property
    def total_yen(self) -> int:
        return sum(summary.total_yen for summary in self.summaries)

    @property
    def tax_yen(self) -> int:
        return sum(summary.tax_yen for summary in self.summaries)

    def for_rate(self, rate_percent: int) -> TaxSummary | None:
        for summary in self.summaries:
            if summary.rate_percent == rate_percent:
                return summary
        return None


def summarize(
    lines: Iterable[TaxLine],
    rounding: Rounding = Rounding.FLOOR,
    pricing: Pricing = Pricing.INCLUSIVE,
) -> TaxBreakdown:
    """Group ``lines`` by rate and compute each rate's tax once from its total."""
    amounts_by_rate: dict[int, int] = {}
    for line in lines:
        _check_line(line)
        previous_yen = amounts_by_rate.get(line.rate_percent, 0)
        amounts_by_rate[line.rate_percent] = previous_yen + line.amount_yen

    summaries = []
    for rate_percent in RATES_PERCENT:
        amount_yen = amounts_by_rate.get(rate_percent)
        if amount_yen is None:
            continue
        if pricing is Pricing.INCLUSIVE:
            tax_yen = tax_included(amount_yen, rate_percent, rounding)
            summary = TaxSummary(rate_percent, amount_yen, tax_yen, amount_yen - tax_yen)
        else:
            tax_yen = tax_on(amount_yen, rate_percent, rounding)
            summary = TaxSummary(rate_percent, amount_yen + tax_yen, tax_yen, amount_yen)
        summaries.append(summary)
    return TaxBreakdown(tuple(summaries))


def _check_line(line: TaxLine) -> None:
    # TaxLine validates on construction, but model_construct() and attribute assignment skip it.
    if line.rate_percent not in RATES_PERCENT:
        raise ValueError(f"tax rate {line.rate_percent}% is not one of {RATES_PERCENT}")
    if type(line.amount_yen) is not int or line.amount_yen < 0:
        raise ValueError(f"tax line amount {line.amount_yen!r} is not a non-negative integer yen")
