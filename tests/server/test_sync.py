"""POST /v1/sync: offline payments, online confirmations and refunds, each applied once."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from offline_helpers import (
    certificate_row,
    cpm_payment,
    offline_entry,
    offline_wallet,
    payment_entry,
    send_batch,
)
from settle_helpers import Server, TerminalClient
from sqlalchemy import func, select

from server import sync
from server.models import Payment, SyncResultRow

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def _payment_count(server: Server) -> int:
    with server.state.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_offline_payment_pays_merchant(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    entry = offline_entry(holder.code(server.clock()), 1_500, server.clock())
    entry["tax_lines"] = [{"rate_percent": 8, "amount_yen": 1_500}]

    results = send_batch(terminal, [entry])

    assert results[0]["status"] == "applied"
    assert results[0]["business_day"] == "2026-04-01"
    payment = terminal.get(f"/v1/payments/{results[0]['payment_id']}").json()
    assert payment["method"] == "offline"
    assert payment["amount_yen"] == 1_500
    assert payment["tax_lines"] == [{"rate_percent": 8, "amount_yen": 1_500}]
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_500
    assert certificate_row(server, holder.serial).spent_yen == 1_500
    assert holder.wallet.balance_yen() == 5_000


def test_repeated_batch_all_duplicate(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    online_id = cpm_payment(server, terminal, 800)
    entries = [
        offline_entry(holder.code(server.clock()), 1_000, server.clock(), seq=1),
        payment_entry("online_payment", online_id, 800, server.clock(), seq=2),
        offline_entry(holder.code(server.clock()), 700, server.clock(), seq=3),
        payment_entry("refund", online_id, 300, server.clock(), seq=4),
    ]

    first = send_batch(terminal, entries)
    second = send_batch(terminal, entries)

    assert [result["status"] for result in first] == ["applied"] * 4
    assert [result["status"] for result in second] == ["duplicate"] * 4
    for before, after in zip(first, second, strict=True):
        assert after["payment_id"] == before["payment_id"]
        assert after["refund_id"] == before["refund_id"]
        assert after["business_day"] == before["business_day"]
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_000 + 800 + 700 - 300
    assert _payment_count(server) == 3


def test_failed_entry_keeps_batch(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    mangled = holder.code(server.clock())
    mangled = mangled[:-6] + ("A" if mangled[-6] != "A" else "B") + mangled[-5:]
    entries = [
        offline_entry(mangled, 1_000, server.clock(), seq=1),
        payment_entry("refund", "p_missing", 100, server.clock(), seq=2),
        payment_entry("online_payment", "p_missing", 100, server.clock(), seq=3),
        offline_entry(holder.code(server.clock()), 400, server.clock(), seq=4),
    ]

    results = send_batch(terminal, entries)

    assert [result["status"] for result in results] == [
        "declined", "declined", "declined", "applied"]
    assert [result["reason"] for result in results] == [
        "offline_code_invalid", "not_found", "not_found", None]
    assert "scan it again" in results[0]["message"]
    assert server.merchant_balance_yen(terminal.merchant_id) == 400


def test_declined_entry_repeats_decline(server: Server) -> None:
    terminal = server.new_terminal()
    entry = payment_entry("online_payment", "p_missing", 100, server.clock())

    first = send_batch(terminal, [entry])
    second = send_batch(terminal, [entry])

    assert first[0]["status"] == "declined"
    assert second[0] == first[0]


def test_online_payment_confirmed_once(server: Server) -> None:
    terminal = server.new_terminal()
    payment_id = cpm_payment(server, terminal, 1_200)

    first = send_batch(terminal, [payment_entry("online_payment", payment_id, 1_200,
                                                server.clock())])
    other_entry = send_batch(terminal, [payment_entry("online_payment", payment_id, 1_200,
                                                      server.clock())])
    wrong_amount = send_batch(terminal, [payment_entry("online_payment", payment_id, 1_000,
                                                       server.clock())])

    assert first[0]["status"] == "applied"
    assert first[0]["payment_id"] == payment_id
    assert other_entry[0]["status"] == "duplicate"
    assert wrong_amount[0]["reason"] == "amount_mismatch"
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_200


def test_online_payment_other_merchant(server: Server) -> None:
    payment_id = cpm_payment(server, server.new_terminal(), 500)
    stranger = server.new_terminal()

    results = send_batch(stranger, [payment_entry("online_payment", payment_id, 500,
                                                  server.clock())])

    assert results[0]["status"] == "declined"
    assert results[0]["reason"] == "not_found"


def test_refund_over_payment_declined(server: Server) -> None:
    terminal = server.new_terminal()
    payment_id = cpm_payment(server, terminal, 1_000)

    results = send_batch(terminal, [
        payment_entry("refund", payment_id, 600, server.clock(), seq=1),
        payment_entry("refund", payment_id, 600, server.clock(), seq=2),
    ])

    assert results[0]["status"] == "applied"
    assert results[1]["status"] == "declined"
    assert results[1]["reason"] == "refund_exceeds_payment"
    assert server.merchant_balance_yen(terminal.merchant_id) == 400


def test_refund_of_offline_entry(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    sale = offline_entry(holder.code(server.clock()), 2_000, server.clock(), seq=1)

    results = send_batch(terminal, [
        sale, payment_entry("refund", sale["entry_id"], 2_000, server.clock(), seq=2),
    ])

    assert [result["status"] for result in results] == ["applied", "applied"]
    assert results[1]["payment_id"] == results[0]["payment_id"]
    assert server.merchant_balance_yen(terminal.merchant_id) == 0
    # The refund goes to the wallet's own account; the reserve keeps only the unspent part.
    assert holder.wallet.balance_yen() == 5_000 + 2_000
    assert certificate_row(server, holder.serial).spent_yen == 2_000


def test_business_day_uses_server_clock(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    # Japan's 2 April starts at 15:00Z. The terminal clock is 2 h behind the server, so its
    # captured_at 12:50Z was 14:50Z (1 April in Japan) and 14:00Z was 16:00Z (2 April).
    server.clock.now = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)
    device_now = server.clock() - timedelta(hours=2)
    early_server_time = server.clock() - timedelta(minutes=70)
    early = offline_entry(holder.code(early_server_time), 100,
                          device_now - timedelta(minutes=70), seq=1)
    late = offline_entry(holder.code(server.clock()), 100, device_now, seq=2)

    results = send_batch(terminal, [early, late], device_time=device_now)

    assert [result["status"] for result in results] == ["applied", "applied"]
    assert [result["business_day"] for result in results] == ["2026-04-01", "2026-04-02"]


def test_bad_device_time_rejected(server: Server) -> None:
    terminal = server.new_terminal()
    response = terminal.post("/v1/sync", {
        "entries": [payment_entry("online_payment", "p_x", 1, server.clock())],
        "device_time": "yesterday",
    })

    assert response.status_code == 422
    assert "device_time 'yesterday' is not an ISO 8601 time" in response.json()["error"]["message"]


def test_reused_entry_id_conflicts(server: Server) -> None:
    terminal = server.new_terminal()
    payment_id = cpm_payment(server, terminal, 900)
    entry = payment_entry("online_payment", payment_id, 900, server.clock(), entry_id="e-same-1")
    send_batch(terminal, [entry])

    changed = payment_entry("refund", payment_id, 900, server.clock(), entry_id="e-same-1")
    results = send_batch(terminal, [changed])

    assert results[0]["reason"] == "idempotency_conflict"
    assert server.merchant_balance_yen(terminal.merchant_id) == 900


def test_sync_needs_signature(server: Server) -> None:
    response = server.client.post("/v1/sync", json={
        "entries": [payment_entry("online_payment", "p_x", 1, server.clock())],
        "device_time": "2026-04-01T01:00:00+00:00",
    })

    assert response.status_code == 401


def test_failure_after_commit_retry(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    entries = [offline_entry(holder.code(server.clock()), 1_000, server.clock())]
    failures: list[datetime] = []

    def fail_once(moment: datetime) -> str:
        if not failures:
            failures.append(moment)
            raise RuntimeError("connection reset while sending the response")
        return moment.isoformat()

    monkeypatch.setattr(sync, "iso_utc", fail_once)
    with TestClient(server.app, raise_server_exceptions=False) as client:
        lost = TerminalClient(client, terminal.terminal_id, terminal.merchant_id, terminal.key,
                              server.clock)
        response = lost.post("/v1/sync", {"entries": entries,
                                          "device_time": server.clock().isoformat()})
        assert response.status_code == 500

        retry = send_batch(lost, entries)

    assert retry[0]["status"] == "duplicate"
    assert retry[0]["payment_id"] is not None
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_000
    assert _payment_count(server) == 1


def test_unexpected_error_ends_batch(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = server.new_terminal()
    payment_id = cpm_payment(server, terminal, 700)

    def broken(*args: Any) -> Any:
        raise RuntimeError("database connection lost")

    monkeypatch.setitem(sync._APPLIERS, "refund", broken)
    results = send_batch(terminal, [
        payment_entry("online_payment", payment_id, 700, server.clock(), seq=1),
        payment_entry("refund", payment_id, 100, server.clock(), seq=2),
        payment_entry("refund", payment_id, 100, server.clock(), seq=3),
    ])

    assert [result["status"] for result in results] == ["applied"]
    with server.state.db.read() as session:
        stored = session.scalars(select(SyncResultRow.status)).all()
    assert stored == ["applied"]
