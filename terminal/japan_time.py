"""Times shown to a clerk or printed on a receipt, in Japan time (Asia/Tokyo).

The terminal's own clock may be set to any zone (a Raspberry Pi image ships with UTC), so every
time a person reads is converted here rather than with ``datetime.astimezone()``, which uses the
machine's zone. The server sends UTC, and a timestamp without an offset is read as UTC too.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

logger = logging.getLogger(__name__)

TIME_ZONE_NAME = "Asia/Tokyo"
# Japan has kept UTC+9 all year since it last observed daylight saving time in 1951, so this
# fixed offset gives the same times when the tz database (the tzdata package) is missing.
FIXED_JST = timezone(timedelta(hours=9), "JST")


def _japan_time_zone() -> tzinfo:
    try:
        return ZoneInfo(TIME_ZONE_NAME)
    except ZoneInfoNotFoundError:
        logger.info("time zone %s is not installed; using a fixed +09:00 offset", TIME_ZONE_NAME)
        return FIXED_JST


JAPAN_TIME_ZONE = _japan_time_zone()


def to_japan_time(timestamp: str | datetime) -> datetime:
    """Convert an ISO 8601 timestamp or a datetime to an aware datetime in Japan time."""
    moment = datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(JAPAN_TIME_ZONE)


def format_japan_time(timestamp: str | datetime, pattern: str = "%Y年%m月%d日 %H:%M") -> str:
    """Format ``timestamp`` in Japan time with a ``strftime`` pattern."""
    return to_japan_time(timestamp).strftime(pattern)
