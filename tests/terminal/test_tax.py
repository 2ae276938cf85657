from __future__ import annotations

import pytest

from terminal.protocol import TaxLine
from terminal.tax import Pricing, Rounding, divide, summarize, tax_included, tax_on


def lines(*entries: tuple[int, int]) -> list[TaxLine]:
    return [TaxLine(rate_percent=rate, amount_yen=amount) for rate, amount in entries]


def test_inclusive_1100_at_10_is_100() -> None:
    assert tax_included(1100, 10) == 100


def test_inclusive_1080_at_8_is_80() -> None:
    assert tax_included(1080, 8) == 80


def test_three_105_lines_exclusive_floor_is_31() -> None:
    breakdown = summarize(lines((10, 105), (10, 105), (10, 105)), pricing=Pricing.EXCLUSIVE)

    summary = breakdown.summaries[0]
    assert summary.tax_yen == 31
    assert summary.taxable_base_yen == 315
    assert summary.total_yen == 346


def test_per_line_rounding_would_differ() -> None:
    per_line = sum(tax_on(105, 10) for _ in range(3))
    once = summarize(lines((10, 105), (10, 105), (10, 105)), pricing=Pricing.EXCLUSIVE).tax_yen

    assert per_line == 30
    assert once == 31


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(Rounding.FLOOR, 9), (Rounding.CEIL, 10), (Rounding.HALF_UP, 9)],
)
def test_inclusive_rounding_modes_below_half(rounding: Rounding, expected: int) -> None:
    # 100 * 10 / 110 = 9.09...
    assert tax_included(100, 10, rounding) == expected


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [(Rounding.FLOOR, 31), (Rounding.CEIL, 32), (Rounding.HALF_UP, 32)],
)
def test_exclusive_rounding_modes_at_half(rounding: Rounding, expected: int) -> None:
    # 315 * 10 / 100 = 31.5 exactly
    assert tax_on(315, 10, rounding) == expected


def test_exact_division_same_in_all_modes() -> None:
    assert {tax_included(2200, 10, rounding) for rounding in Rounding} == {200}


def test_half_up_just_below_half_rounds_down() -> None:
    # 54 * 8 / 108 = 4.0, 60 * 8 / 108 = 4.44..., 61 * 8 / 108 = 4.518...
    assert tax_included(60, 8, Rounding.HALF_UP) == 4
    assert tax_included(61, 8, Rounding.HALF_UP) == 5


def test_small_amounts_floor_to_zero() -> None:
    assert tax_included(1, 10) == 0
    assert tax_included(10, 10) == 0
    assert tax_included(11, 10) == 1
    assert tax_included(1, 10, Rounding.CEIL) == 1


def test_mixed_rates_summed_per_rate() -> None:
    breakdown = summarize(lines((10, 550), (8, 324), (10, 550), (8, 756)))

    standard = breakdown.for_rate(10)
    reduced = breakdown.for_rate(8)
    assert standard is not None and reduced is not None
    assert (standard.total_yen, standard.tax_yen, standard.taxable_base_yen) == (1100, 100, 1000)
    assert (reduced.total_yen, reduced.tax_yen, reduced.taxable_base_yen) == (1080, 80, 1000)
    assert breakdown.total_yen == 2180
    assert breakdown.tax_yen == 180


def test_mixed_rates_standard_listed_first() -> None:
    breakdown = summarize(lines((8, 108), (10, 110)))

    assert [summary.rate_percent for summary in breakdown.summaries] == [10, 8]
    assert breakdown.summaries[1].reduced


def test_single_rate_has_one_summary() -> None:
    breakdown = summarize(lines((8, 1000)))

    assert len(breakdown.summaries) == 1
    assert breakdown.for_rate(10) is None
    assert breakdown.summaries[0].tax_yen == 74  # 8000 / 108 = 74.07


def test_no_lines_is_empty() -> None:
    breakdown = summarize([])

    assert breakdown.summaries == ()
    assert breakdown.total_yen == 0


def test_large_total_stays_exact() -> None:
    # 10**12 yen * 10 / 110 is 90909090909.09...: integer arithmetic keeps every digit.
    assert tax_included(10**12, 10) == 90_909_090_909


def test_divide_rejects_negative() -> None:
    with pytest.raises(ValueError, match="numerator >= 0"):
        divide(-1, 10, Rounding.FLOOR)


def test_unconstructed_bad_rate_rejected() -> None:
    bad = TaxLine.model_construct(rate_percent=5, amount_yen=100)

    with pytest.raises(ValueError, match="5%"):
        summarize([bad])


def test_float_amount_rejected() -> None:
    bad = TaxLine.model_construct(rate_percent=10, amount_yen=100.5)

    with pytest.raises(ValueError, match="100.5"):
        summarize([bad])
