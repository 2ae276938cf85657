"""Payments per second of the settlement ledger against a raw-SQL baseline.

For each database (a SQLite file, and PostgreSQL when it accepts connections at CHIIKI_BENCH_PG_URL,
default postgresql+psycopg://postgres@127.0.0.1:5432/test) it times ``ledger.pay`` on one
transaction per payment, then the same writes issued as plain SQL through the driver: lock
the wallet account, read its lots, insert the transfer, update the spent lot, insert the
merchant's lot and two postings, commit. Both run in the same process on fresh schemas.

A second table times the payment operations built on the ledger, one transaction each, as the
HTTP handlers run them but without HTTP and authentication: paying MPM intents, redeeming CPM
codes, and refunding the MPM payments in full. Intents and codes are created before the clock
starts.

Run from the repository root: PYTHONPATH=. python benchmarks/bench_server.py [--payments N]
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from sqlalchemy import make_url

from server import ledger, payments, wallets
from server.db import Database, init_db
from server.demo import DEMO_MERCHANT
from server.merchants import create_merchant, issue_activation
from server.models import ISSUANCE_ACCOUNT_ID, Terminal, Wallet
from server.settings import Settings
from terminal import protocol

NOW = datetime(2026, 4, 1, tzinfo=UTC)
WALLETS = 50
PAYMENT_YEN = 100


def _fund(db: Database, payments: int) -> None:
    per_wallet_yen = PAYMENT_YEN * (payments // WALLETS + 1)
    with db.write() as session:
        ledger.open_account(session, "shop", "merchant", now=NOW)
        for index in range(WALLETS):
            ledger.open_account(session, f"w{index}", "wallet", now=NOW)
            ledger.issue(session, transfer_id=f"fund-{index}", issuer_id=ISSUANCE_ACCOUNT_ID,
                         destination_id=f"w{index}", amount_yen=per_wallet_yen, now=NOW)


def bench_ledger(db: Database, payments: int) -> float:
    _fund(db, payments)
    started = time.perf_counter()
    for index in range(payments):
        with db.write() as session:
            ledger.pay(session, transfer_id=f"pay-{index}", source_id=f"w{index % WALLETS}",
                       destination_id="shop", amount_yen=PAYMENT_YEN, now=NOW)
    elapsed_s = time.perf_counter() - started
    with db.read() as session:
        ledger.verify_ledger(session)
    return payments / elapsed_s


def _payment_fixture(db: Database, payments_count: int) -> tuple[Terminal, list[Wallet]]:
    """Create a merchant with one terminal, and wallets funded for ``payments_count`` payments."""
    per_wallet_yen = 2 * PAYMENT_YEN * (payments_count // WALLETS + 1)
    with db.write() as session:
        merchant = create_merchant(session, DEMO_MERCHANT, now=NOW)
        activation = issue_activation(session, merchant.id, "REGI-1", now=NOW, ttl_s=3600)
        terminal = session.get(Terminal, activation.terminal_id)
        assert terminal is not None
        wallet_rows: list[Wallet] = []
        for _ in range(WALLETS):
            created = wallets.create_wallet(session, now=NOW)
            wallet = wallets.get_wallet(session, created.wallet_id)
            wallets.top_up(session, wallet, per_wallet_yen, "seed-funds", now=NOW)
            wallet_rows.append(wallet)
    return terminal, wallet_rows


def _timed(db: Database, count: int, action: Callable[[Any, int], object]) -> float:
    """Run ``action(session, index)`` in ``count`` writing transactions; return per second."""
    started = time.perf_counter()
    for index in range(count):
        with db.write() as session:
            action(session, index)
    return count / (time.perf_counter() - started)


def bench_payment_paths(db: Database, count: int) -> tuple[float, float, float]:
    """Return MPM pays, CPM redeems and refunds per second."""
    settings = Settings(clock=lambda: NOW)
    terminal, wallet_rows = _payment_fixture(db, count)
    amount = PAYMENT_YEN
    with db.write() as session:
        intent_ids = [
            payments.create_intent(session, terminal, protocol.IntentCreate(
                amount_yen=amount, idempotency_key=f"sale-{index:06d}"), settings).intent.id
            for index in range(count)
        ]
        codes = [
            wallets.create_payment_code(session, wallet_rows[index % WALLETS], now=NOW,
                                        ttl_s=3600).code
            for index in range(count)
        ]

    paid: list[str] = []

    def pay_intent(session: Any, index: int) -> None:
        request = protocol.IntentPay(amount_yen=amount, idempotency_key=f"pay-{index:06d}")
        payment = payments.pay_intent(session, wallet_rows[index % WALLETS], intent_ids[index],
                                      request, settings)
        paid.append(payment.id)

    def redeem(session: Any, index: int) -> None:
        request = protocol.CpmRedeem(code=codes[index], amount_yen=amount,
                                     idempotency_key=f"cpm-{index:06d}")
        payments.redeem_code(session, terminal, request, settings)

    def refund(session: Any, index: int) -> None:
        request = protocol.RefundCreate(amount_yen=amount, idempotency_key=f"refund-{index:06d}")
        payments.refund_payment(session, terminal, paid[index], request, settings)

    rates = (_timed(db, count, pay_intent), _timed(db, count, redeem), _timed(db, count, refund))
    with db.read() as session:
        ledger.verify_ledger(session)
    return rates


def _raw_payment(execute: Callable[[str, tuple[Any, ...]], Any], fetch: Callable[[], Any],
                 index: int, lock_sql: str, param: str) -> None:
    """Issue one payment's statements; ``param`` is the driver's placeholder."""
    p = param
    wallet = f"w{index % WALLETS}"
    transfer_id = f"pay-{index}"
    naive_now = NOW.replace(tzinfo=None)
    execute(f"SELECT id FROM accounts WHERE id = {p}{lock_sql}", (wallet,))
    fetch()
    execute(f"SELECT id FROM transfers WHERE id = {p}", (transfer_id,))
    fetch()
    execute(f"SELECT seq, remaining_yen FROM lots WHERE account_id = {p} AND remaining_yen > 0",
            (wallet,))
    lot_seq, remaining = fetch()[0]
    execute(
        "INSERT INTO transfers (id, purpose, source_account_id, destination_account_id,"
        f" amount_yen, parameters, created_at) VALUES ({p}, 'payment', {p}, 'shop', {p}, '', {p})",
        (transfer_id, wallet, PAYMENT_YEN, naive_now),
    )
    execute(f"UPDATE lots SET remaining_yen = {p} WHERE seq = {p}", (remaining - PAYMENT_YEN, lot_seq))
    execute(
        "INSERT INTO lots (account_id, transfer_id, value_kind, expires_at, initial_yen,"
        f" remaining_yen) VALUES ('shop', {p}, 'coin', NULL, {p}, {p})",
        (transfer_id, PAYMENT_YEN, PAYMENT_YEN),
    )
    for account, amount in ((wallet, -PAYMENT_YEN), ("shop", PAYMENT_YEN)):
        execute(
            "INSERT INTO postings (transfer_id, account_id, value_kind, amount_yen)"
            f" VALUES ({p}, {p}, 'coin', {p})",
            (transfer_id, account, amount),
        )


def bench_raw_sqlite(path: Path, payments: int) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA foreign_keys = ON")
    cursor = connection.cursor()
    started = time.perf_counter()
    for index in range(payments):
        cursor.execute("BEGIN IMMEDIATE")
        _raw_payment(cursor.execute, cursor.fetchall, index, "", "?")
        cursor.execute("COMMIT")
    elapsed_s = time.perf_counter() - started
    connection.close()
    return payments / elapsed_s


def bench_raw_postgres(dsn: str, payments: int) -> float:
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        started = time.perf_counter()
        for index in range(payments):
            _raw_payment(cursor.execute, cursor.fetchall, index, " FOR UPDATE", "%s")
            connection.commit()
        elapsed_s = time.perf_counter() - started
    return payments / elapsed_s


@contextmanager
def postgres_schema(base_url: str) -> Iterator[tuple[str, str]]:
    """Yield a SQLAlchemy URL and a libpq DSN that both use a new, empty schema."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    dsn = make_url(base_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    options = quote(f"-csearch_path={schema}")
    try:
        yield f"{base_url}?options={options}", f"{dsn}?options={options}"
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def run_sqlite(payments: int) -> tuple[float, float, tuple[float, float, float]]:
    with tempfile.TemporaryDirectory() as folder:
        ledger_db = init_db(f"sqlite:///{folder}/ledger.db")
        ledger_rate = bench_ledger(ledger_db, payments)
        ledger_db.dispose()
        raw_db = init_db(f"sqlite:///{folder}/raw.db")
        _fund(raw_db, payments)
        raw_db.dispose()
        raw_rate = bench_raw_sqlite(Path(folder) / "raw.db", payments)
        paths_db = init_db(f"sqlite:///{folder}/paths.db")
        path_rates = bench_payment_paths(paths_db, payments)
        paths_db.dispose()
    return ledger_rate, raw_rate, path_rates


def run_postgres(base_url: str, payments: int) -> tuple[float, float, tuple[float, float, float]]:
    with postgres_schema(base_url) as (url, _):
        db = init_db(url)
        ledger_rate = bench_ledger(db, payments)
        db.dispose()
    with postgres_schema(base_url) as (url, dsn):
        db = init_db(url)
        _fund(db, payments)
        db.dispose()
        raw_rate = bench_raw_postgres(dsn, payments)
    with postgres_schema(base_url) as (url, _):
        db = init_db(url)
        path_rates = bench_payment_paths(db, payments)
        db.dispose()
    return ledger_rate, raw_rate, path_rates


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
    parser.add_argument("--payments", type=int, default=2000, help="payments per run (default: 2000)")
    args = parser.parse_args()
    pg_url = os.environ.get("CHIIKI_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

    rows = [("SQLite (WAL, file)", *run_sqlite(args.payments))]
    try:
        rows.append(("PostgreSQL", *run_postgres(pg_url, args.payments)))
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL skipped: {str(exc).splitlines()[0]}")

    print(f"machine: {os.cpu_count()} CPUs, {_cpu_model()}, Python {platform.python_version()}")
    print(f"{args.payments} payments, one transaction each, single client\n")
    print("| database | ledger.pay (payments/s) | raw SQL (payments/s) | ledger / raw |")
    print("| --- | ---: | ---: | ---: |")
    for name, ledger_rate, raw_rate, _ in rows:
        print(f"| {name} | {ledger_rate:,.0f} | {raw_rate:,.0f} | {ledger_rate / raw_rate:.2f} |")
    print("\n| database | MPM pay_intent (/s) | CPM redeem_code (/s) | refund_payment (/s) |")
    print("| --- | ---: | ---: | ---: |")
    for name, _, _, (mpm_rate, cpm_rate, refund_rate) in rows:
        print(f"| {name} | {mpm_rate:,.0f} | {cpm_rate:,.0f} | {refund_rate:,.0f} |")


if __name__ == "__main__":
    main()
