"""The terminal database: captures with their outbox entries, replay records, keys, clock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import protocol
from terminal.protocol import ErrorCode, SyncResult, TaxLine
from terminal.store import (
    NewCapture,
    OutboxEntry,
    SeenOfflineCode,
    Store,
    StoreError,
    open_store,
)

ROOT = Path(__file__).parents[2]
CAPTURED_AT = datetime(2024, 5, 1, 9, 15, tzinfo=UTC)


def new_capture(capture_id: str, amount_yen: int = 1_000, **extra: object) -> NewCapture:
    return NewCapture(
        capture_id=capture_id,
        kind="online_payment",
        amount_yen=amount_yen,
        method="cpm",
        captured_at=CAPTURED_AT,
        tax_lines=(TaxLine(rate_percent=8, amount_yen=amount_yen),),
        payment_id=f"pay-{capture_id}",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "data")


def table_rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT * FROM {table}").fetchall()  # noqa: S608


def test_capture_and_outbox_entry_written(store: Store) -> None:
    capture = store.record_capture(new_capture("cap-00000001"))

    assert capture.seq == 1
    assert capture.state == "waiting"
    assert capture.tax_lines == [TaxLine(rate_percent=8, amount_yen=1_000)]
    assert store.outbox_state("cap-00000001") == "pending"
    assert len(table_rows(store.path, "captures")) == 1
    assert len(table_rows(store.path, "outbox")) == 1


def test_seq_increases_per_capture(store: Store) -> None:
    seqs = [store.record_capture(new_capture(f"cap-{n:08d}")).seq for n in range(1, 4)]

    assert seqs == [1, 2, 3]


def test_pending_entries_in_seq_order(store: Store) -> None:
    for n in (3, 1, 2):
        store.record_capture(new_capture(f"cap-{n:08d}", amount_yen=n * 100))

    entries = [item.entry for item in store.pending_entries(limit=2)]

    assert [entry.seq for entry in entries] == [1, 2]
    assert [entry.entry_id for entry in entries] == ["cap-00000003", "cap-00000001"]
    assert entries[0].payment_id == "pay-cap-00000003"
    assert entries[0].captured_at == "2024-05-01T09:15:00+00:00"


def test_database_uses_wal_and_full_sync(store: Store) -> None:
    with sqlite3.connect(store.path) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with store._engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_duplicate_capture_id_writes_nothing(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))

    with pytest.raises(StoreError):
        store.record_capture(new_capture("cap-00000001", amount_yen=5))

    assert len(table_rows(store.path, "captures")) == 1
    assert len(table_rows(store.path, "outbox")) == 1


def test_replayed_code_rolls_back_capture(store: Store) -> None:
    seen = SeenOfflineCode("w-1", serial=1, counter=7, fingerprint="ab" * 32)
    store.record_capture(new_capture("cap-00000001", seen_code=seen))
    replay = SeenOfflineCode("w-1", serial=1, counter=7, fingerprint="cd" * 32)

    with pytest.raises(StoreError):
        store.record_capture(new_capture("cap-00000002", seen_code=replay))

    assert store.capture("cap-00000002") is None
    assert store.outbox_state("cap-00000002") is None
    assert store.offline_code_seen(replay)


# The script records one capture in a separate process that dies at a chosen point.
CRASH_SCRIPT = textwrap.dedent(
    """
    import os, sys
    from datetime import UTC, datetime
    from pathlib import Path
    from sqlalchemy import event
    from terminal.store import NewCapture, open_store

    store = open_store(Path(sys.argv[1]))
    if sys.argv[2] == "before_outbox":
        @event.listens_for(store._engine, "before_cursor_execute")
        def crash(conn, cursor, statement, *args):
            if statement.startswith("INSERT INTO outbox"):
                os._exit(3)
    else:
        store.add_capture_listener(lambda: os._exit(4))
    store.record_capture(NewCapture(
        capture_id="cap-crash-01", kind="online_payment", amount_yen=700, method="cpm",
        captured_at=datetime(2024, 5, 1, tzinfo=UTC), payment_id="pay-1",
    ))
    os._exit(0)
    """
)


@pytest.mark.parametrize(
    ("crash_point", "exit_code", "rows_expected"),
    [("before_outbox", 3, 0), ("after_commit", 4, 1)],
)
def test_crash_leaves_both_or_neither(
    tmp_path: Path, crash_point: str, exit_code: int, rows_expected: int
) -> None:
    data_dir = tmp_path / "data"
    completed = subprocess.run(
        [sys.executable, "-c", CRASH_SCRIPT, str(data_dir), crash_point],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == exit_code, completed.stderr

    store = open_store(data_dir)
    assert len(store.captures()) == rows_expected
    assert len(store.pending_entries(limit=10)) == rows_expected


def test_concurrent_writers_get_distinct_seqs(store: Store) -> None:
    def record(prefix: str) -> None:
        for n in range(20):
            store.record_capture(new_capture(f"{prefix}-{n:08d}"))

    threads = [threading.Thread(target=record, args=(name,)) for name in ("sale", "refund")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(capture.seq for capture in store.captures()) == list(range(1, 41))


def test_results_ack_and_decline(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    store.record_capture(new_capture("cap-00000002"))

    store.apply_results(
        [
            SyncResult(entry_id="cap-00000001", status="duplicate", business_day="2024-05-01"),
            SyncResult(
                entry_id="cap-00000002",
                status="declined",
                reason=ErrorCode.NOT_FOUND,
                message="payment not found",
            ),
        ]
    )

    acked, declined = store.capture("cap-00000001"), store.capture("cap-00000002")
    assert store.outbox_state("cap-00000001") == "acked"
    assert acked is not None and acked.state == "confirmed"
    assert acked.business_day == "2024-05-01"
    assert store.outbox_state("cap-00000002") == "declined"
    assert declined is not None and declined.declined_reason == "not_found"
    assert declined.declined_message == "payment not found"
    assert store.declined_count() == 1
    assert store.waiting().count == 0


def test_result_for_settled_entry_ignored(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    store.apply_results([SyncResult(entry_id="cap-00000001", status="applied")])

    store.apply_results(
        [SyncResult(entry_id="cap-00000001", status="declined", reason=ErrorCode.NOT_FOUND)]
    )

    assert store.outbox_state("cap-00000001") == "acked"
    assert store.declined_count() == 0


def test_failure_counts_attempts(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    retry_at = datetime(2024, 5, 1, 9, 16, tzinfo=UTC)

    store.record_failure(["cap-00000001"], "connect failed", retry_at)
    store.record_failure(["cap-00000001"], "connect failed", retry_at)

    (item,) = store.pending_entries(limit=10)
    assert item.attempts == 2
    assert store.outbox_state("cap-00000001") == "pending"


def test_waiting_sums_pending_by_kind(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001", amount_yen=300))
    offline = NewCapture(
        capture_id="cap-00000002",
        kind="offline_payment",
        amount_yen=1_200,
        method="offline",
        captured_at=CAPTURED_AT,
        offline_code="CKO1AAAA",
    )
    store.record_capture(offline)

    assert store.waiting().count == 2
    assert store.waiting().total_yen == 1_500
    assert store.waiting("offline_payment").total_yen == 1_200
    assert store.waiting("offline_payment").oldest_captured_at == CAPTURED_AT


def test_issuer_keys_replaced(store: Store) -> None:
    first = protocol.IssuerKey(
        key_id="0a0b0c0d", public_key="AAAA", valid_from="2024-01-01", valid_until="2025-01-01"
    )
    second = first.model_copy(update={"key_id": "01020304"})

    store.replace_issuer_keys([first])
    store.replace_issuer_keys([second])

    assert store.issuer_keys() == [second]


def test_clock_offset_kept(store: Store, tmp_path: Path) -> None:
    assert store.clock_offset_s() is None

    store.save_clock_offset(-7200.5, "2024-05-01T00:30:00+00:00")

    assert open_store(tmp_path / "data").clock_offset_s() == -7200.5


def test_failing_listener_keeps_capture(store: Store) -> None:
    def broken() -> None:
        raise RuntimeError("listener bug")

    store.add_capture_listener(broken)

    capture = store.record_capture(new_capture("cap-00000001"))

    assert capture.capture_id == "cap-00000001"
    assert store.outbox_state("cap-00000001") == "pending"


def ids(entries: list[OutboxEntry]) -> list[str]:
    return [item.entry.entry_id for item in entries]


def test_held_entry_not_taken(store: Store) -> None:
    for n in (1, 2, 3):
        store.record_capture(new_capture(f"cap-{n:08d}"))

    with store.holding_entry("cap-00000002"):
        # The list stops at the held entry, so the later one does not overtake it.
        assert ids(store.pending_entries(limit=10)) == ["cap-00000001"]

    assert ids(store.pending_entries(limit=10)) == ["cap-00000001", "cap-00000002", "cap-00000003"]


def test_hold_before_capture_exists(store: Store) -> None:
    with store.holding_entry("cap-00000001"):
        store.record_capture(new_capture("cap-00000001"))

        assert store.pending_entries(limit=10) == []


def test_withdraw_untaken_entry(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))

    withdrawn = store.withdraw_entry(
        "cap-00000001", ErrorCode.INSUFFICIENT_FUNDS, "merchant balance is too low"
    )

    capture = store.capture("cap-00000001")
    assert withdrawn
    assert store.outbox_state("cap-00000001") == "declined"
    assert capture is not None and capture.state == "declined"
    assert capture.declined_reason == "insufficient_funds"
    assert capture.declined_message == "merchant balance is too low"
    assert store.pending_entries(limit=10) == []
    assert store.waiting().count == 0


def test_withdraw_leaves_taken_entry(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    assert ids(store.pending_entries(limit=10)) == ["cap-00000001"]

    withdrawn = store.withdraw_entry("cap-00000001", ErrorCode.INSUFFICIENT_FUNDS, "too low")

    assert not withdrawn
    assert store.outbox_state("cap-00000001") == "pending"


def test_withdraw_leaves_failed_send(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    store.pending_entries(limit=10)
    retry_at = datetime(2024, 5, 1, 9, 16, tzinfo=UTC)
    store.record_failure(["cap-00000001"], "read timed out", retry_at)

    # The send is over but its outcome unknown: the server may have applied the entry.
    withdrawn = store.withdraw_entry("cap-00000001", ErrorCode.INSUFFICIENT_FUNDS, "too low")

    assert not withdrawn
    assert store.outbox_state("cap-00000001") == "pending"


def test_withdraw_leaves_settled_entry(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    store.pending_entries(limit=10)
    store.apply_results([SyncResult(entry_id="cap-00000001", status="applied")])

    withdrawn = store.withdraw_entry("cap-00000001", ErrorCode.INSUFFICIENT_FUNDS, "too low")

    assert not withdrawn
    assert store.outbox_state("cap-00000001") == "acked"


def test_withdraw_races_taking(store: Store) -> None:
    for n in range(30):
        entry_id = f"cap-{n:08d}"
        store.record_capture(new_capture(entry_id))
        start = threading.Barrier(2)
        taken: list[str] = []
        withdrawn: list[bool] = []

        def take() -> None:
            start.wait()
            taken.extend(ids(store.pending_entries(limit=10)))

        def withdraw() -> None:
            start.wait()
            withdrawn.append(store.withdraw_entry(entry_id, ErrorCode.NOT_FOUND, "not found"))

        threads = [threading.Thread(target=take), threading.Thread(target=withdraw)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # Either the worker took the entry, which then stays pending for the server's result,
        # or the entry was withdrawn and never handed out. Exactly one of the two happens.
        assert withdrawn[0] != (entry_id in taken)
        expected = "pending" if entry_id in taken else "declined"
        assert store.outbox_state(entry_id) == expected
        if entry_id in taken:
            store.apply_results([SyncResult(entry_id=entry_id, status="applied")])


def test_wait_for_send_ends_with_result(store: Store) -> None:
    store.record_capture(new_capture("cap-00000001"))
    store.pending_entries(limit=10)
    waited: list[bool] = []
    waiter = threading.Thread(target=lambda: waited.append(store.wait_for_send("cap-00000001", 30)))

    assert not store.wait_for_send("cap-00000001", 0)
    waiter.start()
    store.apply_results([SyncResult(entry_id="cap-00000001", status="applied")])
    waiter.join()

    assert waited == [True]
    assert store.wait_for_send("cap-00000001", 0)


def refund_capture(capture_id: str, amount_yen: int = 300) -> NewCapture:
    return NewCapture(capture_id=capture_id, kind="refund", amount_yen=amount_yen,
                      method="refund", captured_at=CAPTURED_AT, payment_id="pay-1")


def test_applied_refund_stays_pending(store: Store) -> None:
    store.record_capture(refund_capture("ref-00000001"))

    assert store.record_applied_refund("ref-00000001", "r_server")

    capture = store.capture("ref-00000001")
    assert capture is not None
    assert capture.refund_id == "r_server"
    # The entry is still sent, so the server's day report counts the refund.
    assert capture.state == "waiting"
    assert ids(store.pending_entries(limit=10)) == ["ref-00000001"]


def test_applied_refund_needs_pending_entry(store: Store) -> None:
    store.record_capture(refund_capture("ref-00000001"))
    store.decline_locally("ref-00000001", ErrorCode.INSUFFICIENT_FUNDS, "too low")
    store.record_capture(new_capture("cap-00000002"))

    assert not store.record_applied_refund("ref-00000001", "r_server")
    assert not store.record_applied_refund("cap-00000002", "r_server")
    assert not store.record_applied_refund("unknown", "r_server")

    for capture_id in ("ref-00000001", "cap-00000002"):
        capture = store.capture(capture_id)
        assert capture is not None
        assert capture.refund_id is None


def test_pending_before_lists_earlier_only(store: Store) -> None:
    for n in (1, 2, 3, 4):
        store.record_capture(new_capture(f"cap-{n:08d}"))
    store.apply_results([SyncResult(entry_id="cap-00000002", status="applied")])

    earlier = store.pending_before("cap-00000004")

    assert [capture.capture_id for capture in earlier] == ["cap-00000001", "cap-00000003"]
    assert store.pending_before("cap-00000001") == []
    assert store.pending_before("unknown") == []
