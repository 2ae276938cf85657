"""The server over real loopback HTTP, the operator CLI, demo data and migrations."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from settle_helpers import FakeClock, TerminalClient, TerminalKey, cli_db

from server import cli, ledger
from server.db import Database, init_db
from server.demo import seed_demo
from server.embedded import start_embedded_server
from server.models import Base


def test_migrations_match_models(database: Database) -> None:
    with database.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_init_db_twice(db_url: str) -> None:
    init_db(db_url).dispose()
    database = init_db(db_url)
    with database.read() as session:
        assert ledger.balance(session, "issuance", now=FakeClock()()) == {}
    database.dispose()


def test_memory_sqlite_works() -> None:
    database = init_db("sqlite://")
    seed = seed_demo(database)
    with database.read() as session:
        assert sum(ledger.balance(session, seed.wallet_id, now=FakeClock()()).values()) == 10_000
    database.dispose()


def test_embedded_server_mpm_flow(db_url: str) -> None:
    database = init_db(db_url)
    seed = seed_demo(database)
    database.dispose()
    server = start_embedded_server(db_url)
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            terminal = _enrol(client, seed.activation_code)
            intent = terminal.post("/v1/intents", {"amount_yen": 1200,
                                                   "idempotency_key": "sale-0001"}).json()
            polled: dict[str, Any] = {}
            poller = threading.Thread(target=lambda: polled.update(
                terminal.get(f"/v1/intents/{intent['intent_id']}?wait=20").json()))
            poller.start()
            paid = client.post(f"/v1/intents/{intent['intent_id']}/pay",
                               json={"amount_yen": 1200, "idempotency_key": "wallet-pay-1"},
                               headers={"Authorization": f"Bearer {seed.wallet_token}"})
            poller.join(30)
            balance = client.get("/v1/wallet",
                                 headers={"Authorization": f"Bearer {seed.wallet_token}"}).json()
    finally:
        server.stop()

    assert server.url.startswith("http://127.0.0.1:")
    assert paid.status_code == 200
    assert polled["status"] == "approved"
    assert balance["total_yen"] == 10_000 - 1200


def _enrol(client: httpx.Client, activation_code: str) -> TerminalClient:
    key = TerminalKey()
    info = client.post("/v1/terminals/enrol", json={
        "activation_code": activation_code, "public_key": key.public_key_b64,
    }).json()
    return TerminalClient(client, info["terminal_id"], info["merchant"]["merchant_id"], key,
                          _WallClock())


class _WallClock(FakeClock):
    def __call__(self) -> Any:
        from datetime import UTC, datetime

        return datetime.now(UTC)


def test_cli_onboards_merchant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    assert cli.main(["init-db", "--db", db]) == 0
    assert cli.main(["create-merchant", "--db", db, "--name", "喜多方ラーメン", "--name-ascii",
                     "KITAKATA RAMEN", "--city-ascii", "KITAKATA", "--address",
                     "福島県喜多方市1-1", "--invoice-number", "T7000012050002"]) == 0
    merchant_id = capsys.readouterr().out.strip().splitlines()[-1]
    assert cli.main(["issue-activation", "--db", db, "--merchant", merchant_id,
                     "--label", "REGI-2"]) == 0
    activation = capsys.readouterr().out.splitlines()
    assert cli.main(["balance", "--db", db, "--merchant", merchant_id]) == 0
    balance = capsys.readouterr().out

    assert merchant_id.startswith("m_")
    assert len(activation[0]) == 14
    assert activation[1].startswith("terminal_id: t_")
    assert activation[2] == f"merchant_id: {merchant_id}"
    assert activation[3] == "label: REGI-2"
    assert activation[4].startswith("expires_at: 20")
    assert balance.splitlines()[0] == "total 0 yen"


def test_cli_reports_bad_invoice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status = cli.main(["create-merchant", "--db", db, "--name", "店", "--name-ascii", "SHOP",
                       "--city-ascii", "AIZU", "--address", "福島県", "--invoice-number",
                       "T7000012050003"])
    err = capsys.readouterr().err

    assert status == 1
    assert len(err.strip().splitlines()) == 1
    assert "check digit 7, but its other 12 digits give 6" in err


def test_cli_unknown_merchant(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = cli_db(tmp_path)

    status = cli.main(["issue-activation", "--db", db, "--merchant", "m_nobody", "--label", "X"])

    assert status == 1
    assert "merchant m_nobody does not exist" in capsys.readouterr().err
