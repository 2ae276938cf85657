"""Every payment a terminal approved reaches the server's ledger exactly once, under network
faults, server crashes and terminal crashes.

The terminal is ``terminal_driver.py`` in its own process, the server is ``chiiki-settle serve``
in another, and the fault proxy sits between them on loopback. ``harness.ledger_problems``
compares the server's database with the terminal's store and the APPROVED lines.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_proxy import FaultPlan, FaultProxy
from harness import (
    Payment,
    Terminal,
    World,
    approved_in,
    enrol_terminal,
    funded_wallet,
    ledger_problems,
    start_driver,
    sync_statuses,
    write_inputs,
)
from schedules import Outcome, run_many
from sqlalchemy import create_engine, text

RANDOM_SCHEDULES = 200
# Servers running schedules side by side; most of a schedule's time is spent waiting.
LANES = 3
DRIVER_LIMIT_S = 30.0


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with tempfile.TemporaryDirectory(prefix="chiiki-faults-") as root:
        running = World.create(Path(root))
        yield running
        running.close()


def _upstream(world: World) -> tuple[str, int]:
    return ("127.0.0.1", world.server.port)


def _payment_rows(world: World, terminal: Terminal) -> list[tuple[str, int]]:
    engine = create_engine(world.server.db_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT method, amount_yen FROM payments WHERE terminal_id = :t ORDER BY seq"),
            {"t": terminal.terminal_id},
        ).all()
    engine.dispose()
    return [(row[0], row[1]) for row in rows]


def test_random_schedules_book_once(tmp_path: Path) -> None:
    outcomes: list[Outcome] = []
    run_many(list(range(RANDOM_SCHEDULES)), LANES, tmp_path, outcomes.append)

    failures = [outcome.failure_message() for outcome in outcomes if outcome.problems]
    assert len(outcomes) == RANDOM_SCHEDULES
    assert not failures, "\n".join(failures)
    assert sum(len(outcome.approved) for outcome in outcomes) >= RANDOM_SCHEDULES
    assert sum(outcome.driver_runs for outcome in outcomes) > RANDOM_SCHEDULES
    assert sum(outcome.server_kills for outcome in outcomes) > 0


def test_offline_a_b_then_online_c_in_order(world: World) -> None:
    terminal = enrol_terminal(world, "ORDER")
    wallet = funded_wallet(world)
    payments = [Payment(1_100, False), Payment(2_200, False), Payment(3_300, True)]
    inputs = write_inputs(terminal.data_dir, world, wallet, payments)
    first_two = terminal.data_dir / "items-a-b.json"
    first_two.write_text(json.dumps(json.loads(inputs[0].read_text())[:2]))

    with FaultProxy(_upstream(world), FaultPlan(seed=7, drop=1.0)) as proxy:
        offline_run = start_driver(
            terminal, proxy.url, (first_two, inputs[1]), 7, ["--max-run-s", "2"]
        )
        assert offline_run.wait(DRIVER_LIMIT_S) == 3
        assert sync_statuses(world, terminal) == []

        proxy.set_plan(FaultPlan(seed=8))
        online_run = start_driver(terminal, proxy.url, inputs, 7)
        assert online_run.wait(DRIVER_LIMIT_S) == 0

    approved = approved_in(offline_run.seen + online_run.seen)
    statuses = sync_statuses(world, terminal)
    assert [line.split()[0] for line in online_run.seen] == [
        "SKIPPED", "SKIPPED", "APPROVED", "DRAINED"
    ]
    assert [entry_id for entry_id, _, _ in statuses] == list(approved)
    assert [kind for _, kind, _ in statuses] == [
        "offline_payment", "offline_payment", "online_payment"
    ]
    assert _payment_rows(world, terminal) == [("offline", 1_100), ("offline", 2_200), ("cpm", 3_300)]
    assert ledger_problems(world, terminal, approved) == []


def test_lost_sync_response_retried_once(world: World) -> None:
    terminal = enrol_terminal(world, "CUT")
    inputs = write_inputs(terminal.data_dir, world, funded_wallet(world), [Payment(700, False)])
    cuts: list[bytes] = []

    def cut_first_sync_response(stage: str, request: bytes) -> bool:
        if stage == "response" and request.startswith(b"POST /v1/sync ") and not cuts:
            cuts.append(request)
            return True
        return False

    with FaultProxy(_upstream(world), FaultPlan(seed=9), hook=cut_first_sync_response) as proxy:
        run = start_driver(terminal, proxy.url, inputs, 9)
        assert run.wait(DRIVER_LIMIT_S) == 0

    approved = approved_in(run.seen)
    assert len(cuts) == 1
    assert len(approved) == 1
    assert sync_statuses(world, terminal) == [(next(iter(approved)), "offline_payment", "applied")]
    assert _payment_rows(world, terminal) == [("offline", 700)]
    assert ledger_problems(world, terminal, approved) == []


def test_kill_after_commit_books_once(world: World) -> None:
    terminal = enrol_terminal(world, "KILL")
    inputs = write_inputs(terminal.data_dir, world, funded_wallet(world), [Payment(1_500, False)])

    with FaultProxy(_upstream(world), FaultPlan(seed=10)) as proxy:
        killed = start_driver(terminal, proxy.url, inputs, 10, ["--kill-after-commit", "1"])
        assert killed.wait(DRIVER_LIMIT_S) == -9
        restarted = start_driver(terminal, proxy.url, inputs, 10)
        assert restarted.wait(DRIVER_LIMIT_S) == 0

    statuses = sync_statuses(world, terminal)
    assert killed.seen == []
    assert restarted.seen == ["SKIPPED 0", "DRAINED"]
    assert len(statuses) == 1
    assert statuses[0][1:] == ("offline_payment", "applied")
    assert _payment_rows(world, terminal) == [("offline", 1_500)]
    assert ledger_problems(world, terminal, {}) == []


def test_kill_after_sync_response_books_once(world: World) -> None:
    terminal = enrol_terminal(world, "SYNCKILL")
    payments = [Payment(400, False), Payment(600, False)]
    inputs = write_inputs(terminal.data_dir, world, funded_wallet(world), payments)

    with FaultProxy(_upstream(world), FaultPlan(seed=11)) as proxy:
        killed = start_driver(terminal, proxy.url, inputs, 11, ["--kill-during-sync", "1"])
        assert killed.wait(DRIVER_LIMIT_S) == -9
        restarted = start_driver(terminal, proxy.url, inputs, 11)
        assert restarted.wait(DRIVER_LIMIT_S) == 0

    approved = approved_in(killed.seen + restarted.seen)
    assert len(sync_statuses(world, terminal)) == 2
    assert sorted(_payment_rows(world, terminal)) == [("offline", 400), ("offline", 600)]
    assert ledger_problems(world, terminal, approved) == []


def test_kill_after_online_redeem_books_once(world: World) -> None:
    terminal = enrol_terminal(world, "REDEEM")
    inputs = write_inputs(terminal.data_dir, world, funded_wallet(world), [Payment(800, True)])

    with FaultProxy(_upstream(world), FaultPlan(seed=12)) as proxy:
        killed = start_driver(terminal, proxy.url, inputs, 12, ["--kill-after-redeem", "1"])
        assert killed.wait(DRIVER_LIMIT_S) == -9
        restarted = start_driver(terminal, proxy.url, inputs, 12)
        assert restarted.wait(DRIVER_LIMIT_S) == 0

    approved = approved_in(restarted.seen)
    assert killed.seen == []
    assert [line.split()[0] for line in restarted.seen] == ["RECOVERED", "DRAINED"]
    assert list(approved.values()) == [800]
    assert sync_statuses(world, terminal) == [(next(iter(approved)), "online_payment", "applied")]
    assert _payment_rows(world, terminal) == [("cpm", 800)]
    assert ledger_problems(world, terminal, approved) == []
