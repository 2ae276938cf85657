"""Rejected wallet pay calls recorded on the intent, so the terminal can tell the clerk."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from long_poll_helpers import poll_during_pay, poll_once
from settle_helpers import FakeClock, Server, TerminalClient, WalletClient, run_server
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from server import payments
from server.models import Intent, Posting, Transfer
from server.settings import Settings, iso_utc
from test_coupon_flows import coupon_setup
from terminal.protocol import ErrorCode


def create_intent(terminal: TerminalClient, amount_yen: int = 500, key: str = "sale-rejected-1",
                  **extra: Any) -> str:
    response = terminal.post("/v1/intents",
                             {"amount_yen": amount_yen, "idempotency_key": key, **extra})
    assert response.status_code == 200, response.text
    return str(response.json()["intent_id"])


def pay(wallet: WalletClient, intent_id: str, amount_yen: int = 500,
        key: str = "wallet-pay-rejected-1") -> httpx.Response:
    return wallet.post(f"/v1/intents/{intent_id}/pay",
                       {"amount_yen": amount_yen, "idempotency_key": key})


def read_intent(terminal: TerminalClient, intent_id: str) -> dict[str, Any]:
    response = terminal.get(f"/v1/intents/{intent_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ledger_rows(server: Server) -> tuple[int, int]:
    with server.state.db.read() as session:
        transfers = session.scalar(select(func.count()).select_from(Transfer)) or 0
        postings = session.scalar(select(func.count()).select_from(Posting)) or 0
    return transfers, postings


def test_insufficient_funds_recorded_on_intent(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(499)
    intent_id = create_intent(terminal)
    before = ledger_rows(server)

    response = pay(wallet, intent_id)
    intent = read_intent(terminal, intent_id)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert intent["status"] == "pending"
    assert intent["last_rejection"] == {"code": "insufficient_funds", "at": iso_utc(server.clock())}
    assert ledger_rows(server) == before
    assert wallet.balance_yen() == 499
    assert server.merchant_balance_yen(terminal.merchant_id) == 0


def test_new_intent_has_no_rejection(server: Server) -> None:
    terminal = server.new_terminal()

    intent = read_intent(terminal, create_intent(terminal))

    assert intent["last_rejection"] is None


def test_rejection_holds_code_and_time_only(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(100)
    intent_id = create_intent(terminal)
    pay(wallet, intent_id)

    rejection = read_intent(terminal, intent_id)["last_rejection"]
    with server.state.db.read() as session:
        row = session.get(Intent, intent_id)
        assert row is not None
        stored = (row.last_rejection_code, row.last_rejection_at)

    assert set(rejection) == {"code", "at"}
    assert wallet.wallet_id not in str(rejection)
    assert stored == ("insufficient_funds", server.clock())


def test_coupon_of_other_wallet_then_owner_pays(server: Server) -> None:
    terminal, owner, code = coupon_setup(server)
    stranger = server.new_wallet(1_000)
    intent_id = create_intent(terminal, 900, coupon={
        "code": code, "total_yen": 1_000, "discount_yen": 100,
    })

    rejected = pay(stranger, intent_id, 900, key="wallet-pay-stranger")
    waiting = read_intent(terminal, intent_id)
    paid = pay(owner, intent_id, 900, key="wallet-pay-owner")
    approved = read_intent(terminal, intent_id)

    assert rejected.status_code == 409
    assert waiting["status"] == "pending"
    assert waiting["last_rejection"]["code"] == "coupon_wrong_wallet"
    assert stranger.balance_yen() == 1_000
    assert paid.status_code == 200, paid.text
    assert paid.json()["coupon"]["discount_yen"] == 100
    assert approved["status"] == "approved"
    assert approved["payment"]["payment_id"] == paid.json()["payment_id"]
    assert owner.balance_yen() == 100
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_000


def test_stranger_coupon_rejected_before_balance(server: Server) -> None:
    terminal, _, code = coupon_setup(server)
    stranger = server.new_wallet(50)
    intent_id = create_intent(terminal, 900, coupon={
        "code": code, "total_yen": 1_000, "discount_yen": 100,
    })

    rejected = pay(stranger, intent_id, 900, key="wallet-pay-short-stranger")

    assert rejected.status_code == 409, rejected.text
    assert rejected.json()["error"]["code"] == "coupon_wrong_wallet"
    assert read_intent(terminal, intent_id)["last_rejection"]["code"] == "coupon_wrong_wallet"
    assert stranger.balance_yen() == 50


def test_later_rejection_replaces_earlier(server: Server) -> None:
    terminal = server.new_terminal()
    poor = server.new_wallet(100)
    wrong_amount = server.new_wallet(1_000)
    intent_id = create_intent(terminal)
    pay(poor, intent_id)
    server.clock.advance(7)

    response = pay(wrong_amount, intent_id, amount_yen=50, key="wallet-pay-rejected-2")
    rejection = read_intent(terminal, intent_id)["last_rejection"]

    assert response.json()["error"]["code"] == "amount_mismatch"
    assert rejection == {"code": "amount_mismatch", "at": iso_utc(server.clock())}


@pytest.mark.parametrize("settle", ["cancel", "expire"])
def test_rejection_not_recorded_after_intent_ends(server: Server, settle: str) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(100)
    intent_id = create_intent(terminal)
    if settle == "cancel":
        terminal.post(f"/v1/intents/{intent_id}/cancel")
    else:
        server.clock.advance(server.settings.intent_ttl_s)

    response = pay(wallet, intent_id)
    intent = read_intent(terminal, intent_id)

    assert response.json()["error"]["code"] in ("intent_cancelled", "intent_expired")
    assert intent["last_rejection"] is None


def test_idempotency_conflict_not_recorded(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(2_000)
    first = create_intent(terminal, key="sale-rejected-a")
    second = create_intent(terminal, key="sale-rejected-b")
    assert pay(wallet, first).status_code == 200

    response = pay(wallet, second)

    assert response.json()["error"]["code"] == "idempotency_conflict"
    assert read_intent(terminal, second)["last_rejection"] is None


def test_recording_failure_keeps_wallet_error(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(100)
    intent_id = create_intent(terminal)

    def broken(*args: object) -> bool:
        raise OperationalError("UPDATE intents", {}, Exception("database is locked"))

    monkeypatch.setattr(payments, "record_rejection", broken)
    response = pay(wallet, intent_id)

    assert response.status_code == 402
    assert response.json()["error"]["code"] == "insufficient_funds"
    assert read_intent(terminal, intent_id)["last_rejection"] is None


def test_rejection_sent_on_event_stream(server: Server) -> None:
    terminal = server.new_terminal()
    wallet = server.new_wallet(100)
    intent_id = create_intent(terminal)
    pay(wallet, intent_id)
    terminal.post(f"/v1/intents/{intent_id}/cancel")

    response = terminal.get(f"/v1/intents/{intent_id}/events")

    assert '"last_rejection":{"code":"insufficient_funds"' in response.text


# --- long polls ----------------------------------------------------------------------------


@pytest.fixture
def slow_recheck_server(migrated_db_url: str, clock: FakeClock) -> Iterator[Server]:
    """A server whose long polls re-read the database only every minute, so a poll that
    returns sooner was woken by the notifier."""
    settings = replace(Settings(database_url=migrated_db_url, demo=True, clock=clock),
                       poll_recheck_s=60.0)
    with run_server(settings, clock) as server:
        yield server


def test_rejection_wakes_waiting_poll(slow_recheck_server: Server) -> None:
    server = slow_recheck_server
    terminal = server.new_terminal()
    wallet = server.new_wallet(100)
    intent_id = create_intent(terminal)

    polled, paid_status = poll_during_pay(server, terminal, wallet, intent_id, 500)

    assert paid_status == 402
    assert polled["status"] == "pending"
    assert polled["last_rejection"]["code"] == ErrorCode.INSUFFICIENT_FUNDS.value


def test_poll_after_rejection_waits_for_next_change(slow_recheck_server: Server) -> None:
    server = slow_recheck_server
    terminal = server.new_terminal()
    poor = server.new_wallet(100)
    rich = server.new_wallet(1_000)
    intent_id = create_intent(terminal)
    pay(poor, intent_id)

    polled, paid_status = poll_during_pay(server, terminal, rich, intent_id, 500)

    assert paid_status == 200
    assert polled["status"] == "approved"
    assert polled["last_rejection"]["code"] == "insufficient_funds"
    assert rich.balance_yen() == 500


def test_poll_returns_rejection_recorded_before_it_started(
    slow_recheck_server: Server,
) -> None:
    server = slow_recheck_server
    terminal = server.new_terminal()
    poor = server.new_wallet(100)
    intent_id = create_intent(terminal)
    assert pay(poor, intent_id).status_code == 402

    polled = poll_once(server, terminal, intent_id, "none")

    assert polled["status"] == "pending"
    assert polled["last_rejection"]["code"] == ErrorCode.INSUFFICIENT_FUNDS.value


def test_poll_returns_rejection_newer_than_the_one_seen(slow_recheck_server: Server) -> None:
    server = slow_recheck_server
    terminal = server.new_terminal()
    poor = server.new_wallet(100)
    intent_id = create_intent(terminal)
    assert pay(poor, intent_id).status_code == 402
    first = read_intent(terminal, intent_id)["last_rejection"]
    server.clock.advance(5)
    assert pay(poor, intent_id, key="wallet-pay-rejected-2").status_code == 402

    polled = poll_once(server, terminal, intent_id, first["at"])

    assert polled["last_rejection"]["at"] != first["at"]
    assert polled["last_rejection"]["code"] == ErrorCode.INSUFFICIENT_FUNDS.value


def test_poll_naming_latest_rejection_waits_for_the_payment(slow_recheck_server: Server) -> None:
    server = slow_recheck_server
    terminal = server.new_terminal()
    poor = server.new_wallet(100)
    rich = server.new_wallet(1_000)
    intent_id = create_intent(terminal)
    assert pay(poor, intent_id).status_code == 402
    seen = read_intent(terminal, intent_id)["last_rejection"]["at"]

    polled, paid_status = poll_during_pay(server, terminal, rich, intent_id, 500,
                                          key="wallet-pay-after-seen", seen_rejection_at=seen)

    assert paid_status == 200
    assert polled["status"] == "approved"
    assert polled["last_rejection"]["at"] == seen
