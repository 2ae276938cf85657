"""Soak run of the store-and-forward fault schedules: thousands of seeded schedules.

Each schedule (``tests/faults/schedules.py``) takes a few payments through the terminal driver
process while the fault proxy drops, delays, duplicates and cuts requests and responses, the
driver is killed with SIGKILL and restarted, and the server process is killed during a sync and
restarted. After every schedule the ledger is checked: each approved payment is booked once,
nothing else is booked, conservation holds and no balance is negative. A failing schedule
prints its seed and a replay command.

Run from the repository root:
    .venv/bin/python benchmarks/soak_offline.py --schedules 2000 [--seed 1000] [--lanes 3]
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

from schedules import Outcome, run_many  # noqa: E402

PROGRESS_EVERY = 50


class Summary:
    """Totals over the outcomes reported so far, printed every ``PROGRESS_EVERY`` schedules."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.started = time.monotonic()
        self.done = 0
        self.failed: list[Outcome] = []
        self.approved = 0
        self.driver_runs = 0
        self.server_kills = 0
        self.faults: Counter[str] = Counter()
        self.longest_s = 0.0

    def add(self, outcome: Outcome) -> None:
        self.done += 1
        self.approved += len(outcome.approved)
        self.driver_runs += outcome.driver_runs
        self.server_kills += outcome.server_kills
        self.faults.update(outcome.fault_counts)
        self.longest_s = max(self.longest_s, outcome.elapsed_s)
        if outcome.problems:
            self.failed.append(outcome)
            print(outcome.failure_message(), flush=True)
        if self.done % PROGRESS_EVERY == 0 or self.done == self.total:
            elapsed_s = time.monotonic() - self.started
            print(f"{self.done}/{self.total} schedules, {len(self.failed)} failed,"
                  f" {elapsed_s:.0f} s", flush=True)

    def report(self) -> str:
        elapsed_s = time.monotonic() - self.started
        faults = ", ".join(f"{name} {count}" for name, count in sorted(self.faults.items()))
        return "\n".join([
            f"schedules: {self.done}, failed: {len(self.failed)}",
            f"wall time: {elapsed_s:.0f} s ({elapsed_s / max(self.done, 1):.2f} s per schedule),"
            f" longest schedule {self.longest_s:.1f} s",
            f"approved payments checked: {self.approved}",
            f"driver processes started: {self.driver_runs}"
            f" ({self.driver_runs - self.done} restarts after SIGKILL)",
            f"server processes killed during a sync: {self.server_kills}",
            f"requests through the proxy by fault: {faults}",
            "failed seeds: " + (", ".join(str(o.schedule.seed) for o in self.failed) or "none"),
        ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--schedules", type=int, default=1000, help="number of schedules")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first schedule")
    parser.add_argument("--lanes", type=int, default=3, help="server processes run side by side")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"machine: {platform.platform()}, Python {platform.python_version()}", flush=True)

    seeds = list(range(args.seed, args.seed + args.schedules))
    summary = Summary(len(seeds))
    with tempfile.TemporaryDirectory(prefix="chiiki-soak-") as root:
        run_many(seeds, args.lanes, Path(root), summary.add)
    print(summary.report())
    return 1 if summary.failed else 0


if __name__ == "__main__":
    sys.exit(main())
