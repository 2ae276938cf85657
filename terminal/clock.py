"""The terminal's estimate of the server's clock.

A counter PC's clock is often minutes or hours wrong (a dead CMOS battery, no NTP on the shop
network). The server rejects request signatures whose timestamp is far from its own clock, so the
terminal measures the offset from the ``server_time`` of each response it receives and signs with
device time plus that offset. The offset is also used to send a ``device_time`` the server can
correct captured times with.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

# Above this offset the status asks the clerk to set the clock. Two minutes keeps the warning quiet for
# the drift of a PC without NTP over a few weeks while still flagging a wrong time zone.
CLOCK_WARNING_OFFSET_S = 120.0


def device_now() -> datetime:
    return datetime.now(UTC)


def parse_utc(text: str) -> datetime:
    """Parse an ISO 8601 time from the wire; a time without an offset is taken as UTC."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


class ServerClock:
    """Device time corrected by the last measured offset to the server. Thread-safe."""

    def __init__(
        self, device_clock: Callable[[], datetime] = device_now, offset_s: float = 0.0
    ) -> None:
        self._device_clock = device_clock
        self._offset_s = offset_s
        self._lock = threading.Lock()

    @property
    def offset_s(self) -> float:
        """Server time minus device time, in seconds."""
        with self._lock:
            return self._offset_s

    @property
    def warning(self) -> bool:
        """True when the device clock is more than ``CLOCK_WARNING_OFFSET_S`` off."""
        return abs(self.offset_s) > CLOCK_WARNING_OFFSET_S

    def set_offset(self, offset_s: float) -> None:
        """Restore an offset measured earlier, such as the one saved before a restart."""
        with self._lock:
            self._offset_s = offset_s

    def device_now(self) -> datetime:
        return self._device_clock()

    def now(self) -> datetime:
        """Return the current time on the server's clock, as far as the terminal can tell."""
        return self._device_clock() + timedelta(seconds=self.offset_s)

    def observe(self, server_time: str, sent_at: datetime, received_at: datetime) -> float:
        """Update the offset from a response's ``server_time`` and return the new offset.

        ``sent_at`` and ``received_at`` are device times around the request. The server read its
        clock somewhere in between, so the midpoint is the best estimate of the device time then.
        """
        midpoint = sent_at + (received_at - sent_at) / 2
        offset_s = (parse_utc(server_time) - midpoint).total_seconds()
        with self._lock:
            was_warning = abs(self._offset_s) > CLOCK_WARNING_OFFSET_S
            self._offset_s = offset_s
        if abs(offset_s) > CLOCK_WARNING_OFFSET_S and not was_warning:
            logger.warning(
                "device clock is %.0f s off the server's; requests are signed with the "
                "server's time, but set the clock of this PC",
                -offset_s,
            )
        return offset_s
