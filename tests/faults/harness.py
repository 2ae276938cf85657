"""The pieces a fault schedule runs on: a server process, enrolled terminals, offline wallets,
the terminal driver as a subprocess, and the checks of the ledger after the schedule.

The server runs as ``chiiki-settle serve --demo`` on one SQLite file and one loopback port, so a
restart is a real process restart on the same database. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Row, create_engine, text

from server import merchants
from server.db import Database, init_db
from server.demo import seed_demo
from server.errors import LedgerInconsistent
from server.ledger import verify_ledger
from server.wallet_cli import OfflineWallet, WalletClient
from terminal.api_client import ApiClient
from terminal.enrolment import save_terminal_id
from terminal.keys import Signer, create_private_key, key_path
from terminal.store import Capture, open_store

REPOSITORY = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
DRIVER = Path(__file__).with_name("terminal_driver.py")
SERVER_START_TIMEOUT_S = 20.0
WALLET_TOPUP_YEN = 30_000
OFFLINE_ALLOWANCE_YEN = 20_000
# Alembic keeps its migration context in module globals, so schemas are created one at a time.
_MIGRATION_LOCK = threading.Lock()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPOSITORY), env.get("PYTHONPATH")]))
    return env


class ServerProcess:
    """``chiiki-settle serve`` on a fixed port; ``restart`` stops the process and starts a new one."""

    def __init__(self, db_path: Path, log_path: Path) -> None:
        self.db_url = f"sqlite:///{db_path}"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def start(self) -> None:
        command = [
            str(VENV_BIN / "chiiki-settle"), "serve", "--db", self.db_url,
            "--host", "127.0.0.1", "--port", str(self.port), "--demo",
        ]
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                command, stdout=log, stderr=log, env=_subprocess_env(), cwd=REPOSITORY
            )
        self._wait_healthy()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"server exited with {self._process.returncode}; see {self._log_path}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"server on port {self.port} did not start within {SERVER_START_TIMEOUT_S} s")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Stop the process with ``sig`` and wait for it; a no-op when it is not running."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self, sig: int = signal.SIGKILL) -> None:
        self.kill(sig)
        self.restarts += 1
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


@dataclass
class World:
    """One server with its database, the demo merchant, and a directory for terminals."""

    root: Path
    server: ServerProcess
    merchant_id: str
    terminals: int = 0

    @classmethod
    def create(cls, root: Path) -> World:
        root.mkdir(parents=True, exist_ok=True)
        db_path = root / "settle.db"
        with _MIGRATION_LOCK:
            database = init_db(f"sqlite:///{db_path}")
        seed = seed_demo(database, wallet_balance_yen=0)
        database.dispose()
        server = ServerProcess(db_path, root / "server.log")
        server.start()
        return cls(root, server, seed.merchant_id)

    def close(self) -> None:
        self.server.stop()

    def database(self) -> Database:
        return Database(create_engine(self.server.db_url, connect_args={"timeout": 30}))


@dataclass
class Terminal:
    """An enrolled terminal directory whose store already caches the issuer keys."""

    data_dir: Path
    terminal_id: str


def enrol_terminal(world: World, label: str) -> Terminal:
    """Issue an activation code, enrol a new key with it, and cache the issuer keys."""
    world.terminals += 1
    data_dir = world.root / f"terminal-{world.terminals:04d}"
    database = world.database()
    try:
        with database.write() as session:
            activation = merchants.issue_activation(
                session, world.merchant_id, label, now=datetime.now(UTC), ttl_s=3600
            )
    finally:
        database.dispose()

    signer = Signer(create_private_key(key_path(data_dir)))
    with ApiClient(world.server.url, None, signer) as api:
        info = api.enrol(activation.activation_code)
        keys = api.issuer_keys()
    save_terminal_id(data_dir, info.terminal_id)
    store = open_store(data_dir)
    store.replace_issuer_keys(keys.keys)
    store.close()
    return Terminal(data_dir, info.terminal_id)


@dataclass
class Wallet:
    """A funded wallet with an offline certificate; ``code`` makes the next offline code."""

    token: str
    offline: OfflineWallet

    def code(self) -> str:
        return self.offline.next_code()


def funded_wallet(world: World) -> Wallet:
    client = WalletClient(world.server.url)
    try:
        credentials = client.create()
        client.topup(WALLET_TOPUP_YEN)
        offline = OfflineWallet.generate()
        issued = client.offline_certificate(
            OFFLINE_ALLOWANCE_YEN, offline.private_key.public_key()
        )
        offline.install_certificate(issued, credentials.wallet_id)
    finally:
        client.close()
    return Wallet(credentials.token, offline)


# --- the driver -------------------------------------------------------------------------


@dataclass
class Payment:
    amount_yen: int
    online: bool


def write_inputs(
    directory: Path, world: World, wallet: Wallet, payments: Sequence[Payment]
) -> tuple[Path, Path]:
    """Write the driver's payment list and wallet file; offline codes are made here."""
    items = [
        {"amount_yen": payment.amount_yen, "offline_code": wallet.code(), "online": payment.online}
        for payment in payments
    ]
    items_path = directory / "items.json"
    wallet_path = directory / "wallet.json"
    items_path.write_text(json.dumps(items), encoding="utf-8")
    wallet_path.write_text(
        json.dumps({"server_url": world.server.url, "token": wallet.token}), encoding="utf-8"
    )
    return items_path, wallet_path


@dataclass
class DriverRun:
    """One driver subprocess, with its stdout lines collected by a reader thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def read_lines(self, timeout_s: float) -> list[str]:
        """Return the lines printed since the last call, waiting up to ``timeout_s`` for one."""
        new: list[str] = []
        try:
            new.append(self.lines.get(timeout=timeout_s))
            while True:
                new.append(self.lines.get_nowait())
        except queue.Empty:
            pass
        self.seen.extend(new)
        return new

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def wait(self, timeout_s: float) -> int:
        """Wait for the exit and collect the remaining lines; kill the process after the timeout."""
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            code = -signal.SIGKILL
        time.sleep(0.01)
        self.read_lines(0.0)
        return code


def start_driver(
    terminal: Terminal,
    server_url: str,
    inputs: tuple[Path, Path],
    seed: int,
    extra: Sequence[str] = (),
) -> DriverRun:
    command = [
        sys.executable, str(DRIVER),
        "--data-dir", str(terminal.data_dir), "--server-url", server_url,
        "--items", str(inputs[0]), "--wallet", str(inputs[1]), "--seed", str(seed), *extra,
    ]
    with (terminal.data_dir / "driver.log").open("a") as log:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=log, text=True, env=_subprocess_env(),
            cwd=REPOSITORY,
        )
    run = DriverRun(process)

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            run.lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, name="driver-stdout", daemon=True).start()
    return run


def approved_in(lines: Sequence[str]) -> dict[str, int]:
    """Return capture id -> amount of every APPROVED and RECOVERED line."""
    approved: dict[str, int] = {}
    for line in lines:
        parts = line.split()
        if parts and parts[0] in ("APPROVED", "RECOVERED"):
            approved[parts[1]] = int(parts[2])
    return approved


# --- checks -----------------------------------------------------------------------------


def ledger_problems(world: World, terminal: Terminal, approved: dict[str, int]) -> list[str]:
    """Compare the server's database with the terminal's store and the APPROVED lines.

    Returns every mismatch found, empty when the terminal's payments reached the ledger once.
    """
    store = open_store(terminal.data_dir)
    try:
        captures = {capture.capture_id: capture for capture in store.captures()}
        waiting = store.waiting().count
        declined = store.declined_count()
    finally:
        store.close()

    engine = create_engine(world.server.db_url)
    try:
        with engine.connect() as connection:
            results = connection.execute(text(
                "SELECT entry_id, kind, amount_yen, status, payment_id FROM sync_results"
                " WHERE terminal_id = :t ORDER BY seq"), {"t": terminal.terminal_id}).all()
            payments = connection.execute(text(
                "SELECT id, method, amount_yen FROM payments WHERE terminal_id = :t"),
                {"t": terminal.terminal_id}).all()
            negative = connection.execute(text(
                "SELECT p.account_id, SUM(p.amount_yen) FROM postings p JOIN accounts a"
                " ON a.id = p.account_id WHERE NOT a.is_issuing GROUP BY p.account_id"
                " HAVING SUM(p.amount_yen) < 0")).all()
            spend_problems = connection.execute(text(
                "SELECT entry_id, problem FROM offline_spends WHERE terminal_id = :t"
                " AND problem IS NOT NULL"), {"t": terminal.terminal_id}).all()
    finally:
        engine.dispose()

    problems = _sync_problems(captures, results, approved)
    problems += _payment_problems(captures, payments)
    if waiting or declined:
        problems.append(f"terminal store has {waiting} pending and {declined} declined entries")
    problems += [f"account {row[0]} balance is {row[1]} yen" for row in negative]
    problems += [f"offline spend {row[0]} recorded problem {row[1]}" for row in spend_problems]
    problems += _conservation_problems(world)
    return problems


def _sync_problems(
    captures: dict[str, Capture], results: Sequence[Row[Any]], approved: dict[str, int]
) -> list[str]:
    problems: list[str] = []
    counts = Counter(row.entry_id for row in results)
    by_entry = {row.entry_id: row for row in results}
    for capture_id, amount_yen in approved.items():
        if counts[capture_id] != 1:
            problems.append(f"approved capture {capture_id} is in sync_results {counts[capture_id]} times")
        elif by_entry[capture_id].amount_yen != amount_yen:
            problems.append(f"approved capture {capture_id} of {amount_yen} yen is booked as"
                            f" {by_entry[capture_id].amount_yen} yen")
        if capture_id not in captures:
            problems.append(f"approved capture {capture_id} is missing from the terminal store")
    for row in results:
        capture = captures.get(row.entry_id)
        if capture is None:
            problems.append(f"sync entry {row.entry_id} has no capture in the terminal store")
        elif row.status != "applied" or capture.state != "confirmed":
            problems.append(f"sync entry {row.entry_id} is {row.status}, capture is {capture.state}")
    server_order = [row.entry_id for row in results]
    store_order = [capture_id for capture_id in captures if capture_id in counts]
    if server_order != store_order:
        problems.append(f"server applied entries in order {server_order}, captured {store_order}")
    return problems


def _payment_problems(captures: dict[str, Capture], payments: Sequence[Row[Any]]) -> list[str]:
    """Every server payment of the terminal belongs to exactly one capture, and back."""
    problems: list[str] = []
    held = Counter(capture.payment_id for capture in captures.values())
    for payment in payments:
        if held[payment.id] != 1:
            problems.append(f"{payment.method} payment {payment.id} of {payment.amount_yen} yen"
                            f" is held by {held[payment.id]} captures")
    booked = {payment.id for payment in payments}
    for capture_id, capture in captures.items():
        if capture.payment_id not in booked:
            problems.append(f"capture {capture_id} names payment {capture.payment_id}, not booked")
    return problems


def _conservation_problems(world: World) -> list[str]:
    database = world.database()
    try:
        with database.read() as session:
            verify_ledger(session)
    except LedgerInconsistent as exc:
        return [f"ledger conservation failed: {exc}"]
    finally:
        database.dispose()
    return []


def sync_statuses(world: World, terminal: Terminal) -> list[tuple[str, str, str]]:
    """Return (entry id, kind, status) of the terminal's sync results in the order applied."""
    engine = create_engine(world.server.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text(
                "SELECT entry_id, kind, status FROM sync_results WHERE terminal_id = :t"
                " ORDER BY seq"), {"t": terminal.terminal_id}).all()
    finally:
        engine.dispose()
    return [(row[0], row[1], row[2]) for row in rows]

