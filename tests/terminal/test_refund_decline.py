"""A counter refund the server declines when it is sent at once, against the real store.

The sync worker is played by calls on the store it would make: ``pending_entries`` takes
entries, ``apply_results`` and ``record_failure`` record the outcome of their send.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import protocol, refunds
from terminal.api_client import ApiError, Declined
from terminal.protocol import ErrorCode, SyncResult, ValueKind
from terminal.refunds import RefundOutcome
from terminal.store import Store, open_store

CAPTURED_AT = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
RETRY_AT = datetime(2025, 5, 1, 3, 1, tzinfo=UTC)
KEY = "refund-0001"
LOCAL_AND_ALL = {ValueKind.PREMIUM_LOCAL: 100, ValueKind.PREMIUM_ALL: 400}
LOW_BALANCE = Declined("merchant holds 200 yen, 500 yen requested", ErrorCode.INSUFFICIENT_FUNDS,
                       402)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path)


@dataclass
class ScriptedApi:
    """Returns the next of ``answers`` for each refund request: kinds, or an error to raise.

    ``during`` runs inside every request, as the sync worker would meanwhile.
    """

    answers: list[ApiError | dict[ValueKind, int]]
    during: Callable[[], None] = lambda: None
    requests: list[tuple[str, int, str]] = field(default_factory=list)

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        self.requests.append((payment_id, amount_yen, idempotency_key))
        self.during()
        answer = self.answers.pop(0)
        if isinstance(answer, ApiError):
            raise answer
        return protocol.Refund(
            refund_id="r_server", payment_id=payment_id, amount_yen=amount_yen,
            created_at="2025-05-01T03:00:01+00:00",
            payment=protocol.Payment(
                payment_id=payment_id, merchant_id="m-1", terminal_id="term-1", amount_yen=1_000,
                refunded_yen=amount_yen, method="cpm", created_at="2025-05-01T02:00:00+00:00",
            ),
            kinds=answer,
        )


def taken_ids(store: Store) -> list[str]:
    return [item.entry.entry_id for item in store.pending_entries(10)]


@pytest.mark.parametrize("error", [
    LOW_BALANCE,
    Declined("refund of 500 yen exceeds the 0 yen not yet refunded", ErrorCode.REFUND_EXCEEDS_PAYMENT,
             409),
    Declined("payment pay-1 does not exist for this merchant", ErrorCode.NOT_FOUND, 404),
], ids=["shop-balance", "already-refunded", "payment-missing"])
def test_declined_refund_withdrawn(store: Store, error: Declined) -> None:
    api = ScriptedApi([error])

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.outcome is RefundOutcome.DECLINED
    assert sent.reason == error.code
    assert sent.capture.state == "declined"
    assert store.outbox_state(KEY) == "declined"
    capture = store.capture(KEY)
    assert capture is not None
    assert capture.declined_reason == error.code
    assert capture.declined_message == error.message
    # Nothing is left to send, and the refund does not lower what can still be refunded.
    assert taken_ids(store) == []
    assert refunds.waiting_refunds_yen(store) == {}
    assert api.requests == [("pay-1", 500, KEY)]


def test_worker_kept_off_during_request(store: Store) -> None:
    seen: list[list[str]] = []
    api = ScriptedApi([LOCAL_AND_ALL], during=lambda: seen.append(taken_ids(store)))

    sent = refunds.refund_at_counter(store, api, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.outcome is RefundOutcome.GIVEN
    assert sent.kinds == LOCAL_AND_ALL
    assert seen == [[]]
    # Once the response is handled, the outbox sends the entry, and the server returns it as a
    # duplicate of the refund it applied.
    assert taken_ids(store) == [KEY]


def test_offline_refund_recorded_only(store: Store) -> None:
    sent = refunds.refund_at_counter(store, None, "pay-1", 500, KEY, CAPTURED_AT)

    assert sent.outcome is RefundOutcome.GIVEN
    assert taken_ids(store) == [KEY]


class Worker:
    """The sync worker's send of the refund, finished only after the withdrawal was attempted."""

    def __init__(self, store: Store, finish: Callable[[], None],
                 monkeypatch: pytest.MonkeyPatch) -> None:
        self.store = store
        self.withdraw_attempted = threading.Event()
        self.thread = threading.Thread(target=self._finish_after_withdraw_attempt, args=(finish,))
        withdraw = store.withdraw_entry

        def withdraw_and_signal(entry_id: str, reason: ErrorCode, message: str) -> bool:
            withdrawn = withdraw(entry_id, reason, message)
            self.withdraw_attempted.set()
            return withdrawn

        monkeypatch.setattr(store, "withdraw_entry", withdraw_and_signal)

    def take(self) -> None:
        assert taken_ids(self.store) == [KEY]
        self.thread.start()

    def _finish_after_withdraw_attempt(self, finish: Callable[[], None]) -> None:
        self.withdraw_attempted.wait(30)
        finish()


def test_worker_send_declined_too(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, KEY, CAPTURED_AT)
    worker = Worker(store, lambda: store.apply_results([SyncResult(
        entry_id=KEY, status="declined", reason=ErrorCode.INSUFFICIENT_FUNDS,
        message="merchant holds 100 yen, 500 yen requested")]), monkeypatch)
    worker.take()

    sent = refunds.send_refund_now(ScriptedApi([LOW_BALANCE]), store, capture)
    worker.thread.join()

    # The clerk sees the result the server recorded for the outbox entry.
    assert sent.outcome is RefundOutcome.DECLINED
    assert sent.reason == "insufficient_funds"
    settled = store.capture(KEY)
    assert settled is not None
    assert settled.declined_message == "merchant holds 100 yen, 500 yen requested"
    assert refunds.waiting_refunds_yen(store) == {}


def test_worker_send_applied(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, KEY, CAPTURED_AT)
    worker = Worker(store, lambda: store.apply_results([SyncResult(
        entry_id=KEY, status="applied", payment_id="pay-1", refund_id="r_server")]), monkeypatch)
    worker.take()
    api = ScriptedApi([LOW_BALANCE, LOCAL_AND_ALL])

    sent = refunds.send_refund_now(api, store, capture)
    worker.thread.join()

    # The server applied the outbox entry after declining the request: the money went back.
    assert sent.outcome is RefundOutcome.GIVEN
    assert sent.kinds == LOCAL_AND_ALL
    assert store.outbox_state(KEY) == "acked"
    # The kinds are read by repeating the request with the same key.
    assert api.requests == [("pay-1", 500, KEY), ("pay-1", 500, KEY)]


def test_worker_send_failed(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, KEY, CAPTURED_AT)
    worker = Worker(store, lambda: store.record_failure([KEY], "read timed out", RETRY_AT),
                    monkeypatch)
    worker.take()

    sent = refunds.send_refund_now(ScriptedApi([LOW_BALANCE]), store, capture)
    worker.thread.join()

    # The timed-out send may have been applied, so the entry is sent again, not withdrawn.
    assert sent.outcome is RefundOutcome.UNCONFIRMED
    assert sent.reason == ErrorCode.INSUFFICIENT_FUNDS
    assert store.outbox_state(KEY) == "pending"
    assert refunds.waiting_refunds_yen(store) == {"pay-1": 500}


def test_worker_still_sending(store: Store) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, KEY, CAPTURED_AT)
    assert taken_ids(store) == [KEY]

    sent = refunds.send_refund_now(ScriptedApi([LOW_BALANCE]), store, capture, send_wait_s=0)

    assert sent.outcome is RefundOutcome.UNCONFIRMED
    assert store.outbox_state(KEY) == "pending"
    # The worker's result settles the entry later, as for any other send.
    store.apply_results([SyncResult(entry_id=KEY, status="declined",
                                    reason=ErrorCode.INSUFFICIENT_FUNDS, message="too low")])
    assert store.outbox_state(KEY) == "declined"


def test_repeated_key_after_worker_took_it(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 500, KEY, CAPTURED_AT)
    store.pending_entries(10)
    store.record_failure([KEY], "read timed out", RETRY_AT)

    # A second press with the same key finds the capture the worker already sent once.
    sent = refunds.refund_at_counter(store, ScriptedApi([LOW_BALANCE]), "pay-1", 500, KEY,
                                     CAPTURED_AT)

    assert sent.outcome is RefundOutcome.UNCONFIRMED
    assert store.outbox_state(KEY) == "pending"
    assert taken_ids(store) == [KEY]
