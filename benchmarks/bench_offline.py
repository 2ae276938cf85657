"""Offline payments: scan to 承認 without the server, and how fast a backlog drains.

Scan to 承認 offline: each round rings up a sale and scans a fresh offline code (made before the
timer starts). The timer covers ``Sale.submit_code``: parsing and verifying the code's two
Ed25519 signatures against the cached issuer key, the replay and cap checks, and one durable
commit of the capture, its outbox entry and its replay record (SQLite WAL,
``synchronous=FULL``). Every 40 captures the outbox entries are marked acknowledged outside the
timer, so the default cap of 50 waiting payments never rejects one. The baseline in the same run
is one bare ``INSERT`` and commit through the sqlite3 module on a file in the same directory,
with WAL and ``synchronous=FULL``.

Backlog drain: a terminal store holding ``--backlog`` queued offline payments (1 yen each, from
one wallet) is drained by ``SyncEngine.drain`` to ``chiiki-settle serve`` running as its own
process on 127.0.0.1, in batches of ``MAX_SYNC_BATCH``. The reference in the same run is the
server's batch ingest alone: ``server.sync.sync_batch`` called directly on a fresh SQLite file
with the same number of entries, without HTTP, request signing or the terminal.

Run from the repository root: .venv/bin/python benchmarks/bench_offline.py [--rounds N] [--backlog N]
"""

from __future__ import annotations

import argparse
import logging
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "faults"))

from harness import World, enrol_terminal, funded_wallet  # noqa: E402

from server import offline, wallets  # noqa: E402
from server.db import Database, init_db  # noqa: E402
from server.demo import seed_demo  # noqa: E402
from server.models import Terminal  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.sync import sync_batch  # noqa: E402
from server.wallet_cli import OfflineWallet  # noqa: E402
from terminal import offline_code, protocol  # noqa: E402
from terminal.api_client import ApiClient  # noqa: E402
from terminal.clock import ServerClock  # noqa: E402
from terminal.config import OfflineConfig  # noqa: E402
from terminal.keys import Signer, key_path, load_private_key  # noqa: E402
from terminal.offline import OfflineAcceptor  # noqa: E402
from terminal.protocol import MAX_SYNC_BATCH, SyncResult, TaxLine  # noqa: E402
from terminal.sale import Key, Sale, SaleState  # noqa: E402
from terminal.store import NewCapture, SeenOfflineCode, Store, open_store  # noqa: E402
from terminal.sync import SyncEngine  # noqa: E402

ACK_EVERY = 40
UNUSED_SERVER_URL = "http://127.0.0.1:9"  # offline sales never call the API client


def _raw_public_key(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )


def _local_issuer(store: Store, rounds: int) -> OfflineWallet:
    """Cache a made-up issuer key in ``store`` and return a wallet certified by it."""
    issuer_key = Ed25519PrivateKey.generate()
    key_id = offline_code.issuer_key_id(_raw_public_key(issuer_key))
    now = datetime.now(UTC).replace(microsecond=0)
    store.replace_issuer_keys([protocol.IssuerKey(
        key_id=key_id, public_key=protocol.b64encode(_raw_public_key(issuer_key)),
        valid_from=now.isoformat(), valid_until=(now + timedelta(days=7)).isoformat(),
    )])
    wallet = OfflineWallet.generate()
    body = offline_code.CertificateBody(
        serial=1, issuer_key_id=key_id, wallet_id="w_bench",
        wallet_public_key=_raw_public_key(wallet.private_key), allowance_yen=100 * rounds,
        valid_until=now + timedelta(days=7),
    )
    wallet.certificate = offline_code.sign_certificate(body, issuer_key)
    return wallet


def _ack_all(store: Store) -> None:
    pending = store.pending_entries(MAX_SYNC_BATCH)
    store.apply_results([
        SyncResult(entry_id=item.entry.entry_id, status="applied") for item in pending
    ])


def scan_to_approval_ms(directory: Path, rounds: int) -> list[float]:
    store = open_store(directory / "terminal")
    wallet = _local_issuer(store, rounds)
    clock = ServerClock()
    acceptor = OfflineAcceptor(store, OfflineConfig(), clock, lambda: uuid.uuid4().hex)
    api = ApiClient(UNUSED_SERVER_URL, None, Signer(Ed25519PrivateKey.generate()))
    timings_ms: list[float] = []
    for round_index in range(rounds):
        sale = Sale(100_000, offline=acceptor, is_offline=lambda: True, now=clock.now)
        sale.press("1")
        sale.press("00")
        sale.press(Key.RATE_10)
        sale.start_cpm()
        code = wallet.next_code()

        started = time.perf_counter()
        sale.submit_code(api, code)
        timings_ms.append((time.perf_counter() - started) * 1000)

        assert sale.state is SaleState.APPROVED, sale.notice
        if (round_index + 1) % ACK_EVERY == 0:
            _ack_all(store)
    store.close()
    api.close()
    return timings_ms


def bare_insert_ms(directory: Path, rounds: int) -> list[float]:
    connection = sqlite3.connect(directory / "baseline.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute("CREATE TABLE captures (id TEXT PRIMARY KEY, amount_yen INTEGER)")
    timings_ms: list[float] = []
    for _ in range(rounds):
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO captures VALUES (?, ?)", (uuid.uuid4().hex, 100))
        connection.execute("COMMIT")
        timings_ms.append((time.perf_counter() - started) * 1000)
    connection.close()
    return timings_ms


# --- backlog drain ------------------------------------------------------------------------


def _fill_backlog(store: Store, wallet: OfflineWallet, count: int) -> None:
    """Commit ``count`` offline captures as the acceptor would, without its waiting caps."""
    public_keys = {
        key.key_id: Ed25519PublicKey.from_public_bytes(protocol.b64decode(key.public_key))
        for key in store.issuer_keys()
    }
    now = datetime.now(UTC)
    for _ in range(count):
        code = wallet.next_code(now)
        verified = offline_code.verify_offline_code(
            code, public_keys, now=now, max_age=timedelta(hours=24)
        )
        certificate = verified.certificate
        seen = SeenOfflineCode(
            certificate.wallet_id, certificate.serial, verified.counter, verified.fingerprint
        )
        store.record_capture(NewCapture(
            capture_id=uuid.uuid4().hex, kind="offline_payment", amount_yen=1, method="offline",
            captured_at=now, tax_lines=(TaxLine(rate_percent=10, amount_yen=1),),
            offline_code=code, seen_code=seen,
        ))


def drain_per_s(directory: Path, count: int) -> tuple[float, int]:
    """Drain ``count`` queued payments to a server process; return (entries/s, acknowledged)."""
    world = World.create(directory / "drain")
    try:
        terminal = enrol_terminal(world, "BENCH")
        wallet = funded_wallet(world)
        store = open_store(terminal.data_dir)
        _fill_backlog(store, wallet.offline, count)
        terminal_id = (terminal.data_dir / "terminal_id").read_text().strip()
        clock = ServerClock()
        signer = Signer(load_private_key(key_path(terminal.data_dir)), clock=clock.now)
        with ApiClient(world.server.url, terminal_id, signer) as api:
            engine = SyncEngine(store, api, clock)
            started = time.perf_counter()
            result = engine.drain()
            elapsed_s = time.perf_counter() - started
        left = store.waiting().count
        store.close()
    finally:
        world.close()
    if result.failed or left:
        raise RuntimeError(f"drain stopped with {left} entries left: {engine.last_error}")
    return result.acked / elapsed_s, result.acked


def ingest_per_s(directory: Path, count: int) -> tuple[float, int]:
    """Apply ``count`` entries with ``server.sync.sync_batch`` directly; return (entries/s, applied)."""
    settings = Settings(database_url=f"sqlite:///{directory / 'ingest.db'}", demo=True)
    database: Database = init_db(settings.database_url)
    seed = seed_demo(database, wallet_balance_yen=30_000)
    wallet = OfflineWallet.generate()
    request = protocol.OfflineCertificateRequest(
        allowance_yen=count, public_key=protocol.b64encode(_raw_public_key(wallet.private_key)),
        idempotency_key=uuid.uuid4().hex,
    )
    with database.write() as session:
        wallet_row = wallets.get_wallet(session, seed.wallet_id)
        issued = offline.certificate_model(
            offline.issue_certificate(session, wallet_row, request, settings)
        )
        terminal = session.get(Terminal, seed.terminal_id)
    assert terminal is not None
    wallet.install_certificate(issued, seed.wallet_id)
    batches = _batches(wallet, count)

    applied = 0
    started = time.perf_counter()
    for batch in batches:
        response = sync_batch(database, terminal, batch, settings)
        applied += sum(result.status == "applied" for result in response.results)
    elapsed_s = time.perf_counter() - started
    database.dispose()
    return applied / elapsed_s, applied


def _batches(wallet: OfflineWallet, count: int) -> list[protocol.SyncBatch]:
    now = datetime.now(UTC)
    captured_at = now.isoformat(timespec="seconds")
    entries = [
        protocol.SyncEntry(
            entry_id=uuid.uuid4().hex, seq=seq, kind="offline_payment", captured_at=captured_at,
            amount_yen=1, tax_lines=[TaxLine(rate_percent=10, amount_yen=1)],
            offline_code=wallet.next_code(now),
        )
        for seq in range(1, count + 1)
    ]
    return [
        protocol.SyncBatch(entries=entries[start:start + MAX_SYNC_BATCH], device_time=captured_at)
        for start in range(0, count, MAX_SYNC_BATCH)
    ]


# --- report -------------------------------------------------------------------------------


def _row(name: str, timings_ms: list[float]) -> str:
    ordered = sorted(timings_ms)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"| {name} | {statistics.median(ordered):.2f} | {p95:.2f} | {ordered[-1]:.2f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=500, help="offline sales timed")
    parser.add_argument("--backlog", type=int, default=10_000, help="queued payments drained")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    print(f"machine: {platform.platform()}, {platform.processor() or platform.machine()},"
          f" Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}")

    with tempfile.TemporaryDirectory(prefix="chiiki-bench-") as root:
        directory = Path(root)
        offline_ms = scan_to_approval_ms(directory, args.rounds)
        insert_ms = bare_insert_ms(directory, args.rounds)
        print(f"\nscan to 承認 offline, {args.rounds} rounds\n")
        print("| path | median ms | p95 ms | max ms |\n| --- | ---: | ---: | ---: |")
        print(_row("offline code to 承認 (verify + commit)", offline_ms))
        print(_row("bare SQLite insert, synchronous=FULL", insert_ms))

        drained_per_s, drained = drain_per_s(directory, args.backlog)
        ingested_per_s, ingested = ingest_per_s(directory, args.backlog)
        print(f"\nbacklog of {args.backlog} offline payments\n")
        print("| path | entries | entries/s |\n| --- | ---: | ---: |")
        print(f"| SyncEngine.drain over HTTP to a server process | {drained} | {drained_per_s:,.0f} |")
        print(f"| server.sync.sync_batch directly | {ingested} | {ingested_per_s:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
