"""Bank business days in Japan and the date a cash-out reaches the bank.

A bank business day is a weekday that is neither a national holiday (国民の祝日, including the
substitute holidays 振替休日 and the citizens' holidays 国民の休日) nor one of the banks' year-end
closing days, 31 December to 3 January. The holiday calendar comes from the ``holidays``
package (country JP). The Cabinet Office fixes the equinox days only a year ahead, so dates
further out are that package's computed estimate.

A cash-out requested before the cut-off time (Japan time) of a business day is paid out that
day. One requested later, or on a closed day, is paid out on the next business day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from terminal.japan_time import to_japan_time

# Days the banks close over the new year (銀行の休日, 銀行法施行令 第5条), besides holidays.
_YEAR_END_CLOSING = ((12, 31), (1, 1), (1, 2), (1, 3))
# More consecutive closed days than any calendar has (Golden Week plus a weekend is 5 to 6).
_MAX_CLOSED_RUN_DAYS = 14


@lru_cache(maxsize=64)
def _japanese_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("JP", years=year, language="ja")


def holiday_name(day: date) -> str | None:
    """Return the Japanese name of the national holiday on ``day``, or None."""
    name = _japanese_holidays(day.year).get(day)
    return None if name is None else str(name)


def is_business_day(day: date) -> bool:
    """Return whether banks in Japan are open on ``day``."""
    if day.weekday() >= 5:
        return False
    if (day.month, day.day) in _YEAR_END_CLOSING:
        return False
    return holiday_name(day) is None


def closed_reason(day: date) -> str | None:
    """Say why banks are closed on ``day`` (weekend, holiday name, year-end), or None if open."""
    if day.weekday() >= 5:
        return "Saturday" if day.weekday() == 5 else "Sunday"
    if (day.month, day.day) in _YEAR_END_CLOSING:
        return "bank year-end closing (31 Dec to 3 Jan)"
    name = holiday_name(day)
    return None if name is None else f"national holiday {name}"


def next_business_day(day: date) -> date:
    """Return the first business day after ``day``."""
    candidate = day + timedelta(days=1)
    for _ in range(_MAX_CLOSED_RUN_DAYS):
        if is_business_day(candidate):
            return candidate
        candidate += timedelta(days=1)
    raise AssertionError(f"no business day within {_MAX_CLOSED_RUN_DAYS} days after {day}")


def payout_date(requested_at: datetime, cutoff: time) -> date:
    """Return the day a cash-out requested at ``requested_at`` is paid out.

    That is the request's Japan-time date when it is a business day and the request came
    before ``cutoff`` (Japan time), else the next business day.
    """
    local = to_japan_time(requested_at)
    day = local.date()
    if is_business_day(day) and local.time() < cutoff:
        return day
    return next_business_day(day)


def parse_cutoff(text: str) -> time:
    """Parse a cut-off time written as HH:MM (Japan time)."""
    try:
        hours_text, minutes_text = text.strip().split(":")
        return time(int(hours_text), int(minutes_text))
    except ValueError:
        raise ValueError(
            f"cut-off time {text!r} is invalid; write it as HH:MM in Japan time, e.g. 14:00"
        ) from None
