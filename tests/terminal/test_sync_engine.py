"""The sync engine and worker against a fake server behind httpx.MockTransport."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fake_sync_server import START, TERMINAL_ID, FakeSyncServer, ManualClock
from terminal import protocol
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.keys import Signer
from terminal.protocol import ErrorCode
from terminal.store import NewCapture, Store, open_store
from terminal.sync import Backoff, OutboxStatus, SyncEngine, SyncWorker


class Harness:
    """A store, a fake server, a device clock and an engine wired together."""

    def __init__(self, tmp_path: Path, device_offset_s: float = 0.0, batch_size: int = 100) -> None:
        private_key = Ed25519PrivateKey.generate()
        self.server = FakeSyncServer(private_key.public_key())
        self.device = ManualClock(START + timedelta(seconds=device_offset_s))
        self.clock = ServerClock(self.device)
        self.store = open_store(tmp_path / "data")
        self.api: ApiClient = self.server.client(Signer(private_key, clock=self.clock.now))
        self.random_values: list[float] = []
        self.engine = SyncEngine(
            self.store, self.api, self.clock, random=self._random, batch_size=batch_size
        )
        self.seq = itertools.count(1)

    def _random(self) -> float:
        return self.random_values.pop(0) if self.random_values else 1.0

    def capture(self, amount_yen: int = 500) -> str:
        capture_id = f"cap-{next(self.seq):08d}"
        self.server.known_payment_ids.add(f"pay-{capture_id}")
        self.store.record_capture(
            NewCapture(
                capture_id=capture_id,
                kind="online_payment",
                amount_yen=amount_yen,
                method="cpm",
                captured_at=self.clock.now(),
                payment_id=f"pay-{capture_id}",
            )
        )
        return capture_id


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness(tmp_path)
    yield harness
    harness.api.close()


def applied_ids(server: FakeSyncServer) -> list[str]:
    return [entry.entry_id for entry in server.applied]


def test_drain_sends_batches_in_order(tmp_path: Path) -> None:
    harness = Harness(tmp_path, batch_size=2)
    ids = [harness.capture() for _ in range(5)]

    result = harness.engine.drain()

    assert [len(batch.entries) for batch in harness.server.batches] == [2, 2, 1]
    assert applied_ids(harness.server) == ids
    assert [entry.seq for entry in harness.server.applied] == [1, 2, 3, 4, 5]
    assert result.acked == 5
    assert harness.store.waiting().count == 0
    harness.api.close()


def test_capture_id_stored_before_send(harness: Harness) -> None:
    capture_id = harness.capture()
    states_at_send: list[str | None] = []
    harness.server.on_batch = lambda batch: states_at_send.append(
        harness.store.outbox_state(batch.entries[0].entry_id)
    )

    harness.engine.drain()

    assert harness.server.batches[0].entries[0].entry_id == capture_id
    assert states_at_send == ["pending"]
    assert harness.store.outbox_state(capture_id) == "acked"


def test_unreachable_leaves_entries_pending(harness: Harness) -> None:
    capture_id = harness.capture()
    harness.server.failures_before.append(httpx.ConnectError("connection refused"))

    result = harness.engine.drain()

    assert result.failed
    assert harness.store.outbox_state(capture_id) == "pending"
    assert harness.store.pending_entries(10)[0].attempts == 1
    assert harness.engine.online is False


def test_server_error_then_retry_applies(harness: Harness) -> None:
    capture_id = harness.capture()
    harness.server.responses_before.append(httpx.Response(500, text="Internal Server Error"))

    assert harness.engine.drain().failed
    assert harness.store.outbox_state(capture_id) == "pending"
    assert harness.server.applied == []

    harness.device.advance(60)
    assert not harness.engine.drain().failed
    assert harness.store.outbox_state(capture_id) == "acked"
    assert applied_ids(harness.server) == [capture_id]


def test_cut_response_then_duplicate(harness: Harness) -> None:
    first, second = harness.capture(), harness.capture()
    harness.server.failures_after.append(httpx.RemoteProtocolError("peer closed connection"))

    assert harness.engine.drain().failed
    assert harness.store.outbox_state(first) == "pending"
    assert harness.store.outbox_state(second) == "pending"

    harness.device.advance(60)
    harness.engine.drain()

    assert harness.store.outbox_state(first) == "acked"
    assert harness.store.outbox_state(second) == "acked"
    assert applied_ids(harness.server) == [first, second]
    assert len(harness.server.batches) == 2


def test_duplicate_result_counts_as_acknowledged(harness: Harness) -> None:
    capture_id = harness.capture()
    harness.server.results[capture_id] = protocol.SyncResult(
        entry_id=capture_id, status="applied", payment_id=f"pay-{capture_id}"
    )

    harness.engine.drain()

    assert harness.store.outbox_state(capture_id) == "acked"
    assert harness.server.applied == []


def test_declined_entry_kept_and_later_sent(tmp_path: Path) -> None:
    harness = Harness(tmp_path, batch_size=2)
    first, unknown, third = harness.capture(), harness.capture(), harness.capture()
    harness.server.known_payment_ids.discard(f"pay-{unknown}")

    result = harness.engine.drain()

    assert (result.acked, result.declined) == (2, 1)
    assert applied_ids(harness.server) == [first, third]
    declined = harness.store.capture(unknown)
    assert declined is not None
    assert declined.state == "declined"
    assert declined.declined_reason == ErrorCode.NOT_FOUND
    assert "not found" in (declined.declined_message or "")
    assert harness.store.declined_count() == 1
    harness.api.close()


def test_invalid_batch_split_to_find_entry(harness: Harness) -> None:
    first, bad, third = harness.capture(), harness.capture(), harness.capture()
    harness.server.invalid_entry_ids.add(bad)

    harness.engine.drain()

    assert applied_ids(harness.server) == [first, third]
    assert harness.store.outbox_state(bad) == "declined"
    capture = harness.store.capture(bad)
    assert capture is not None and capture.declined_reason == ErrorCode.INVALID_REQUEST


def test_missing_result_stays_pending(harness: Harness) -> None:
    capture_id = harness.capture()
    response = protocol.SyncResponse(results=[], server_time=START.isoformat())
    harness.server.responses_before.append(
        httpx.Response(200, json=response.model_dump(mode="json"))
    )

    harness.engine.drain()

    assert harness.store.outbox_state(capture_id) == "pending"


@pytest.mark.parametrize(
    ("failures", "random_value", "delay_s"),
    [(1, 1.0, 1.0), (2, 1.0, 2.0), (4, 0.5, 4.0), (7, 1.0, 60.0), (40, 1.0, 60.0), (3, 0.0, 0.0)],
)
def test_backoff_full_jitter(failures: int, random_value: float, delay_s: float) -> None:
    assert Backoff(base_s=1.0, cap_s=60.0).delay_s(failures, lambda: random_value) == delay_s


def test_backoff_delays_next_attempt(harness: Harness) -> None:
    harness.capture()
    harness.random_values[:] = [1.0, 0.25]
    harness.server.failures_before.extend(
        [httpx.ConnectError("refused"), httpx.ConnectError("refused")]
    )

    harness.engine.drain()
    assert harness.engine.retry_at == harness.device.now + timedelta(seconds=1)
    assert not harness.engine.due()

    harness.device.advance(1)
    harness.engine.drain()
    assert harness.engine.retry_at == harness.device.now + timedelta(seconds=0.5)
    assert harness.engine.failures == 2

    harness.device.advance(0.5)
    assert not harness.engine.drain().failed
    assert harness.engine.failures == 0
    assert harness.engine.retry_at is None


def test_drain_waits_for_backoff(harness: Harness) -> None:
    capture_id = harness.capture()
    harness.server.failures_before.append(httpx.ConnectError("refused"))
    harness.engine.drain()

    harness.engine.drain()

    assert len(harness.server.batches) == 0
    assert harness.store.outbox_state(capture_id) == "pending"


def test_wrong_device_clock_still_authenticates(tmp_path: Path) -> None:
    harness = Harness(tmp_path, device_offset_s=-2 * 3600)
    capture_id = harness.capture()

    assert harness.engine.drain().failed
    assert harness.engine.last_error is not None and "unauthenticated" in harness.engine.last_error

    harness.device.advance(60)
    assert harness.engine.probe()
    assert harness.clock.offset_s == pytest.approx(2 * 3600 - 60)
    assert harness.clock.warning
    assert not harness.engine.drain().failed
    assert harness.store.outbox_state(capture_id) == "acked"
    assert harness.store.clock_offset_s() == pytest.approx(2 * 3600 - 60)
    harness.api.close()


def test_small_clock_offset_no_warning(tmp_path: Path) -> None:
    harness = Harness(tmp_path, device_offset_s=100)

    harness.engine.probe()

    assert harness.clock.offset_s == pytest.approx(-100)
    assert not harness.clock.warning
    harness.api.close()


def test_probe_caches_issuer_keys(harness: Harness) -> None:
    assert harness.engine.probe()

    (key,) = harness.store.issuer_keys()
    assert key.key_id == harness.server.issuer_key_id


def test_worker_reports_status(tmp_path: Path) -> None:
    harness = Harness(tmp_path, batch_size=2)
    statuses: list[OutboxStatus] = []
    worker = SyncWorker(harness.engine, on_status=statuses.append)
    for amount_yen in (100, 200, 300):
        harness.capture(amount_yen)
    harness.server.failures_before.append(httpx.ConnectError("refused"))

    offline = worker.run_once()
    assert offline.online is False
    assert (offline.waiting_count, offline.waiting_total_yen) == (3, 600)
    assert worker.offline

    harness.device.advance(60)
    online = worker.run_once()

    assert online.online is True
    assert online.waiting_count == 0
    progress = [(s.backlog_sent, s.backlog_total) for s in statuses if s.backlog_total]
    assert progress == [(2, 3), (3, 3)]
    assert not worker.offline
    harness.api.close()


def test_worker_counts_declined(harness: Harness) -> None:
    unknown = harness.capture()
    harness.server.known_payment_ids.discard(f"pay-{unknown}")
    worker = SyncWorker(harness.engine)

    status = worker.run_once()

    assert status.declined_count == 1
    assert status.waiting_count == 0


def test_worker_thread_drains_after_capture(harness: Harness) -> None:
    drained = threading.Event()

    def on_status(status: OutboxStatus) -> None:
        if status.online and status.waiting_count == 0 and harness.server.applied:
            drained.set()

    worker = SyncWorker(harness.engine, on_status=on_status, probe_interval_s=3600)
    worker.start()
    try:
        capture_id = harness.capture()
        assert drained.wait(timeout=10)
    finally:
        worker.stop()
    assert applied_ids(harness.server) == [capture_id]


def test_engine_restores_saved_offset(tmp_path: Path) -> None:
    store: Store = open_store(tmp_path / "data")
    store.save_clock_offset(300.0, START.isoformat())
    clock = ServerClock(ManualClock(START))
    api = ApiClient("http://127.0.0.1:8000", TERMINAL_ID, Signer(Ed25519PrivateKey.generate()))

    SyncEngine(store, api, clock)

    assert clock.now() == START + timedelta(seconds=300)
    api.close()


def test_server_clock_uses_midpoint() -> None:
    device = ManualClock(START)
    clock = ServerClock(device)
    sent_at = START
    received_at = START + timedelta(seconds=2)

    offset_s = clock.observe((START + timedelta(seconds=11)).isoformat(), sent_at, received_at)

    assert offset_s == 10.0
    assert clock.now() == datetime.fromisoformat((START + timedelta(seconds=10)).isoformat())
