"""Seeded fault schedules against the terminal driver, the fault proxy and the server process.

A schedule is drawn from one seed: a few payments (some tried online), the fault weights of the
proxy, an optional network outage, an optional SIGKILL of the driver (right after a local commit,
right after a sync response arrived, or at a random moment after some approvals), and an
optional SIGKILL of the server while a sync batch is on its way. The runner plays it, restarts
whatever was killed, then removes every fault and lets the driver drain. The checks in
``harness.ledger_problems`` must then find nothing.

The seed fixes the schedule, not the thread interleaving, so a replay runs the same faults at
nearly the same moments. Replay one seed with::

    .venv/bin/python tests/faults/schedules.py --seed N
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fault_proxy import FaultPlan, FaultProxy
from harness import (
    DriverRun,
    Payment,
    Terminal,
    World,
    approved_in,
    enrol_terminal,
    funded_wallet,
    ledger_problems,
    start_driver,
    write_inputs,
)

logger = logging.getLogger(__name__)

# How long the faulty part of a schedule may run, and the final drain after it.
SCHEDULE_LIMIT_S = 40.0
DRAIN_LIMIT_S = 30.0
POLL_S = 0.02
SYNC_REQUEST_LINE = b"POST /v1/sync "
NO_FAULTS = FaultPlan(seed=0)


@dataclass(frozen=True)
class DriverKill:
    """``after_commit`` and ``during_sync`` kill at the driver's own N-th event; ``timed``
    kills ``delay_s`` after the driver printed ``count`` APPROVED lines."""

    moment: str
    count: int
    delay_s: float = 0.0


@dataclass(frozen=True)
class ServerKill:
    """SIGKILL the server at the ``count``-th sync request: at ``request`` before it is
    forwarded, at ``response`` after the server responded (the response is lost), or
    ``in_flight`` ``delay_s`` after forwarding it."""

    stage: str
    count: int
    delay_s: float = 0.0


@dataclass(frozen=True)
class Schedule:
    seed: int
    payments: tuple[Payment, ...]
    plan: FaultPlan
    # Network down for ``outage[1]`` seconds once ``outage[0]`` payments were approved.
    outage: tuple[int, float] | None = None
    driver_kill: DriverKill | None = None
    server_kill: ServerKill | None = None

    def describe(self) -> str:
        weights = {name: round(weight, 3) for name, weight in self.plan.weights.items() if weight}
        return (
            f"seed={self.seed} payments={[(p.amount_yen, 'online' if p.online else 'offline') for p in self.payments]}"
            f" faults={weights} delay_s={self.plan.delay_s:.3f} outage={self.outage}"
            f" driver_kill={self.driver_kill} server_kill={self.server_kill}"
        )


def make_schedule(seed: int) -> Schedule:
    """Draw a small schedule from ``seed``; the same seed always gives the same schedule."""
    draw = random.Random(seed)
    count = draw.randint(2, 4)
    payments = tuple(
        Payment(amount_yen=draw.randint(1, 30) * 100, online=draw.random() < 0.3)
        for _ in range(count)
    )
    plan = FaultPlan(
        seed=seed,
        drop=draw.choice([0.0, 0.05, 0.15]),
        delay=draw.choice([0.0, 0.1, 0.2]),
        cut_request=draw.choice([0.0, 0.05, 0.1]),
        cut_response=draw.choice([0.0, 0.1, 0.2]),
        duplicate=draw.choice([0.0, 0.1, 0.2]),
        delay_s=draw.uniform(0.01, 0.08),
    )
    outage = (draw.randint(0, count - 1), draw.uniform(0.2, 1.0)) if draw.random() < 0.3 else None
    return Schedule(seed, payments, plan, outage, _driver_kill(draw, count), _server_kill(draw))


def _driver_kill(draw: random.Random, payments: int) -> DriverKill | None:
    moment = draw.choice(["none", "none", "after_commit", "during_sync", "timed"])
    if moment == "after_commit":
        return DriverKill(moment, draw.randint(1, payments))
    if moment == "during_sync":
        return DriverKill(moment, draw.randint(1, 3))
    if moment == "timed":
        return DriverKill(moment, draw.randint(0, payments - 1), draw.uniform(0.0, 0.3))
    return None


def _server_kill(draw: random.Random) -> ServerKill | None:
    if draw.random() >= 0.2:
        return None
    return ServerKill(
        draw.choice(["request", "response", "in_flight"]), draw.randint(1, 3), draw.uniform(0.0, 0.03)
    )


@dataclass
class Outcome:
    schedule: Schedule
    approved: dict[str, int]
    driver_runs: int
    server_kills: int
    fault_counts: dict[str, int]
    elapsed_s: float
    problems: list[str] = field(default_factory=list)

    def failure_message(self) -> str:
        return (
            f"schedule failed: {self.schedule.describe()}\n  replay: .venv/bin/python"
            f" tests/faults/schedules.py --seed {self.schedule.seed}\n  "
            + "\n  ".join(self.problems)
        )


class ServerKiller:
    """The proxy hook that kills the server at one sync request, and restarts it on request."""

    def __init__(self, world: World, kill: ServerKill | None) -> None:
        self._world = world
        self._kill = kill
        self._syncs = 0
        self._lock = threading.Lock()
        self.killed = threading.Event()
        self.kills = 0

    def hook(self, stage: str, request: bytes) -> bool:
        kill = self._kill
        if kill is None or not request.startswith(SYNC_REQUEST_LINE):
            return False
        with self._lock:
            if stage == "request":
                self._syncs += 1
            if self._syncs != kill.count or self.killed.is_set():
                return False
            if kill.stage == "in_flight" and stage == "request":
                threading.Timer(kill.delay_s, self._kill_server).start()
                return False
            if kill.stage == stage:
                self._kill_server()
                return True
        return False

    def _kill_server(self) -> None:
        self._world.server.kill(signal.SIGKILL)
        self.kills += 1
        self.killed.set()

    def restart_if_killed(self) -> None:
        if self.killed.is_set() and not self._world.server.running:
            self._world.server.start()


class ScheduleRun:
    """Plays one schedule on one world."""

    def __init__(self, world: World, schedule: Schedule) -> None:
        self.world = world
        self.schedule = schedule
        self.terminal: Terminal = enrol_terminal(world, f"S{schedule.seed % 10**8}")
        wallet = funded_wallet(world)
        self.inputs = write_inputs(self.terminal.data_dir, world, wallet, schedule.payments)
        self.killer = ServerKiller(world, schedule.server_kill)
        upstream = ("127.0.0.1", world.server.port)
        self.proxy = FaultProxy(upstream, schedule.plan, hook=self.killer.hook)
        self.runs: list[DriverRun] = []

    def play(self) -> Outcome:
        started = time.monotonic()
        self.proxy.start()
        try:
            self._faulty_phase(started + SCHEDULE_LIMIT_S)
            self._drain_phase()
        finally:
            self.proxy.stop()
            for run in self.runs:
                run.kill()
        lines = [line for run in self.runs for line in run.seen]
        approved = approved_in(lines)
        outcome = Outcome(
            self.schedule, approved, len(self.runs), self.killer.kills, dict(self.proxy.counts),
            time.monotonic() - started,
        )
        outcome.problems = ledger_problems(self.world, self.terminal, approved)
        if not self.runs[-1].seen or self.runs[-1].seen[-1] != "DRAINED":
            outcome.problems.append(f"the last driver run did not drain: {self.runs[-1].seen}")
        return outcome

    def _start(self, kill: DriverKill | None) -> DriverRun:
        extra: list[str] = []
        if kill is not None and kill.moment == "after_commit":
            extra = ["--kill-after-commit", str(kill.count)]
        elif kill is not None and kill.moment == "during_sync":
            extra = ["--kill-during-sync", str(kill.count)]
        run = start_driver(self.terminal, self.proxy.url, self.inputs, self.schedule.seed, extra)
        self.runs.append(run)
        return run

    def _faulty_phase(self, deadline: float) -> None:
        schedule = self.schedule
        run = self._start(schedule.driver_kill)
        timed = schedule.driver_kill if schedule.driver_kill and schedule.driver_kill.moment == "timed" else None
        kill_at: float | None = None
        outage_end: float | None = None
        outage_pending = schedule.outage is not None
        while time.monotonic() < deadline:
            run.read_lines(POLL_S)
            approvals = len(approved_in([line for r in self.runs for line in r.seen]))
            now = time.monotonic()

            if outage_pending and schedule.outage is not None and approvals >= schedule.outage[0]:
                self.proxy.set_plan(FaultPlan(seed=schedule.seed, drop=1.0))
                outage_end, outage_pending = now + schedule.outage[1], False
            if outage_end is not None and now >= outage_end:
                self.proxy.set_plan(schedule.plan)
                outage_end = None

            if timed is not None and kill_at is None and approvals >= timed.count:
                kill_at = now + timed.delay_s
            if timed is not None and kill_at is not None and now >= kill_at:
                run.kill()
                timed = None

            self.killer.restart_if_killed()
            if run.process.poll() is not None:
                if run.process.returncode != -signal.SIGKILL:
                    break
                run.read_lines(0.05)
                run = self._start(None)

    def _drain_phase(self) -> None:
        self.proxy.set_plan(NO_FAULTS)
        if self.killer.killed.is_set():
            self.killer.restart_if_killed()
        elif not self.world.server.running:
            self.world.server.start()
        run = self.runs[-1]
        code = run.wait(DRAIN_LIMIT_S)
        if code != 0:
            self._start(None).wait(DRAIN_LIMIT_S)


def run_schedule(world: World, seed: int) -> Outcome:
    return ScheduleRun(world, make_schedule(seed)).play()


def run_lane(root: Path, seeds: Iterable[int], report: Callable[[Outcome], None]) -> None:
    """Run ``seeds`` one after another on one server process under ``root``."""
    world = World.create(root)
    try:
        for seed in seeds:
            report(run_schedule(world, seed))
    finally:
        world.close()


def run_many(
    seeds: Sequence[int], lanes: int, root: Path, report: Callable[[Outcome], None]
) -> None:
    """Run ``seeds`` on ``lanes`` servers at once; each lane takes every lanes-th seed."""
    lock = threading.Lock()
    errors: list[BaseException] = []

    def locked_report(outcome: Outcome) -> None:
        with lock:
            report(outcome)

    def lane(index: int) -> None:
        try:
            run_lane(root / f"lane-{index}", seeds[index::lanes], locked_report)
        except BaseException as exc:  # noqa: BLE001 - re-raised on the calling thread
            errors.append(exc)

    threads = [threading.Thread(target=lane, args=(index,)) for index in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Replay one fault schedule by its seed.")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    root = Path(tempfile.mkdtemp(prefix="chiiki-fault-"))
    outcome_lines: list[str] = []

    def report(outcome: Outcome) -> None:
        outcome_lines.append(outcome.failure_message() if outcome.problems else
                             f"ok: {outcome.schedule.describe()} approved={len(outcome.approved)}"
                             f" driver_runs={outcome.driver_runs} server_kills={outcome.server_kills}")

    run_lane(root, [args.seed], report)
    print("\n".join(outcome_lines))
    print(f"working directory: {root}")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    return 0 if outcome_lines and outcome_lines[0].startswith("ok") else 1


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    sys.exit(main())
