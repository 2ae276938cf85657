"""When a counter refund is sent at once, and what its response may change, against the real store.

The sync worker is played by calls on the store it would make: ``pending_entries`` takes
entries, ``apply_results`` records the outcome of their send.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import protocol, refunds
from terminal.api_client import ApiError, Unreachable
from terminal.protocol import ErrorCode, SyncResult, ValueKind
from terminal.refunds import RefundOutcome
from terminal.store import NewCapture, Store, open_store
from tests.terminal.test_refund_decline import LOCAL_AND_ALL, LOW_BALANCE, ScriptedApi, taken_ids

CAPTURED_AT = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
KEY = "refund-0001"
LATER_KEY = "refund-0002"
# An upper bound on waiting for the release, so a failing test ends. A passing test sets the
# release itself and never waits this long.
RELEASE_WAIT_S = 30.0


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path)


@dataclass
class StalledApi:
    """Return each refund response only once ``release`` is set, like a server that trickles.

    ``during`` runs inside the request before it waits.
    """

    answer: ApiError | dict[ValueKind, int]
    during: ScriptedApi = field(default_factory=lambda: ScriptedApi([]))
    release: threading.Event = field(default_factory=threading.Event)
    requests: list[str] = field(default_factory=list)

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        self.requests.append(idempotency_key)
        self.during.during()
        self.release.wait(RELEASE_WAIT_S)
        return ScriptedApi([self.answer]).refund(payment_id, amount_yen, idempotency_key)


def request_thread(key: str) -> threading.Thread:
    [thread] = [t for t in threading.enumerate() if t.name == f"refund-{key}"]
    return thread


def offline_sale(capture_id: str, amount_yen: int = 3_000) -> NewCapture:
    return NewCapture(capture_id=capture_id, kind="offline_payment", amount_yen=amount_yen,
                      method="offline", captured_at=CAPTURED_AT)


@pytest.mark.parametrize("late_answer", [LOW_BALANCE, LOCAL_AND_ALL], ids=["declined", "applied"])
def test_slow_response_left_to_outbox(
    store: Store, late_answer: ApiError | dict[ValueKind, int]
) -> None:
    api = StalledApi(late_answer)
    # Another refund is recorded while the first one's entry is held.
    api.during.during = lambda: refunds.record_refund(store, "pay-2", 100, LATER_KEY, CAPTURED_AT)

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT, deadline_s=0.2)

    # The counter stopped waiting: the refund is given with its kinds unknown, and the hold is
    # over, so the outbox sends it and the later entry, each with its own key.
    assert sent.outcome is RefundOutcome.GIVEN
    assert sent.kinds == {}
    assert api.requests == [KEY]
    assert taken_ids(store) == [KEY, LATER_KEY]

    # The late response does not settle the entry: the outbox's send does. A late refund the
    # server applied is recorded on the entry, so the history stops subtracting it.
    api.release.set()
    request_thread(KEY).join(RELEASE_WAIT_S)
    capture = store.capture(KEY)
    assert capture is not None
    assert capture.state == "waiting"
    assert store.outbox_state(KEY) == "pending"
    if late_answer is LOW_BALANCE:
        assert capture.refund_id is None
        assert refunds.waiting_refunds_yen(store) == {"pay-1": 500, "pay-2": 100}
    else:
        assert capture.refund_id is not None
        assert refunds.waiting_refunds_yen(store) == {"pay-2": 100}


def test_declined_key_not_sent_again(store: Store) -> None:
    first = refunds.refund_at_counter(store, ScriptedApi([LOW_BALANCE]), "pay-1", 500, KEY,
                                      CAPTURED_AT)
    assert first.outcome is RefundOutcome.DECLINED
    # The shop has funds now, and the same key is pressed again.
    api = ScriptedApi([LOCAL_AND_ALL])

    again = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert again.outcome is RefundOutcome.DECLINED
    assert again.reason == ErrorCode.INSUFFICIENT_FUNDS
    assert api.requests == []
    assert store.outbox_state(KEY) == "declined"


def test_confirmed_key_not_sent_again(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 500, KEY, CAPTURED_AT)
    store.apply_results([SyncResult(entry_id=KEY, status="applied", payment_id="pay-1",
                                    refund_id="r_sync")])
    api = ScriptedApi([LOW_BALANCE])

    again = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert again.outcome is RefundOutcome.GIVEN
    assert again.applied
    assert api.requests == []
    assert store.outbox_state(KEY) == "acked"


def test_refund_waits_behind_offline_sale(store: Store) -> None:
    # An offline sale from an outage, not sent yet, may be what funds the refund.
    store.record_capture(offline_sale("offline-0001"))
    api = ScriptedApi([LOW_BALANCE])

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.outcome is RefundOutcome.GIVEN
    assert sent.kinds == {}
    assert api.requests == []
    assert taken_ids(store) == ["offline-0001", KEY]


def test_refund_waits_behind_earlier_refund(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 200, "refund-0000", CAPTURED_AT)
    api = ScriptedApi([LOCAL_AND_ALL])

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.outcome is RefundOutcome.GIVEN
    assert api.requests == []
    assert taken_ids(store) == ["refund-0000", KEY]


def test_refund_sent_past_entries_without_value(store: Store) -> None:
    # A confirmation of an online payment the server booked already moves no value, and
    # neither does a refund the server applied at once.
    store.record_capture(NewCapture(capture_id="online-0001", kind="online_payment",
                                    amount_yen=1_000, method="cpm", captured_at=CAPTURED_AT,
                                    payment_id="pay-9"))
    refunds.record_refund(store, "pay-2", 200, "refund-0000", CAPTURED_AT)
    store.record_applied_refund("refund-0000", "r_earlier")
    api = ScriptedApi([LOCAL_AND_ALL])

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.kinds == LOCAL_AND_ALL
    assert api.requests == [("pay-1", 500, KEY)]


def test_sent_after_earlier_entries_settled(store: Store) -> None:
    store.record_capture(offline_sale("offline-0001"))
    store.apply_results([SyncResult(entry_id="offline-0001", status="applied",
                                    payment_id="pay-offline")])
    api = ScriptedApi([LOCAL_AND_ALL])

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.kinds == LOCAL_AND_ALL
    assert api.requests == [("pay-1", 500, KEY)]


def test_applied_refund_counted_once(store: Store) -> None:
    sent = refunds.refund_at_counter(store, ScriptedApi([LOCAL_AND_ALL]), "pay-1", 500, KEY,
                                     CAPTURED_AT)

    assert sent.outcome is RefundOutcome.GIVEN
    assert sent.applied
    assert sent.capture.refund_id == "r_server"
    # The server's refunded_yen counts the refund, so it is no longer subtracted as waiting.
    assert refunds.waiting_refunds_yen(store) == {}
    # The entry is still sent: the server's day report counts a refund through its entry,
    # and the server returns the refund it applied.
    assert taken_ids(store) == [KEY]
    store.apply_results([SyncResult(entry_id=KEY, status="applied", payment_id="pay-1",
                                    refund_id="r_server", business_day="2025-05-01")])
    settled = store.capture(KEY)
    assert settled is not None
    assert (settled.state, settled.refund_id, settled.business_day) == (
        "confirmed", "r_server", "2025-05-01")


def test_unapplied_refund_still_waiting(store: Store) -> None:
    error = Unreachable("POST /v1/payments/pay-1/refunds failed: ConnectError")

    sent = refunds.refund_at_counter(store, ScriptedApi([error]), "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.outcome is RefundOutcome.GIVEN
    assert not sent.applied
    assert refunds.waiting_refunds_yen(store) == {"pay-1": 500}
