"""Bank business days and payout dates in Japan, around named holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from server import business_days
from server.settings import Settings

JST = timezone(timedelta(hours=9))
CUTOFF = time(14, 0)


def _jst(year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0
         ) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=JST)


@pytest.mark.parametrize(("day", "reason"), [
    (date(2026, 4, 29), "national holiday 昭和の日"),
    (date(2026, 5, 3), "Sunday"),
    (date(2026, 5, 4), "national holiday みどりの日"),
    (date(2026, 5, 5), "national holiday こどもの日"),
    (date(2026, 5, 6), "national holiday 振替休日"),       # for 憲法記念日 on Sunday 3 May
    (date(2026, 9, 22), "national holiday 国民の休日"),    # between 敬老の日 and 秋分の日
    (date(2027, 3, 22), "national holiday 振替休日"),      # for 春分の日 on Sunday 21 March
    (date(2026, 12, 31), "bank year-end closing (31 Dec to 3 Jan)"),  # a Thursday
    (date(2025, 1, 2), "bank year-end closing (31 Dec to 3 Jan)"),    # a Thursday
    (date(2025, 1, 3), "bank year-end closing (31 Dec to 3 Jan)"),    # a Friday
    (date(2026, 5, 2), "Saturday"),
])
def test_closed_days_named(day: date, reason: str) -> None:
    assert not business_days.is_business_day(day)
    assert business_days.closed_reason(day) == reason


@pytest.mark.parametrize("day", [
    date(2026, 4, 28), date(2026, 4, 30), date(2026, 5, 1), date(2026, 5, 7),
    date(2026, 12, 30), date(2027, 1, 4), date(2026, 9, 24), date(2027, 3, 23),
])
def test_open_days(day: date) -> None:
    assert business_days.is_business_day(day)
    assert business_days.closed_reason(day) is None


@pytest.mark.parametrize(("requested_at", "expected"), [
    # Before and at the cut-off on an ordinary Tuesday.
    (_jst(2026, 4, 28, 13, 59, 59), date(2026, 4, 28)),
    (_jst(2026, 4, 28, 14, 0), date(2026, 4, 30)),          # 29 April is 昭和の日
    # Golden Week: Friday after the cut-off skips the weekend, 4-5 May and the 振替休日 6 May.
    (_jst(2026, 5, 1, 16, 0), date(2026, 5, 7)),
    (_jst(2026, 5, 6, 9, 0), date(2026, 5, 7)),
    # New year: 30 December before the cut-off is paid that day; after it, on 4 January.
    (_jst(2026, 12, 30, 13, 0), date(2026, 12, 30)),
    (_jst(2026, 12, 30, 14, 30), date(2027, 1, 4)),
    (_jst(2024, 12, 30, 15, 0), date(2025, 1, 6)),           # 2-3 Jan 2025 are weekdays
    (_jst(2026, 12, 31, 10, 0), date(2027, 1, 4)),
    # Silver Week: 国民の休日 22 September between two holidays.
    (_jst(2026, 9, 18, 14, 30), date(2026, 9, 24)),
    # 振替休日 for 春分の日 on a Sunday.
    (_jst(2027, 3, 19, 15, 0), date(2027, 3, 23)),
    # A Saturday morning is paid on Monday.
    (_jst(2026, 5, 9, 9, 0), date(2026, 5, 11)),
])
def test_payout_date(requested_at: datetime, expected: date) -> None:
    assert business_days.payout_date(requested_at, CUTOFF) == expected


def test_payout_date_uses_japan_time() -> None:
    # 04:59 UTC is 13:59 in Japan, 05:00 UTC is 14:00.
    before = datetime(2026, 4, 28, 4, 59, tzinfo=UTC)
    at_cutoff = datetime(2026, 4, 28, 5, 0, tzinfo=UTC)
    # 15:30 UTC on Monday 27 April is already Tuesday 00:30 in Japan.
    late_monday_utc = datetime(2026, 4, 27, 15, 30, tzinfo=UTC)

    assert business_days.payout_date(before, CUTOFF) == date(2026, 4, 28)
    assert business_days.payout_date(at_cutoff, CUTOFF) == date(2026, 4, 30)
    assert business_days.payout_date(late_monday_utc, CUTOFF) == date(2026, 4, 28)


def test_cutoff_is_configurable() -> None:
    settings = Settings.from_env({"CHIIKI_PAYOUT_CUTOFF": "10:30"})
    requested_at = _jst(2026, 4, 28, 11, 0)

    assert settings.payout_cutoff == time(10, 30)
    assert Settings.from_env({}).payout_cutoff == time(14, 0)
    assert business_days.payout_date(requested_at, settings.payout_cutoff) == date(2026, 4, 30)


@pytest.mark.parametrize("text", ["14", "25:00", "ab:cd", "14:00:00"])
def test_cutoff_invalid_named(text: str) -> None:
    with pytest.raises(ValueError, match=f"cut-off time '{text}' is invalid; write it as HH:MM"):
        business_days.parse_cutoff(text)


def test_cutoff_setting_invalid_named() -> None:
    with pytest.raises(ValueError) as caught:
        Settings.from_env({"CHIIKI_PAYOUT_CUTOFF": "2pm"})

    assert str(caught.value) == ("CHIIKI_PAYOUT_CUTOFF='2pm' is invalid; set it to HH:MM in"
                                 " Japan time, e.g. 14:00")
