"""Benefit payouts per second from a CSV file, against plain ledger.issue of the same count.

For each database (a SQLite file, and PostgreSQL when it accepts connections at
CHIIKI_BENCH_PG_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/test) it creates
``--lines`` wallets and times three things, in ``--repeat`` interleaved rounds on one
database, and shows the best round of each:

- import: ``benefits.import_file`` of a file with one line per wallet, from parsing the bytes
  to the last commit. It validates the whole file, then books per line a benefit transfer with
  categories and expiry, a payout row and the programme's running totals, ``--batch-size``
  lines per transaction;
- re-import: the same file again, where every line is found already paid;
- baseline: ``ledger.issue`` of the same kind, categories, expiry and amounts into the same
  wallets, in transactions of the same size, with no file, validation or payout rows.

Each round pays every wallet again from a new programme (and the baseline from a new issuing
account), so later rounds run against larger tables. Interleaving gives both the same growth.

Wallets are created before the clock starts.

Run from the repository root: .venv/bin/python benchmarks/bench_benefits.py [--lines N]
[--batch-size N] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import psycopg
from sqlalchemy import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server import benefits, ledger, wallets  # noqa: E402
from server.benefits import ProgrammeTerms  # noqa: E402
from server.db import Database, init_db  # noqa: E402
from terminal.protocol import ValueKind  # noqa: E402

NOW = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)
AMOUNT_YEN = 30_000
CATEGORIES = frozenset({"5411", "5912"})
VALID_DAYS = 180


def _clock() -> datetime:
    return NOW


def _wallets(db: Database, count: int) -> list[str]:
    with db.write() as session:
        return [wallets.create_wallet(session, now=NOW).wallet_id for _ in range(count)]


def _programme(db: Database, count: int) -> str:
    terms = ProgrammeTerms(name="出産応援給付", budget_yen=AMOUNT_YEN * count,
                           max_per_recipient_yen=AMOUNT_YEN, categories=CATEGORIES,
                           valid_days=VALID_DAYS)
    with db.write() as session:
        return benefits.create_programme(session, terms, now=NOW).id


def _payout_file(wallet_ids: list[str]) -> bytes:
    lines = [f"{wallet_id},{AMOUNT_YEN},申請 {index:05d}"
             for index, wallet_id in enumerate(wallet_ids)]
    return ("wallet_id,amount_yen,reference\n" + "\n".join(lines) + "\n").encode()


def bench_import(db: Database, wallet_ids: list[str], batch_size: int) -> tuple[float, float]:
    """Return (lines/s of the first import, lines/s of importing the same file again)."""
    count = len(wallet_ids)
    programme_id = _programme(db, count)
    data = _payout_file(wallet_ids)

    started = time.perf_counter()
    first = benefits.import_file(db, programme_id, data, source="bench.csv", clock=_clock,
                                 batch_size=batch_size)
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    again = benefits.import_file(db, programme_id, data, source="bench.csv", clock=_clock,
                                 batch_size=batch_size)
    again_s = time.perf_counter() - started

    assert first.count("paid") == count
    assert again.count("already_paid") == count
    return count / import_s, count / again_s


def bench_issue(db: Database, wallet_ids: list[str], batch_size: int, run: int) -> float:
    budget_id = f"city-budget-{run}"
    with db.write() as session:
        ledger.open_account(session, budget_id, "benefit", now=NOW, is_issuing=True)
    expires_at = datetime(2026, 9, 28, 15, 0, tzinfo=UTC)

    started = time.perf_counter()
    for start in range(0, len(wallet_ids), batch_size):
        with db.write() as session:
            for wallet_id in wallet_ids[start:start + batch_size]:
                ledger.issue(session, transfer_id=f"benefit:bench-{run}:1:{wallet_id}",
                             issuer_id=budget_id, destination_id=wallet_id,
                             amount_yen=AMOUNT_YEN, now=NOW, kind=ValueKind.BENEFIT,
                             expires_at=expires_at, categories=CATEGORIES)
    return len(wallet_ids) / (time.perf_counter() - started)


@contextmanager
def postgres_schema(base_url: str) -> Iterator[str]:
    """Yield a SQLAlchemy URL that uses a new, empty schema, dropped afterwards."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base_url}?options={quote(f'-csearch_path={schema}')}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@contextmanager
def sqlite_file() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{folder}/bench.db"


def run(name: str, url_factory: Callable[[], AbstractContextManager[str]], count: int,
        batch_size: int, repeat: int) -> tuple[str, float, float, float]:
    """Return the best rate of each measurement over ``repeat`` interleaved rounds."""
    imports: list[float] = []
    again: list[float] = []
    issues: list[float] = []
    with url_factory() as url:
        db = init_db(url)
        wallet_ids = _wallets(db, count)
        for round_number in range(repeat):
            # Alternate which runs first, so a change in machine load hits both alike.
            if round_number % 2:
                issues.append(bench_issue(db, wallet_ids, batch_size, round_number))
            import_rate, again_rate = bench_import(db, wallet_ids, batch_size)
            imports.append(import_rate)
            again.append(again_rate)
            if not round_number % 2:
                issues.append(bench_issue(db, wallet_ids, batch_size, round_number))
        with db.read() as session:
            ledger.verify_ledger(session)
        db.dispose()
    return name, max(imports), max(again), max(issues)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000,
                        help="lines of the payout file (default: %(default)s)")
    parser.add_argument("--batch-size", type=int, default=benefits.DEFAULT_BATCH_SIZE,
                        help="lines per transaction (default: %(default)s)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds of each measurement; the best is shown (default: %(default)s)")
    args = parser.parse_args()
    pg_url = os.environ.get("CHIIKI_BENCH_PG_URL",
                            "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    rows = [run("SQLite (WAL, file)", sqlite_file, args.lines, args.batch_size, args.repeat)]
    try:
        rows.append(run("PostgreSQL", lambda: postgres_schema(pg_url), args.lines,
                        args.batch_size, args.repeat))
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL skipped: {str(exc).splitlines()[0]}")

    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {platform.python_version()}")
    print(f"{args.lines} lines, {args.batch_size} lines per transaction, single client,"
          f" best of {args.repeat} rounds\n")
    print("| database | import (payouts/s) | re-import, all paid (lines/s)"
          " | ledger.issue baseline (/s) | import / baseline |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, import_rate, again_rate, issue_rate in rows:
        print(f"| {name} | {import_rate:,.0f} | {again_rate:,.0f} | {issue_rate:,.0f}"
              f" | {import_rate / issue_rate:.2f} |")


if __name__ == "__main__":
    main()
