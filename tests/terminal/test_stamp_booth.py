"""Stamp rally booths: stamps recorded before success, de-duplicated locally and on sync.

The booths run against the real server on loopback; the network of each booth can be cut.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from server import ledger, rallies
from server.db import Database, init_db
from server.demo import DemoSeed, seed_demo
from server.embedded import EmbeddedServer, start_embedded_server
from server.merchants import issue_activation
from server.models import Transfer
from server.rally_models import RallyStamp
from terminal import offline_code, protocol, rally_code
from terminal.api_client import ApiClient, Declined
from terminal.clock import ServerClock
from terminal.config import ConfigError, load_config
from terminal.keys import Signer
from terminal.stamps import StampBook, StampDesk, StampOutcome, stamps
from terminal.store import Store, open_store
from terminal.protocol import ErrorCode, ValueKind
from terminal.sync import SyncEngine, SyncWorker


class SwitchableTransport(httpx.BaseTransport):
    """A real HTTP transport that can fail to connect, or lose sync responses after the
    server handled them."""

    def __init__(self) -> None:
        self.down = False
        self.cut_responses = 0
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network cable unplugged", request=request)
        response = self._inner.handle_request(request)
        if self.cut_responses and request.url.path.endswith("/sync"):
            self.cut_responses -= 1
            response.read()
            response.close()
            raise httpx.RemoteProtocolError("server disconnected mid-response", request=request)
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass
class Booth:
    store: Store
    desk: StampDesk
    worker: SyncWorker
    transport: SwitchableTransport
    clients: tuple[ApiClient, ApiClient]


@dataclass
class Event:
    db: Database
    server: EmbeddedServer
    seed: DemoSeed
    rally_id: str
    booths: list[Booth]

    def participant_code(self) -> str:
        response = httpx.get(f"{self.server.url}/v1/wallet/rallies/{self.rally_id}",
                             headers={"Authorization": f"Bearer {self.seed.wallet_token}"})
        assert response.status_code == 200, response.text
        code: str = response.json()["code"]
        return code

    def server_stamps(self) -> int:
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(RallyStamp)) or 0)

    def reward_transfers(self) -> int:
        transfer_id = rallies.reward_transfer_id(self.rally_id, self.seed.wallet_id)
        with self.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Transfer)
                                      .where(Transfer.id == transfer_id)) or 0)


def _today() -> date:
    return rallies.japan_day(datetime.now(UTC))


def _booth(event_db: Database, server: EmbeddedServer, activation_code: str,
           data_dir: Path) -> Booth:
    clock = ServerClock()
    signer = Signer(Ed25519PrivateKey.generate(), clock=clock.now)
    info = ApiClient(server.url, None, signer).enrol(activation_code)
    transport = SwitchableTransport()
    api = ApiClient(server.url, info.terminal_id, signer, transport=transport,
                    retry_delays_s=())
    sync_api = ApiClient(server.url, info.terminal_id, signer, transport=transport,
                         retry_delays_s=())
    store = open_store(data_dir)
    worker = SyncWorker(SyncEngine(store, sync_api, clock, random=lambda: 0.0))
    desk = StampDesk(StampBook(store), clock, api,
                     is_online=lambda: not worker.offline)
    return Booth(store, desk, worker, transport, (api, sync_api))


@pytest.fixture
def event(tmp_path: Path) -> Iterator[Event]:
    db_url = f"sqlite:///{tmp_path / 'settle.db'}"
    db = init_db(db_url)
    seed = seed_demo(db, wallet_balance_yen=0)
    now = datetime.now(UTC)
    with db.write() as session:
        rally = rallies.create_rally(session, rallies.NewRally(
            name="商店街スタンプラリー", starts_on=_today() - timedelta(days=1),
            ends_on=_today() + timedelta(days=30), goal_stamps=2,
            reward_kind=ValueKind.PREMIUM_ALL, reward_yen=500,
            reward_expires_on=_today() + timedelta(days=90)), now=now)
        second_code = issue_activation(session, seed.merchant_id, "BOOTH-2", now=now,
                                       ttl_s=3600).activation_code
    with start_embedded_server(db_url, port=0, demo=True) as server:
        booths = [_booth(db, server, code, tmp_path / f"booth{index}")
                  for index, code in enumerate((seed.activation_code, second_code))]
        with db.write() as session:
            for index, booth in enumerate(booths):
                terminal_id = booth.clients[0].terminal_id
                assert terminal_id is not None
                rallies.add_booth(session, rally.id, terminal_id, f"ブース{index + 1}",
                                  now=now)
        for booth in booths:
            assert booth.worker.run_once().online is True
            assert booth.desk.load() is not None
        yield Event(db, server, seed, rally.id, booths)
        for booth in booths:
            for client in booth.clients:
                client.close()
            booth.store.close()
    db.dispose()


def _stamp_rows(store: Store) -> list[tuple[str, str]]:
    with store._transaction("test") as connection:
        rows = connection.execute(select(stamps.c.wallet_id, stamps.c.state)).all()
    return [(row[0], row[1]) for row in rows]


def test_offline_stamp_recorded_and_sent_later(event: Event, tmp_path: Path) -> None:
    booth = event.booths[0]
    code = event.participant_code()
    booth.transport.down = True
    booth.worker.run_once()

    result = booth.desk.scan(code)

    assert (result.outcome, result.stamp_count, result.offline) == (StampOutcome.GIVEN, 1, True)
    reopened = open_store(tmp_path / "booth0")
    assert _stamp_rows(reopened) == [(event.seed.wallet_id, "pending")]
    reopened.close()
    assert event.server_stamps() == 0
    booth.transport.down = False
    status = booth.worker.run_once()
    assert status.waiting_stamps == 0
    assert _stamp_rows(booth.store) == [(event.seed.wallet_id, "acked")]
    assert event.server_stamps() == 1


def test_repeat_scan_same_day_refused_offline(event: Event) -> None:
    booth = event.booths[0]
    code = event.participant_code()
    booth.transport.down = True
    booth.worker.run_once()
    booth.desk.scan(code)

    again = booth.desk.scan(code)

    assert again.outcome is StampOutcome.ALREADY_TODAY
    assert again.stamp_count == 1
    assert len(_stamp_rows(booth.store)) == 1
    assert booth.desk.today_count() == 1


def test_online_stamp_uses_server_count(event: Event) -> None:
    first, second = event.booths
    code = event.participant_code()

    one = first.desk.scan(code)
    two = second.desk.scan(code)

    assert (one.outcome, one.stamp_count, one.offline) == (StampOutcome.GIVEN, 1, False)
    assert (two.stamp_count, two.goal_reached, two.reward_yen) == (2, True, 500)
    assert _stamp_rows(second.store) == [(event.seed.wallet_id, "acked")]
    assert event.reward_transfers() == 1


def test_two_offline_booths_reward_once_after_sync(event: Event) -> None:
    code = event.participant_code()
    for booth in event.booths:
        booth.transport.down = True
        booth.worker.run_once()
        assert booth.desk.scan(code).outcome is StampOutcome.GIVEN

    for booth in event.booths:
        booth.transport.down = False
        booth.transport.cut_responses = 1
        booth.worker.run_once()
        # The lost response made the engine back off. The server returns "duplicate" for the
        # resend.
        booth.worker.engine.retry_at = None
        booth.worker.run_once()

    assert event.server_stamps() == 2
    assert event.reward_transfers() == 1
    assert [_stamp_rows(booth.store)[0][1] for booth in event.booths] == ["acked", "acked"]
    with event.db.read() as session:
        assert ledger.balance(session, event.seed.wallet_id, now=datetime.now(UTC)) == {
            ValueKind.PREMIUM_ALL: 500}
        assert ledger.audit_ledger(session).problems == []


def reset_booth_database(booth: Booth, tmp_path: Path) -> tuple[Store, StampDesk]:
    """Open a new database for ``booth``'s terminal, as after a reset, with the booth's rally
    and issuer keys cached. Return the store and an offline desk on it."""
    fresh_store = open_store(tmp_path / "fresh")
    fresh = StampDesk(StampBook(fresh_store), booth.desk.clock, None, is_online=lambda: False)
    fresh.book.save_rally(booth.desk.book.rally() or pytest.fail("no rally cached"))
    fresh_store.replace_issuer_keys(booth.store.issuer_keys())
    return fresh_store, fresh


def test_reset_booth_database_declines_second_stamp(event: Event, tmp_path: Path) -> None:
    booth = event.booths[0]
    code = event.participant_code()
    booth.desk.scan(code)
    fresh_store, fresh = reset_booth_database(booth, tmp_path)
    assert fresh.scan(code).outcome is StampOutcome.GIVEN
    engine = SyncEngine(fresh_store, booth.clients[1], booth.desk.clock, random=lambda: 0.0)

    engine.drain()

    with fresh_store._transaction("test") as connection:
        row = connection.execute(select(stamps.c.state, stamps.c.declined_reason)).one()
    assert (row.state, row.declined_reason) == ("declined", "stamp_already_given")
    assert event.server_stamps() == 1
    fresh_store.close()


def test_new_booth_fetches_keys_on_first_scan(event: Event, tmp_path: Path) -> None:
    booth = event.booths[0]
    store = open_store(tmp_path / "new-booth")
    desk = StampDesk(StampBook(store), booth.desk.clock, booth.clients[0])
    assert store.issuer_keys() == []

    result = desk.scan(event.participant_code())

    assert (result.outcome, result.offline) == (StampOutcome.GIVEN, False)
    assert store.issuer_keys() != []
    assert event.server_stamps() == 1
    store.close()


def test_booth_moved_to_new_rally_reloads(event: Event) -> None:
    booth = event.booths[0]
    cached = booth.desk.book.rally()
    assert cached is not None
    booth.desk.book.save_rally(cached.model_copy(update={"rally_id": "r_last_year"}))

    result = booth.desk.scan(event.participant_code())

    assert result.outcome is StampOutcome.GIVEN
    reloaded = booth.desk.book.rally()
    assert reloaded is not None and reloaded.rally_id == event.rally_id


def test_stamp_mode_config_key(tmp_path: Path) -> None:
    path = tmp_path / "terminal.toml"
    path.write_text('mode = "stamp"\n', encoding="utf-8")

    assert load_config(path).mode == "stamp"
    path.write_text('mode = "stamps"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match='use "sale" or "stamp"'):
        load_config(path)


# --- checks without a server ------------------------------------------------------------------


def _offline_desk(tmp_path: Path, key: Ed25519PrivateKey) -> StampDesk:
    store = open_store(tmp_path / "offline-booth")
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    store.replace_issuer_keys([protocol.IssuerKey(
        key_id=offline_code.issuer_key_id(raw), public_key=protocol.b64encode(raw), valid_from="2026-01-01T00:00:00+00:00",
        valid_until="2030-01-01T00:00:00+00:00")])
    book = StampBook(store)
    book.save_rally(protocol.RallyInfo(
        rally_id="r_spring", name="春のラリー", booth_name="駅前", starts_on="2000-01-01",
        ends_on="2099-12-31", goal_stamps=5, reward_kind="premium_all", reward_yen=500,
        reward_expires_at="2100-01-01T00:00:00+00:00", server_time="2026-04-01T00:00:00+00:00"))
    return StampDesk(book, ServerClock(), None, is_online=lambda: False)


def _code_for(key: Ed25519PrivateKey, rally_id: str = "r_spring", wallet_id: str = "w_one") -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return rally_code.make_participant_code(rally_id, wallet_id, offline_code.issuer_key_id(raw),
                                            key)


def test_offline_progress_is_known_plus_local(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    desk = _offline_desk(tmp_path, key)
    desk.book.save_progress("r_spring", "w_one", 3, seq=0)

    result = desk.scan(_code_for(key))

    assert (result.stamp_count, result.goal_stamps, result.offline) == (4, 5, True)
    assert desk.today_count() == 1


def test_fifth_stamp_offline_celebrates(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    desk = _offline_desk(tmp_path, key)
    desk.book.save_progress("r_spring", "w_one", 4, seq=0)

    result = desk.scan(_code_for(key).lower())

    assert result.goal_reached
    assert result.reward_yen == 500


def test_bad_and_foreign_codes_classified(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    desk = _offline_desk(tmp_path, key)
    genuine = _code_for(key)
    garbled = genuine[:30] + ("A" if genuine[30] != "A" else "B") + genuine[31:]
    cases = {
        "91234567890123456789": StampOutcome.NOT_A_PARTICIPANT_CODE,
        garbled: StampOutcome.UNREADABLE,
        _code_for(Ed25519PrivateKey.generate()): StampOutcome.FOREIGN,
        _code_for(key, rally_id="r_autumn"): StampOutcome.OTHER_RALLY,
    }

    for text, expected in cases.items():
        assert desk.scan(text).outcome is expected, text
    assert desk.today_count() == 0


def test_no_cached_rally_offline(tmp_path: Path) -> None:
    store = open_store(tmp_path / "empty")
    desk = StampDesk(StampBook(store), ServerClock(), None, is_online=lambda: False)

    assert desk.scan(_code_for(Ed25519PrivateKey.generate())).outcome is StampOutcome.NO_RALLY


class RefusingRallyApi:
    """Refuses every stamp with one error code."""

    def __init__(self, code: ErrorCode) -> None:
        self.code = code

    def rally_booth(self) -> protocol.RallyInfo:
        raise AssertionError("the rally is cached")

    def booth_today(self) -> protocol.BoothDay:
        raise AssertionError("not called by a scan")

    def issuer_keys(self) -> protocol.IssuerKeyList:
        raise AssertionError("the key is cached")

    def give_stamp(self, request: protocol.StampGive) -> protocol.StampOutcome:
        raise Declined("refused", self.code, protocol.ERROR_STATUS[self.code])


def test_terminal_refusal_keeps_stamp_pending(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    offline = _offline_desk(tmp_path, key)
    desk = StampDesk(offline.book, offline.clock, RefusingRallyApi(ErrorCode.UNAUTHENTICATED))

    result = desk.scan(_code_for(key))

    assert (result.outcome, result.offline) == (StampOutcome.GIVEN, True)
    assert _stamp_rows(offline.book.store) == [("w_one", "pending")]


def test_stamp_refusal_declines_locally(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    offline = _offline_desk(tmp_path, key)
    desk = StampDesk(offline.book, offline.clock, RefusingRallyApi(ErrorCode.RALLY_NOT_OPEN))

    result = desk.scan(_code_for(key))

    assert result.outcome is StampOutcome.NOT_OPEN
    assert _stamp_rows(offline.book.store) == [("w_one", "declined")]
    assert desk.today_count() == 0
