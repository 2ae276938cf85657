"""Offline fraud and races: codes shown twice, spending beyond the reserve, concurrent syncs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from offline_helpers import (
    certificate_row,
    offline_entry,
    offline_wallet,
    request_certificate,
    send_batch,
)
from settle_helpers import Server, cli_db
from sqlalchemy import func, select

from server import cli, offline, sync
from server.models import Payment
from terminal import protocol

WEEK_S = 7 * 24 * 3600
DAY_S = 24 * 3600


def _run_together(count: int, action: Callable[[int], protocol.SyncResult]) -> list[str]:
    """Run ``action(index)`` in ``count`` threads released at once; return each status."""
    barrier = threading.Barrier(count)
    statuses = [""] * count

    def worker(index: int) -> None:
        barrier.wait()
        statuses[index] = action(index).status

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return statuses


def _context(server: Server, terminal_id: str) -> sync.EntryContext:
    return sync.EntryContext(server.terminal_row(terminal_id), server.settings, timedelta(0))


def _entry(code: str, amount_yen: int, server: Server) -> protocol.SyncEntry:
    return protocol.SyncEntry.model_validate(offline_entry(code, amount_yen, server.clock()))


def _payment_count(server: Server) -> int:
    with server.state.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Payment)) or 0)


def test_code_shown_twice_blocks_wallet(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    code = holder.code(server.clock())
    first_shop, second_shop = server.new_terminal(), server.new_terminal()

    first = send_batch(first_shop, [offline_entry(code, 1_000, server.clock())])
    second = send_batch(second_shop, [offline_entry(code, 1_000, server.clock())])

    # The reserve still covers the second payment, so both merchants are paid.
    assert first[0]["status"] == "applied"
    assert second[0]["status"] == "applied"
    assert server.merchant_balance_yen(second_shop.merchant_id) == 1_000
    assert server.wallet_row(holder.wallet.wallet_id).blocked_at is not None
    with server.state.db.read() as session:
        report = offline.offline_report(session)
    assert [(record.problem, record.paid, record.terminal_id) for record in report] == [
        ("counter_reused", True, second_shop.terminal_id)]


def test_blocked_wallet_gets_no_certificate(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    code = holder.code(server.clock())
    terminal = server.new_terminal()
    send_batch(terminal, [offline_entry(code, 100, server.clock(), seq=1),
                          offline_entry(code, 100, server.clock(), seq=2)])
    server.clock.advance(WEEK_S + DAY_S)

    response = request_certificate(holder.wallet, 1_000)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "wallet_blocked"


def test_spending_beyond_reserve_declined(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    terminal = server.new_terminal()

    results = send_batch(terminal, [
        offline_entry(holder.code(server.clock()), 2_000, server.clock(), seq=1),
        offline_entry(holder.code(server.clock()), 2_000, server.clock(), seq=2),
        offline_entry(holder.code(server.clock()), 1_000, server.clock(), seq=3),
    ])

    assert [result["status"] for result in results] == ["applied", "declined", "applied"]
    assert results[1]["reason"] == "offline_allowance_exceeded"
    assert certificate_row(server, holder.serial).spent_yen == 3_000
    assert server.merchant_balance_yen(offline.reserve_account_id(holder.wallet.wallet_id)) == 0
    assert server.wallet_row(holder.wallet.wallet_id).blocked_at is not None
    with server.state.db.read() as session:
        report = offline.offline_report(session)
    assert [(record.problem, record.paid, record.amount_yen) for record in report] == [
        ("over_allowance", False, 2_000)]


def test_code_after_release_not_fraud(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    captured_at = server.clock()
    entry = offline_entry(holder.code(captured_at), 500, captured_at)
    server.clock.advance(WEEK_S + DAY_S)
    with server.state.db.write() as session:
        offline.release_offline_reserves(session, server.settings)

    # A terminal that was offline for over a week sends the sale with its capture time.
    results = send_batch(server.new_terminal(), [entry],
                         device_time=server.clock())

    assert results[0]["status"] == "declined"
    assert results[0]["reason"] == "offline_allowance_exceeded"
    assert "already returned to the wallet" in results[0]["message"]
    assert server.wallet_row(holder.wallet.wallet_id).blocked_at is None
    assert holder.wallet.balance_yen() == 10_000


def test_late_sync_checks_capture_time(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    captured_at = server.clock()
    entry = offline_entry(holder.code(captured_at), 600, captured_at)
    server.clock.advance(3 * DAY_S)

    results = send_batch(server.new_terminal(), [entry])

    assert results[0]["status"] == "applied"
    assert results[0]["business_day"] == "2026-04-01"


def test_same_entry_two_connections(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=5_000)
    terminal = server.new_terminal()
    entry = _entry(holder.code(server.clock()), 1_000, server)
    context = _context(server, terminal.terminal_id)

    statuses = _run_together(4, lambda i: sync.sync_entry(server.state.db, entry, context))

    assert sorted(statuses) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert server.merchant_balance_yen(terminal.merchant_id) == 1_000
    assert _payment_count(server) == 1


def test_same_code_two_terminals_at_once(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    code = holder.code(server.clock())
    terminals = [server.new_terminal(), server.new_terminal()]
    contexts = [_context(server, terminal.terminal_id) for terminal in terminals]
    entries = [_entry(code, 2_000, server), _entry(code, 2_000, server)]

    statuses = _run_together(2, lambda i: sync.sync_entry(server.state.db, entries[i],
                                                          contexts[i]))

    assert sorted(statuses) == ["applied", "declined"]
    assert certificate_row(server, holder.serial).spent_yen == 2_000
    assert server.wallet_row(holder.wallet.wallet_id).blocked_at is not None


def test_reserve_never_negative(server: Server) -> None:
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=3_000)
    codes = [holder.code(server.clock()) for _ in range(6)]
    terminals = [server.new_terminal() for _ in range(6)]
    contexts = [_context(server, terminal.terminal_id) for terminal in terminals]
    entries = [_entry(code, 1_000, server) for code in codes]

    statuses = _run_together(6, lambda i: sync.sync_entry(server.state.db, entries[i],
                                                          contexts[i]))

    assert sorted(statuses) == ["applied"] * 3 + ["declined"] * 3
    assert certificate_row(server, holder.serial).spent_yen == 3_000
    assert server.merchant_balance_yen(offline.reserve_account_id(holder.wallet.wallet_id)) == 0
    paid_yen = sum(server.merchant_balance_yen(terminal.merchant_id) for terminal in terminals)
    assert paid_yen == 3_000


# --- operator commands ---------------------------------------------------------------------


def _at_fixed_time(server: Server) -> None:
    # The commands read the real clock, so the scenario runs long before any real date.
    server.clock.now = datetime(2020, 1, 6, 0, 0, tzinfo=UTC)


def test_offline_report_command(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    _at_fixed_time(server)
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=1_000)
    terminal = server.new_terminal()
    send_batch(terminal, [
        offline_entry(holder.code(server.clock()), 800, server.clock(), seq=1, entry_id="e-first-ok"),
        offline_entry(holder.code(server.clock()), 800, server.clock(), seq=2,
                      entry_id="e-second-over"),
    ])

    status = cli.main(["offline-report", "--db", server.settings.database_url])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    assert lines[0].split("\t")[-3:] == ["amount_yen", "paid", "problem"]
    assert lines[1].split("\t") == [
        "2020-01-06T00:00:00+00:00", holder.wallet.wallet_id, str(holder.serial), "2",
        terminal.terminal_id, "e-second-over", "800", "no", "over_allowance"]
    assert lines[2] == "unpaid total 800 yen"
    assert lines[3].startswith(f"blocked wallet {holder.wallet.wallet_id} since 2020-01-06")


def test_release_command(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    _at_fixed_time(server)
    holder = offline_wallet(server, balance_yen=10_000, allowance_yen=2_500)

    status = cli.main(["release-offline-reserves", "--db", server.settings.database_url])
    again = cli.main(["release-offline-reserves", "--db", server.settings.database_url])

    lines = capsys.readouterr().out.splitlines()
    assert (status, again) == (0, 0)
    assert lines[1] == f"{holder.serial}\t{holder.wallet.wallet_id}\t2500"
    assert lines[2] == "total 2500 yen returned to 1 wallets"
    assert lines[3] == "no expired offline certificates hold a reserve"
    assert holder.wallet.balance_yen() == 10_000


def test_rotate_command(server: Server, capsys: pytest.CaptureFixture[str]) -> None:
    first_key = server.client.get("/v1/issuer-keys").json()["keys"][0]["key_id"]

    status = cli.main(["rotate-issuer-key", "--db", server.settings.database_url])

    lines = capsys.readouterr().out.splitlines()
    keys = [key["key_id"] for key in server.client.get("/v1/issuer-keys").json()["keys"]]
    assert status == 0
    assert lines[0] == f"issuer key {keys[0]} now signs offline certificates"
    assert lines[1].startswith(f"issuer key {first_key} retired; it verifies codes until ")
    assert set(keys) == {first_key, keys[0]}


def test_offline_command_error_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing" / "settle.db"

    status = cli.main(["offline-report", "--db", f"sqlite:///{missing}"])

    error = capsys.readouterr().err
    assert status == 1
    assert error.count("\n") == 1
    assert error.startswith(f"chiiki-settle: database sqlite:///{missing} does not exist;")
    assert not missing.parent.exists()


def test_empty_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["offline-report", "--db", cli_db(tmp_path, f"{uuid.uuid4().hex}.db")])

    assert status == 0
    assert capsys.readouterr().out == "no offline payment exceeded a reserve or reused a code\n"
