"""Checking a terminal's booth before the stamp screen opens, and listing declined stamps.

The checks run against the real server on loopback, through the booths of ``test_stamp_booth``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from server.merchants import issue_activation
from terminal.clock import ServerClock
from terminal.config import ConfigError, TerminalConfig, load_config, with_mode, write_config
from terminal.stamps import BoothStatus, StampBook, StampOutcome, check_booth
from terminal.store import open_store
from terminal.sync import SyncEngine
from tests.terminal.test_stamp_booth import (  # noqa: F401
    Event,
    _booth,
    event,
    reset_booth_database,
)

DAY_S = 24 * 3600


def test_booth_of_running_rally_is_open(event: Event) -> None:
    booth = event.booths[0]

    check = check_booth(booth.desk.book, booth.desk.clock, booth.clients[0])

    assert check.status is BoothStatus.OPEN
    assert check.can_stamp
    assert check.rally is not None and check.rally.rally_id == event.rally_id
    assert check.rally.booth_name == "ブース1"
    assert not check.from_cache


def test_terminal_in_no_rally_is_not_a_booth(event: Event, tmp_path: Path) -> None:
    with event.db.write() as session:
        code = issue_activation(session, event.seed.merchant_id, "REGI-9",
                                now=datetime.now(UTC), ttl_s=3600).activation_code
    register = _booth(event.db, event.server, code, tmp_path / "register")

    check = check_booth(register.desk.book, register.desk.clock, register.clients[0])

    assert check.status is BoothStatus.NOT_A_BOOTH
    assert not check.can_stamp
    assert "not a booth of any rally" in check.detail
    assert register.desk.book.rally() is None
    for client in register.clients:
        client.close()
    register.store.close()


def test_unreachable_server_uses_cached_rally(event: Event) -> None:
    booth = event.booths[0]
    booth.transport.down = True

    check = check_booth(booth.desk.book, booth.desk.clock, booth.clients[0])

    assert check.status is BoothStatus.OPEN
    assert check.from_cache
    assert "network cable unplugged" in check.detail


def test_unreachable_without_cache_is_unknown(event: Event, tmp_path: Path) -> None:
    booth = event.booths[0]
    booth.transport.down = True
    fresh = open_store(tmp_path / "fresh")

    check = check_booth(StampBook(fresh), booth.desk.clock, booth.clients[0])

    assert check.status is BoothStatus.UNKNOWN
    assert not check.can_stamp
    fresh.close()


@pytest.mark.parametrize(
    ("offset_days", "expected"),
    [(-10, BoothStatus.UPCOMING), (0, BoothStatus.OPEN), (60, BoothStatus.ENDED)],
)
def test_rally_days_decide_status(
    event: Event, offset_days: int, expected: BoothStatus
) -> None:
    # The event's rally runs from yesterday to 30 days from now, Japan time.
    booth = event.booths[0]
    clock = ServerClock(offset_s=offset_days * DAY_S)

    check = check_booth(booth.desk.book, clock, None)

    assert check.status is expected
    assert check.from_cache


def test_sync_decline_is_listed(event: Event, tmp_path: Path) -> None:
    booth = event.booths[0]
    code = event.participant_code()
    booth.desk.scan(code)
    # A second booth database (a reset terminal) gives the same stamp again offline.
    fresh_store, fresh = reset_booth_database(booth, tmp_path)
    assert fresh.scan(code).outcome is StampOutcome.GIVEN
    assert fresh.book.declined_stamps() == []

    SyncEngine(fresh_store, booth.clients[1], booth.desk.clock, random=lambda: 0.0).drain()

    [declined] = fresh.book.declined_stamps()
    assert declined.reason == "stamp_already_given"
    assert "one stamp per booth per day" in declined.message
    assert declined.participant_code == code.strip().upper()
    assert declined.captured_at.tzinfo is not None
    assert fresh.book.declined_count() == 1
    fresh_store.close()


def test_mode_written_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    write_config(TerminalConfig(data_dir=tmp_path / "data"), path)

    write_config(with_mode(load_config(path), "stamp"), path)

    assert load_config(path).mode == "stamp"
    assert 'mode = "stamp"' in path.read_text(encoding="utf-8")


def test_unknown_mode_rejected(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mode 'booth' is not a terminal mode; use sale or stamp"):
        with_mode(TerminalConfig(data_dir=tmp_path), "booth")
