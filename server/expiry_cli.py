"""chiiki-settle expire-lots: return expired value in wallets to the accounts that funded it.

Premium points and benefits expire at the end of their usage period. Expired lots are already
unspendable because ``ledger.pay`` skips them. This command moves their value back to the
funding account (the premium sale's or the benefit programme's issuing account), so the
programme's accounts show what was actually used. Each lot moves in a transfer with the id
``expiry:<lot seq>``, so running the command twice, or two copies at once, moves each lot once.
Value a merchant holds never expires and is not touched.

A systemd timer runs it daily (packaging/systemd/chiiki-expire-lots.timer).
"""

from __future__ import annotations

import argparse
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from server import ledger
from server.db import Database
from server.settings import iso_utc, utc_now
from terminal.protocol import ValueKind

logger = logging.getLogger(__name__)

AddCommand = Callable[[str, str], argparse.ArgumentParser]

# Lots per transaction, the default of ledger.sweep_expired. A batch holds its wallets' row
# locks until it commits, so a smaller batch keeps payments from those wallets waiting less.
DEFAULT_BATCH_LOTS = 1000
MAX_BATCH_LOTS = 100_000


@dataclass
class SweepSummary:
    """Totals of the lots one run of the sweep moved."""

    swept_at: datetime
    lots: int = 0
    amount_yen: int = 0
    by_kind: dict[ValueKind, int] = field(default_factory=dict)
    by_funding_account: dict[str, int] = field(default_factory=dict)
    batches: int = 0

    def add(self, result: ledger.TransferResult) -> None:
        self.lots += 1
        self.amount_yen += result.amount_yen
        for kind, amount_yen in result.kinds.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + amount_yen
        destination = result.destination_account_id
        self.by_funding_account[destination] = (
            self.by_funding_account.get(destination, 0) + result.amount_yen
        )


def sweep(db: Database, *, now: datetime, batch_lots: int = DEFAULT_BATCH_LOTS) -> SweepSummary:
    """Sweep every lot expired by ``now``, one transaction per batch of ``batch_lots`` lots.

    The run ends with the first batch that moved nothing: no expired value is left, or another
    process is sweeping the same lots.
    """
    summary = SweepSummary(swept_at=now)
    while True:
        with db.write() as session:
            results = ledger.sweep_expired(session, now=now, limit=batch_lots)
        created = [result for result in results if result.created]
        if not created:
            return summary
        summary.batches += 1
        for result in created:
            summary.add(result)
        logger.info("expiry batch %d: %d lots moved, %d yen", summary.batches, len(created),
                    sum(result.amount_yen for result in created))


def format_summary(summary: SweepSummary) -> list[str]:
    """Return the lines the command prints."""
    as_of = iso_utc(summary.swept_at)
    if summary.lots == 0:
        return [f"no expired value in wallets as of {as_of}"]
    by_kind = defaultdict(int, summary.by_kind)
    lines = [f"returned {summary.amount_yen} yen of expired value from {summary.lots} lots"
             f" as of {as_of}"]
    lines += [f"  {kind.value} {by_kind[kind]} yen" for kind in ValueKind if by_kind[kind]]
    lines += [f"  to account {account_id}: {amount_yen} yen"
              for account_id, amount_yen in sorted(summary.by_funding_account.items())]
    return lines


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    expire = add("expire-lots",
                 "return expired premium points and benefits in wallets to their funding accounts")
    expire.add_argument(
        "--batch", dest="batch_lots", type=_batch_size, default=DEFAULT_BATCH_LOTS, metavar="N",
        help=f"lots moved per database transaction, 1 to {MAX_BATCH_LOTS} (default: %(default)s)")


def _expire_lots(args: argparse.Namespace, db: Database) -> None:
    summary = sweep(db, now=utc_now(), batch_lots=args.batch_lots)
    for line in format_summary(summary):
        print(line)


def _batch_size(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_BATCH_LOTS:
        raise argparse.ArgumentTypeError(
            f"--batch {text!r} is invalid; give a whole number of lots from 1 to {MAX_BATCH_LOTS}")
    return int(text)


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "expire-lots": _expire_lots,
}
