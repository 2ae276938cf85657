"""Online payments whose outcome the terminal has not learned: recorded before the first
request, resolved by the sync engine after the sale ended, and recorded once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from terminal import messages
from terminal.api_client import ApiClient
from terminal.clock import ServerClock
from terminal.protocol import ErrorCode, Payment, TaxLine
from terminal.sale import Key, Sale, SaleState
from terminal.store import NewRedemption, Store, StoreError, open_store
from terminal.sync import SyncEngine
from tests.terminal.conftest import FakeServer

NOW = datetime(2024, 5, 1, 0, 30, tzinfo=UTC)
LINES = (TaxLine(rate_percent=10, amount_yen=1100),)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(tmp_path)
    yield opened
    opened.close()


def keys(*names: str) -> Iterator[str]:
    return iter(names)


def ring_up(store: Store, key: str = "key-0001") -> Sale:
    names = keys(key, "spare")
    sale = Sale(100_000, new_key=lambda: next(names), store=store, now=lambda: NOW)
    for digit in "1100":
        sale.press(digit)
    sale.press(Key.RATE_10)
    return sale


def engine_for(store: Store, client: ApiClient) -> SyncEngine:
    return SyncEngine(store, client, ServerClock(), random=lambda: 0.0)


def payment(payment_id: str = "pay-9") -> Payment:
    return Payment(
        payment_id=payment_id, merchant_id="m-1", terminal_id="term-0001", amount_yen=1100,
        refunded_yen=0, method="cpm", created_at="2024-05-01T00:30:00+00:00",
        tax_lines=list(LINES),
    )


# --- store ----------------------------------------------------------------------------


def test_redemption_opened_once_per_key(store: Store) -> None:
    first = NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code="12345")
    store.open_redemption(first)
    store.open_redemption(NewRedemption("key-0001", "cpm", 9999, LINES, NOW, code="99999"))

    redemption = store.redemption("key-0001")
    assert redemption is not None
    assert (redemption.state, redemption.amount_yen, redemption.code) == ("open", 1100, "12345")
    assert [r.key for r in store.open_redemptions()] == ["key-0001"]


def test_completing_twice_records_one_capture(store: Store) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code="12345"))

    first = store.complete_redemption("key-0001", payment(), NOW, recovered=True)
    second = store.complete_redemption("key-0001", payment(), NOW, recovered=True)

    assert first == second
    assert first.capture_id == "key-0001"
    assert (first.kind, first.payment_id, first.method) == ("online_payment", "pay-9", "cpm")
    assert len(store.captures()) == 1
    assert store.waiting().count == 1
    redemption = store.redemption("key-0001")
    assert redemption is not None
    assert (redemption.state, redemption.code, redemption.recovered) == ("approved", None, True)


def test_recovery_shown_until_acknowledged(store: Store) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code="12345"))
    store.complete_redemption("key-0001", payment(), NOW, recovered=True)

    assert [r.key for r in store.unacknowledged_recoveries()] == ["key-0001"]
    store.acknowledge_recovery("key-0001")
    assert store.unacknowledged_recoveries() == []


def test_sale_seeing_approval_clears_recovery(store: Store) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code="12345"))
    store.complete_redemption("key-0001", payment(), NOW, recovered=True)

    store.complete_redemption("key-0001", payment(), NOW, recovered=False)

    assert store.unacknowledged_recoveries() == []
    assert len(store.captures()) == 1


def test_closed_redemption_forgets_code(store: Store) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code="12345"))

    store.close_redemption("key-0001", "code_expired")
    store.close_redemption("key-0001", "something later")

    redemption = store.redemption("key-0001")
    assert redemption is not None
    assert (redemption.state, redemption.outcome, redemption.code) == (
        "closed", "code_expired", None
    )
    assert store.open_redemptions() == []


def test_held_redemption_left_out(store: Store) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code="1"))
    store.open_redemption(NewRedemption("key-0002", "cpm", 1100, LINES, NOW, code="2"))

    store.hold_redemption("key-0001")
    assert [r.key for r in store.open_redemptions(include_held=False)] == ["key-0002"]
    store.release_redemption("key-0001")
    assert [r.key for r in store.open_redemptions(include_held=False)] == ["key-0001", "key-0002"]


def test_redemptions_survive_reopening(tmp_path: Path) -> None:
    store = open_store(tmp_path)
    store.open_redemption(NewRedemption("key-0001", "mpm", 1100, LINES, NOW))
    store.set_redemption_intent("key-0001", "in-7")
    store.close()

    reopened = open_store(tmp_path)
    redemption = reopened.redemption("key-0001")
    reopened.close()
    assert redemption is not None
    assert (redemption.method, redemption.intent_id, redemption.tax_lines) == (
        "mpm", "in-7", list(LINES)
    )


# --- sale -----------------------------------------------------------------------------


def test_code_recorded_before_redeem_sent(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen_at_send: list[object] = []
    route = server._route

    def record_then_route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/payments/cpm":
            seen_at_send.append(store.redemption("key-0001"))
        return route(request)

    monkeypatch.setattr(server, "_route", record_then_route)
    sale = ring_up(store)
    sale.start_cpm()

    assert sale.submit_code(client, payment_code) is None

    assert len(seen_at_send) == 1
    opened = seen_at_send[0]
    assert opened is not None and opened.code == payment_code  # type: ignore[attr-defined]
    assert sale.capture is not None and sale.capture.capture_id == "key-0001"
    redemption = store.redemption("key-0001")
    assert redemption is not None
    assert (redemption.state, redemption.recovered) == ("approved", False)
    assert store.unacknowledged_recoveries() == []


def test_declined_code_closes_redemption(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    server.expired_codes.add(payment_code)
    sale = ring_up(store)
    sale.start_cpm()

    sale.submit_code(client, payment_code)

    redemption = store.redemption("key-0001")
    assert sale.state is SaleState.DECLINED
    assert redemption is not None
    assert (redemption.state, redemption.outcome) == ("closed", ErrorCode.CODE_EXPIRED.value)
    assert store.captures() == []


def test_unrecordable_code_not_sent(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def fail(_new: NewRedemption) -> None:
        raise StoreError("disk full")

    monkeypatch.setattr(store, "open_redemption", fail)
    sale = ring_up(store)
    sale.start_cpm()

    assert sale.submit_code(client, payment_code) == messages.STORE_WRITE_FAILED
    assert server.json_bodies("/v1/payments/cpm") == []
    assert sale.state is SaleState.CPM_WAITING


def test_unknown_outcome_held_until_sale_ends(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    server.failures_after = [httpx.ReadTimeout("lost")] * 3
    sale = ring_up(store)
    sale.start_cpm()
    sale.submit_code(client, payment_code)
    assert sale.outcome_unknown
    assert store.open_redemptions(include_held=False) == []

    assert sale.cancel() == messages.OUTCOME_CHECKED_LATER

    assert [r.key for r in store.open_redemptions(include_held=False)] == ["key-0001"]


def test_mpm_intent_recorded_with_its_key(
    store: Store, client: ApiClient, server: FakeServer
) -> None:
    sale = ring_up(store)

    assert sale.start_mpm(client, now=NOW) is None

    redemption = store.redemption("key-0001")
    assert sale.intent is not None
    assert redemption is not None
    assert (redemption.method, redemption.intent_id, redemption.state) == (
        "mpm", sale.intent.intent_id, "open"
    )
    assert store.open_redemptions(include_held=False) == []


def test_mpm_cancel_closes_redemption(store: Store, client: ApiClient) -> None:
    sale = ring_up(store)
    sale.start_mpm(client, now=NOW)

    sale.cancel(client)

    redemption = store.redemption("key-0001")
    assert sale.state is SaleState.CANCELLED
    assert redemption is not None and redemption.outcome == "cancelled"


# --- sync engine ----------------------------------------------------------------------


def test_engine_resends_abandoned_code_with_same_key(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    server.failures_after = [httpx.ReadTimeout("lost")] * 3
    sale = ring_up(store)
    sale.start_cpm()
    sale.submit_code(client, payment_code)
    sale.cancel()
    engine = engine_for(store, client)

    assert engine.resolve_redemptions() is True

    bodies = server.json_bodies("/v1/payments/cpm")
    assert {body["idempotency_key"] for body in bodies} == {"key-0001"}
    assert {body["code"] for body in bodies} == {payment_code}
    assert server.redeem_count == 1
    capture = store.capture("key-0001")
    assert capture is not None and capture.payment_id == "pay-1"
    status = engine.status()
    assert [r.key for r in status.recovered] == ["key-0001"]
    assert status.unresolved_count == 0
    assert status.waiting_count == 1


def test_engine_leaves_held_redemption(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    server.failures_after = [httpx.ReadTimeout("lost")] * 3
    sale = ring_up(store)
    sale.start_cpm()
    sale.submit_code(client, payment_code)

    engine_for(store, client).resolve_redemptions()

    assert len(server.json_bodies("/v1/payments/cpm")) == 3
    assert store.captures() == []


def test_engine_closes_code_that_never_arrived(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code=payment_code))
    server.expired_codes.add(payment_code)

    engine_for(store, client).resolve_redemptions()

    redemption = store.redemption("key-0001")
    assert redemption is not None and redemption.outcome == ErrorCode.CODE_EXPIRED.value
    assert store.captures() == []
    assert engine_for(store, client).status().recovered == ()


def test_engine_keeps_redemption_open_when_refused(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code=payment_code))
    server.next_error = ErrorCode.UNAUTHENTICATED
    engine = engine_for(store, client)

    assert engine.resolve_redemptions() is False

    assert [r.key for r in store.open_redemptions()] == ["key-0001"]
    assert engine.online is False
    assert engine.retry_at is not None


def test_engine_keeps_redemption_open_while_unreachable(
    store: Store, client: ApiClient, server: FakeServer, payment_code: str
) -> None:
    store.open_redemption(NewRedemption("key-0001", "cpm", 1100, LINES, NOW, code=payment_code))
    server.failures_before = [httpx.ConnectError("down")] * 3
    engine = engine_for(store, client)

    assert engine.resolve_redemptions() is False

    assert engine.status().unresolved_count == 1
    assert server.redeem_count == 0


def test_engine_finds_intent_paid_while_terminal_was_down(
    store: Store, client: ApiClient, server: FakeServer
) -> None:
    sale = ring_up(store)
    sale.start_mpm(client, now=NOW)
    assert sale.intent is not None
    paid = server.pay_intent(sale.intent.intent_id)
    sale.reset()  # the terminal restarted: no sale waits on the intent any more

    engine_for(store, client).resolve_redemptions()

    capture = store.capture("key-0001")
    assert capture is not None
    assert (capture.payment_id, capture.method, capture.amount_yen) == (paid.payment_id, "mpm", 1100)
    assert [r.key for r in store.unacknowledged_recoveries()] == ["key-0001"]


def test_engine_cancels_unpaid_intent(
    store: Store, client: ApiClient, server: FakeServer
) -> None:
    sale = ring_up(store)
    sale.start_mpm(client, now=NOW)
    assert sale.intent is not None
    intent_id = sale.intent.intent_id
    sale.reset()

    engine_for(store, client).resolve_redemptions()

    redemption = store.redemption("key-0001")
    assert server.intents[intent_id].status == "cancelled"
    assert redemption is not None and redemption.outcome == "cancelled"
    assert store.captures() == []


def test_engine_finds_intent_whose_creation_response_was_lost(
    store: Store, client: ApiClient, server: FakeServer
) -> None:
    server.failures_after = [httpx.ReadTimeout("lost")] * 3
    sale = ring_up(store)
    sale.start_mpm(client, now=NOW)
    sale.reset()
    (intent_id,) = server.intents
    server.pay_intent(intent_id)

    engine_for(store, client).resolve_redemptions()

    creates = server.json_bodies("/v1/intents")
    assert {body["idempotency_key"] for body in creates} == {"key-0001"}
    assert len(server.intents) == 1
    capture = store.capture("key-0001")
    assert capture is not None and capture.method == "mpm"
