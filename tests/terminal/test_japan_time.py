from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfoNotFoundError

import pytest

from terminal import japan_time
from terminal.japan_time import format_japan_time, to_japan_time


@pytest.fixture
def machine_in_new_york() -> Iterator[None]:
    """Set the process time zone, as a terminal whose clock is set to another zone has."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if previous is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = previous
    time.tzset()


def test_utc_converted_to_japan() -> None:
    assert format_japan_time("2024-04-30T15:05:00+00:00") == "2024年05月01日 00:05"


def test_naive_timestamp_read_as_utc() -> None:
    assert format_japan_time("2024-04-30T15:05:00", "%H:%M") == "00:05"


def test_datetime_accepted() -> None:
    moment = datetime(2024, 12, 31, 15, 0, tzinfo=UTC)

    assert to_japan_time(moment).utcoffset() == timedelta(hours=9)
    assert format_japan_time(moment, "%Y-%m-%d %H:%M") == "2025-01-01 00:00"


def test_machine_time_zone_ignored(machine_in_new_york: None) -> None:
    timestamp = "2024-07-01T03:00:00+00:00"

    assert datetime.fromisoformat(timestamp).astimezone().hour == 23
    assert format_japan_time(timestamp, "%H:%M") == "12:00"


def test_missing_tz_database_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(name: str) -> None:
        raise ZoneInfoNotFoundError(name)

    monkeypatch.setattr(japan_time, "ZoneInfo", missing)

    zone = japan_time._japan_time_zone()

    assert zone is japan_time.FIXED_JST
    assert datetime(2024, 1, 1, tzinfo=UTC).astimezone(zone).hour == 9
