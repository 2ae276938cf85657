"""chiiki-settle commands of benefit programmes: create, import payout files, list, show."""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from server import benefits, new_files
from server.benefit_models import BenefitProgramme
from server.benefits import (
    ImportRejected,
    ImportResult,
    LineOutcome,
    LineStatus,
    ProgrammeTerms,
)
from server.db import Database
from server.errors import invalid
from server.settings import iso_utc, utc_now

AddCommand = Callable[[str, str], argparse.ArgumentParser]

# Columns of the --report CSV, one row per line of the imported file.
REPORT_COLUMNS = ("line", "wallet_id", "amount_yen", "reference", "status", "transfer_id",
                  "paid_at", "expires_at")
_REPORT_FILE = new_files.NewFile(
    noun="report file", command="benefit-import", option="--report",
    reason="it may be a seed file or the report of an earlier import")
# How many times a run reports progress: bar updates on a terminal, plain lines otherwise.
BAR_STEPS = 100
PLAIN_STEPS = 10
BAR_WIDTH = 30


def add_commands(add: AddCommand) -> None:
    """Register this module's subcommands through ``add(name, help)``."""
    create = add("benefit-create", "create a benefit programme and print its id")
    create.add_argument("--name", required=True, help="programme name, e.g. 出産応援給付")
    create.add_argument("--budget-yen", required=True, type=int,
                        help="maximum the programme pays in total, in yen")
    create.add_argument("--max-per-recipient-yen", required=True, type=int,
                        help="maximum one wallet receives over all rounds, in yen")
    create.add_argument("--categories", default=None,
                        help="4-digit merchant category codes where the benefit may be spent,"
                             " comma-separated, e.g. 5411,5912 (default: any shop)")
    expiry = create.add_mutually_exclusive_group()
    expiry.add_argument("--expires-on", type=date.fromisoformat, default=None,
                        help="last day the benefit may be spent, YYYY-MM-DD, Japan time")
    expiry.add_argument("--valid-days", type=int, default=None,
                        help="days after the payout day the benefit may still be spent")
    create.add_argument("--funding-account", default=None,
                        help="issuing account to pay from (default: open a new one)")

    imported = add("benefit-import", "pay a CSV file of recipients (wallet_id,amount_yen"
                   "[,reference]) from a programme; lines paid before are skipped")
    imported.add_argument("programme", help="programme id")
    imported.add_argument("file", type=Path, help="UTF-8 CSV file with a header row")
    imported.add_argument("--round", default=benefits.DEFAULT_ROUND,
                          help="payout round; a wallet is paid once per round"
                               " (default: %(default)s)")
    imported.add_argument("--dry-run", action="store_true",
                          help="only validate the file and print what would be paid")
    imported.add_argument("--report", type=Path, default=None,
                          help="also write one CSV row per line to this new file (never"
                               " overwritten)")
    imported.add_argument("--batch-size", type=int, default=benefits.DEFAULT_BATCH_SIZE,
                          help="lines per database transaction (default: %(default)s)")

    add("benefit-programmes", "print each benefit programme with its budget and paid total")
    payouts = add("benefit-payouts", "print the payouts of a benefit programme, oldest first")
    payouts.add_argument("programme", help="programme id")


def _create(args: argparse.Namespace, db: Database) -> None:
    categories = None if args.categories is None else benefits.parse_categories(args.categories)
    terms = ProgrammeTerms(
        name=args.name, budget_yen=args.budget_yen,
        max_per_recipient_yen=args.max_per_recipient_yen, categories=categories,
        expires_on=args.expires_on, valid_days=args.valid_days,
        funding_account_id=args.funding_account,
    )
    with db.write() as session:
        programme = benefits.create_programme(session, terms, now=utc_now())
    print(programme.id)


def _import(args: argparse.Namespace, db: Database) -> None:
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise invalid(f"payout file {args.file} cannot be read: {exc.strerror}") from None
    if args.report is None:
        _print_summary(_pay(args, db, data), None)
        return

    # The report is created before paying, so a path that is taken pays nothing. An import
    # that fails deletes the report again.
    try:
        with new_files.new_file(args.report, _REPORT_FILE, outcome="Nothing was paid",
                                encoding="utf-8-sig", newline="") as report:
            result = _pay(args, db, data)
            write_report(report, result)
    except OSError as exc:
        raise new_files.write_failed(
            args.report, _REPORT_FILE, exc, "Lines paid stay paid; run the same command again"
            " with a new --report path to write the report") from None
    _print_summary(result, args.report)


def _pay(args: argparse.Namespace, db: Database, data: bytes) -> ImportResult:
    progress = Progress(sys.stderr)
    try:
        return benefits.import_file(
            db, args.programme, data, source=str(args.file), clock=utc_now,
            payout_round=args.round, dry_run=args.dry_run, batch_size=args.batch_size,
            on_line=progress.line_paid, on_start=progress.start,
        )
    except ImportRejected as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise
    finally:
        progress.finish()


def _print_summary(result: ImportResult, report: Path | None) -> None:
    status: LineStatus = "to_pay" if result.dry_run else "paid"
    lines, amount_yen = result.count(status), result.total_yen(status)
    lines_before, yen_before = result.count("already_paid"), result.total_yen("already_paid")
    print(f"{'to pay' if result.dry_run else 'paid'}: {lines} lines, {amount_yen} yen")
    print(f"already paid before: {lines_before} lines, {yen_before} yen")
    print(f"total: {lines + lines_before} lines, {amount_yen + yen_before} yen")
    if result.dry_run:
        print("dry run: the file is valid and nothing was paid")
    if report is not None:
        print(f"report written to {report}")


def write_report(report: TextIO, result: ImportResult) -> None:
    """Write one CSV row per line to ``report``, opened with newline="".

    Open it as UTF-8 with a byte order mark, so Excel shows Japanese text.
    """
    writer = csv.writer(report)
    writer.writerow(REPORT_COLUMNS)
    for outcome in result.outcomes:
        writer.writerow(_report_row(outcome))


def _report_row(outcome: LineOutcome) -> list[str | int]:
    return [outcome.line_number, outcome.wallet_id, outcome.amount_yen, outcome.reference,
            outcome.status, outcome.transfer_id, _iso_or_empty(outcome.paid_at),
            _iso_or_empty(outcome.expires_at)]


class Progress:
    """Progress of the lines being paid, written to ``stream`` (stderr).

    On a terminal a bar is redrawn in place. In a log file or a cron mail, a plain line is
    written about every tenth of the run instead.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.is_tty = stream.isatty()
        self.total = 0
        self.done = 0
        self.step = 1
        self.drawn = False

    def start(self, total: int) -> None:
        self.total = total
        self.step = max(1, total // (BAR_STEPS if self.is_tty else PLAIN_STEPS))

    def line_paid(self, outcome: LineOutcome) -> None:
        self.done += 1
        if self.done % self.step == 0 or self.done == self.total:
            self._show()

    def finish(self) -> None:
        if self.drawn and self.is_tty:
            self.stream.write("\n")
            self.stream.flush()

    def _show(self) -> None:
        self.drawn = True
        if not self.is_tty:
            self.stream.write(f"paid {self.done} of {self.total} lines\n")
            return
        filled = BAR_WIDTH * self.done // max(1, self.total)
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        self.stream.write(f"\rpaying [{bar}] {self.done}/{self.total} lines")
        self.stream.flush()


def _programmes(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        programmes = benefits.list_programmes(session)
        wallets_paid = {programme_id: wallets for programme_id, (wallets, _)
                        in benefits.paid_totals(session).items()}
    if not programmes:
        print("no benefit programmes yet; create one with chiiki-settle benefit-create")
        return
    print("programme_id\tname\tbudget_yen\tpaid_yen\tleft_yen\tpayouts\twallets"
          "\tmax_per_recipient_yen\tcategories\texpiry\tfunding_account")
    for programme in programmes:
        print(f"{programme.id}\t{programme.name}\t{programme.budget_yen}\t{programme.paid_yen}"
              f"\t{programme.budget_yen - programme.paid_yen}\t{programme.payout_count}"
              f"\t{wallets_paid.get(programme.id, 0)}\t{programme.max_per_recipient_yen}"
              f"\t{programme.categories or 'any'}\t{_expiry_text(programme)}"
              f"\t{programme.funding_account_id}")


def _payouts(args: argparse.Namespace, db: Database) -> None:
    with db.read() as session:
        programme = benefits.get_programme(session, args.programme)
        payouts = benefits.list_payouts(session, args.programme)
    print(f"{programme.id}\t{programme.name}\t{programme.payout_count} payouts"
          f"\t{programme.paid_yen} of {programme.budget_yen} yen paid")
    if not payouts:
        print("no payouts yet; pay a file with chiiki-settle benefit-import")
        return
    print("paid_at\tround\twallet_id\tamount_yen\texpires_at\tline\treference\ttransfer_id")
    for payout in payouts:
        print(f"{iso_utc(payout.created_at)}\t{payout.payout_round}\t{payout.wallet_id}"
              f"\t{payout.amount_yen}\t{_iso_or_empty(payout.expires_at) or 'never'}"
              f"\t{payout.line_number}\t{payout.reference}\t{payout.transfer_id}")


def _expiry_text(programme: BenefitProgramme) -> str:
    if programme.expires_on is not None:
        return f"until {programme.expires_on}"
    if programme.valid_days is not None:
        return f"{programme.valid_days} days after payout"
    return "never"


def _iso_or_empty(moment: datetime | None) -> str:
    return "" if moment is None else iso_utc(moment)


COMMANDS: dict[str, Callable[[argparse.Namespace, Database], None]] = {
    "benefit-create": _create,
    "benefit-import": _import,
    "benefit-programmes": _programmes,
    "benefit-payouts": _payouts,
}
