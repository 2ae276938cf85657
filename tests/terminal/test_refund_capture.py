"""Refunds recorded in the terminal database and the cap that counts the waiting ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from terminal import protocol, refunds
from terminal.api_client import ApiError, Declined, ProtocolError, Unreachable
from terminal.protocol import ErrorCode, SyncResult, ValueKind
from terminal.store import NewCapture, Store, open_store

CAPTURED_AT = datetime(2025, 5, 1, 3, 0, tzinfo=UTC)
LOCAL_AND_ALL = {ValueKind.PREMIUM_LOCAL: 100, ValueKind.PREMIUM_ALL: 400}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path)


def payment(payment_id: str = "pay-1", amount_yen: int = 1_000, refunded_yen: int = 0) -> protocol.Payment:
    return protocol.Payment(
        payment_id=payment_id,
        merchant_id="m-1",
        terminal_id="term-1",
        amount_yen=amount_yen,
        refunded_yen=refunded_yen,
        method="cpm",
        created_at="2025-05-01T02:00:00+00:00",
    )


@dataclass
class RefundApi:
    """Records each refund request and returns a refund of ``kinds``, or raises ``error``."""

    kinds: dict[ValueKind, int] = field(default_factory=dict)
    error: ApiError | None = None
    answered_yen: int | None = None
    requests: list[tuple[str, int, str]] = field(default_factory=list)

    def refund(self, payment_id: str, amount_yen: int, idempotency_key: str) -> protocol.Refund:
        self.requests.append((payment_id, amount_yen, idempotency_key))
        if self.error is not None:
            raise self.error
        answered_yen = amount_yen if self.answered_yen is None else self.answered_yen
        return protocol.Refund(
            refund_id="r_server", payment_id=payment_id, amount_yen=answered_yen,
            created_at="2025-05-01T03:00:01+00:00",
            payment=payment(payment_id, refunded_yen=answered_yen), kinds=self.kinds,
        )


def test_refund_recorded_with_outbox(store: Store) -> None:
    capture = refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)

    assert (capture.kind, capture.method, capture.payment_id) == ("refund", "refund", "pay-1")
    assert store.outbox_state("refund-0001") == "pending"
    assert [entry.entry.kind for entry in store.pending_entries(10)] == ["refund"]
    assert store.pending_entries(10)[0].entry.payment_id == "pay-1"


def test_same_refund_key_once(store: Store) -> None:
    first = refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)
    second = refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)

    assert second == first
    assert store.waiting().count == 1


def test_refund_key_of_other_capture(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)

    with pytest.raises(ValueError, match="refund-0001"):
        refunds.record_refund(store, "pay-2", 300, "refund-0001", CAPTURED_AT)


def test_refund_key_with_other_amount(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)

    with pytest.raises(ValueError, match="recorded for 300 yen of payment pay-1, not 50 yen"):
        refunds.record_refund(store, "pay-1", 50, "refund-0001", CAPTURED_AT)

    [capture] = store.captures()
    assert capture.amount_yen == 300


def test_zero_refund_rejected(store: Store) -> None:
    with pytest.raises(ValueError, match="at least 1 yen"):
        refunds.record_refund(store, "pay-1", 0, "refund-0001", CAPTURED_AT)


def test_cap_counts_waiting_refunds(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)
    refunds.record_refund(store, "pay-1", 200, "refund-0002", CAPTURED_AT)
    refunds.record_refund(store, "pay-2", 50, "refund-0003", CAPTURED_AT)

    waiting = refunds.waiting_refunds_yen(store)

    assert waiting == {"pay-1": 500, "pay-2": 50}
    assert refunds.refundable_yen(payment(refunded_yen=100), waiting["pay-1"]) == 400


def test_acknowledged_refund_not_waiting(store: Store) -> None:
    refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)
    store.apply_results([SyncResult(entry_id="refund-0001", status="applied", refund_id="r-9")])

    assert refunds.waiting_refunds_yen(store) == {}


def test_cap_never_negative() -> None:
    assert refunds.refundable_yen(payment(amount_yen=500, refunded_yen=400), 300) == 0


def test_waiting_offline_payments_listed(store: Store) -> None:
    for capture_id, amount_yen in (("off-1", 800), ("off-2", 1_200)):
        store.record_capture(
            NewCapture(capture_id, "offline_payment", amount_yen, "offline", CAPTURED_AT)
        )
    store.apply_results([SyncResult(entry_id="off-1", status="applied", payment_id="p-1")])

    listed = refunds.waiting_offline_payments(store, "m-1", "term-1")

    assert [(p.payment_id, p.amount_yen, p.method) for p in listed] == [("off-2", 1_200, "offline")]


def test_receipt_refund_adds_amount(store: Store) -> None:
    capture = refunds.record_refund(store, "pay-1", 300, "refund-0001", CAPTURED_AT)

    refund = refunds.refund_for_receipt(payment(refunded_yen=100), capture)

    assert refund.refund_id == "refund-0001"
    assert refund.amount_yen == 300
    assert refund.payment.refunded_yen == 400


def test_receipt_refund_carries_kinds(store: Store) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, "refund-0001", CAPTURED_AT)

    refund = refunds.refund_for_receipt(payment(), capture, LOCAL_AND_ALL)

    assert refund.kinds == LOCAL_AND_ALL
    assert refund.refund_id == "refund-0001"


def test_sent_refund_returns_kinds(store: Store) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, "refund-0001", CAPTURED_AT)
    api = RefundApi(kinds=LOCAL_AND_ALL)

    sent = refunds.send_refund_now(api, store, capture)

    assert sent.outcome is refunds.RefundOutcome.GIVEN
    assert sent.kinds == LOCAL_AND_ALL
    # The outbox entry carries the same key, so the server applies the refund once.
    assert api.requests == [("pay-1", 500, "refund-0001")]
    assert store.outbox_state("refund-0001") == "pending"


def test_refund_of_offline_sale_not_sent(store: Store) -> None:
    store.record_capture(NewCapture("off-1", "offline_payment", 800, "offline", CAPTURED_AT))
    capture = refunds.record_refund(store, "off-1", 500, "refund-0001", CAPTURED_AT)
    api = RefundApi(kinds=LOCAL_AND_ALL)

    sent = refunds.send_refund_now(api, store, capture)

    assert sent.outcome is refunds.RefundOutcome.GIVEN
    assert sent.kinds == {}
    assert api.requests == []
    assert store.outbox_state("refund-0001") == "pending"


@pytest.mark.parametrize("error", [
    Unreachable("connection refused"),
    ProtocolError("POST /v1/payments/pay-1/refunds returned HTTP 500 without a valid error body"),
    # Refusals of the terminal, not of the refund: the outbox is refused the same way.
    Declined("signature timestamp is too old", ErrorCode.UNAUTHENTICATED, 401),
    Declined("terminal is disabled", ErrorCode.FORBIDDEN, 403),
    Declined("internal error", ErrorCode.INVALID_REQUEST, 500),
], ids=["unreachable", "server-error", "unauthenticated", "forbidden", "5xx-with-code"])
def test_failed_send_keeps_refund(store: Store, error: ApiError) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, "refund-0001", CAPTURED_AT)
    api = RefundApi(kinds=LOCAL_AND_ALL, error=error)

    sent = refunds.send_refund_now(api, store, capture)

    assert sent.outcome is refunds.RefundOutcome.GIVEN
    assert sent.kinds == {}
    assert len(api.requests) == 1
    assert store.outbox_state("refund-0001") == "pending"
    assert refunds.waiting_refunds_yen(store) == {"pay-1": 500}


def test_answer_of_other_amount_has_no_kinds(store: Store) -> None:
    capture = refunds.record_refund(store, "pay-1", 500, "refund-0001", CAPTURED_AT)
    api = RefundApi(kinds={ValueKind.COIN: 400}, answered_yen=400)

    sent = refunds.send_refund_now(api, store, capture)

    assert sent.outcome is refunds.RefundOutcome.GIVEN
    assert sent.kinds == {}


def test_send_rejects_other_capture(store: Store) -> None:
    store.record_capture(NewCapture("off-1", "offline_payment", 800, "offline", CAPTURED_AT))
    sale = store.capture("off-1")
    assert sale is not None

    with pytest.raises(ValueError, match="off-1"):
        refunds.send_refund_now(RefundApi(), store, sale)
