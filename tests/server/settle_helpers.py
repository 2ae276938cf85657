"""Clients and a fake clock for the settlement server tests (imported by conftest)."""

from __future__ import annotations

import json
import threading
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from sqlalchemy.orm import Session

from server import ledger
from server.api import ServerState, create_app
from server.db import init_db
from server.demo import DEMO_MERCHANT
from server.errors import ServerError
from server.merchants import create_merchant, issue_activation
from server.models import Terminal, Wallet
from server.settings import Settings
from terminal import protocol

with warnings.catch_warnings():
    # Starlette 1.x warns on import that its TestClient will move to another HTTP package.
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


# --- time ----------------------------------------------------------------------------------


@dataclass
class FakeClock:
    """A clock that moves only when a test calls ``advance``."""

    now: datetime = field(default_factory=lambda: datetime(2026, 4, 1, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- signing -------------------------------------------------------------------------------


class TerminalKey:
    """Client-side request signing, built only on ``protocol.signing_message``."""

    def __init__(self) -> None:
        self.private_key = Ed25519PrivateKey.generate()

    @property
    def public_key_b64(self) -> str:
        raw = self.private_key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return protocol.b64encode(raw)

    def headers(self, terminal_id: str, method: str, path: str, body: bytes,
                now: datetime) -> dict[str, str]:
        timestamp = now.astimezone(UTC).isoformat(timespec="seconds")
        message = protocol.signing_message(method, path, timestamp, body)
        return {
            protocol.HEADER_TERMINAL: terminal_id,
            protocol.HEADER_TIMESTAMP: timestamp,
            protocol.HEADER_SIGNATURE: protocol.b64encode(self.private_key.sign(message)),
        }


@dataclass
class TerminalClient:
    """Sends signed requests for one enrolled terminal through a TestClient."""

    client: TestClient | httpx.Client
    terminal_id: str
    merchant_id: str
    key: TerminalKey
    clock: FakeClock

    def request(self, method: str, path: str, body: Any = None) -> httpx.Response:
        content = b"" if body is None else json.dumps(body).encode()
        headers = self.key.headers(self.terminal_id, method, path, content, self.clock())
        if body is not None:
            headers["Content-Type"] = "application/json"
        return self.client.request(method, path, content=content, headers=headers)

    def get(self, path: str) -> httpx.Response:
        return self.request("GET", path)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.request("POST", path, body)


@dataclass
class WalletClient:
    client: TestClient | httpx.Client
    wallet_id: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path, headers=self.headers)

    def post(self, path: str, body: Any = None) -> httpx.Response:
        return self.client.post(path, json=body, headers=self.headers)

    def balance_yen(self) -> int:
        response = self.get("/v1/wallet")
        assert response.status_code == 200, response.text
        return int(response.json()["total_yen"])


# --- the application -----------------------------------------------------------------------


@dataclass
class Server:
    """An application on a test database with helpers to make shops, terminals and wallets."""

    app: FastAPI
    client: TestClient
    settings: Settings
    clock: FakeClock

    @property
    def state(self) -> ServerState:
        state = self.app.state.chiiki
        assert isinstance(state, ServerState)
        return state

    def new_merchant(self) -> str:
        with self.state.db.write() as session:
            return create_merchant(session, DEMO_MERCHANT, now=self.clock()).id

    def activation_code(self, merchant_id: str, label: str = "REGI-1") -> str:
        with self.state.db.write() as session:
            activation = issue_activation(session, merchant_id, label, now=self.clock(),
                                          ttl_s=self.settings.activation_ttl_s)
        return activation.activation_code

    def new_terminal(self, merchant_id: str | None = None) -> TerminalClient:
        merchant_id = merchant_id or self.new_merchant()
        key = TerminalKey()
        response = self.client.post("/v1/terminals/enrol", json={
            "activation_code": self.activation_code(merchant_id),
            "public_key": key.public_key_b64,
        })
        assert response.status_code == 200, response.text
        return TerminalClient(self.client, response.json()["terminal_id"], merchant_id, key,
                              self.clock)

    def new_wallet(self, balance_yen: int = 0) -> WalletClient:
        created = self.client.post("/v1/wallets").json()
        wallet = WalletClient(self.client, created["wallet_id"], created["token"])
        if balance_yen:
            response = wallet.post("/v1/wallet/topup", {
                "amount_yen": balance_yen, "idempotency_key": f"seed-{uuid.uuid4().hex}",
            })
            assert response.status_code == 200, response.text
        return wallet

    def merchant_balance_yen(self, merchant_id: str) -> int:
        with self.state.db.read() as session:
            return sum(ledger.balance(session, merchant_id, now=self.clock()).values())

    def assert_conserved(self) -> None:
        with self.state.db.read() as session:
            audit = ledger.audit_ledger(session)
        assert audit.problems == []
        assert set(audit.totals_by_kind.values()) == {0}

    def terminal_row(self, terminal_id: str) -> Terminal:
        with self.state.db.read() as session:
            row = session.get(Terminal, terminal_id)
        assert row is not None
        return row

    def wallet_row(self, wallet_id: str) -> Wallet:
        with self.state.db.read() as session:
            row = session.get(Wallet, wallet_id)
        assert row is not None
        return row

    def write_concurrently(self, count: int,
                           action: Callable[[Session, int], object]) -> list[str]:
        """Run ``action(session, index)`` in ``count`` threads at once, each in its own writing
        transaction, and return "ok" or the ``ServerError`` code of each."""
        barrier = threading.Barrier(count)
        outcomes = [""] * count

        def worker(index: int) -> None:
            barrier.wait()
            try:
                self.state.write(lambda session: action(session, index))
                outcomes[index] = "ok"
            except ServerError as exc:
                outcomes[index] = str(exc.code)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return outcomes


@contextmanager
def run_server(settings: Settings, clock: FakeClock) -> Iterator[Server]:
    """Serve an application built from ``settings`` in-process, check that value is conserved
    when the block ends, and close the database."""
    app = create_app(settings)
    with TestClient(app) as client:
        server = Server(app, client, settings, clock)
        yield server
        server.assert_conserved()
    server.state.db.dispose()


def cli_db(tmp_path: Path, name: str = "cli.db") -> str:
    """Create a SQLite database with the schema, as ``chiiki-settle init-db`` does; return its URL."""
    url = f"sqlite:///{tmp_path / name}"
    init_db(url).dispose()
    return url
