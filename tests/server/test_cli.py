"""The chiiki-settle operator commands and what the server logs when it starts."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from settle_helpers import FakeClock, cli_db

from server import cli
from server.api import create_app
from server.db import init_db
from server.settings import Settings

_MERCHANT_ARGS = ["--name-ascii", "KITAKATA RAMEN", "--city-ascii", "KITAKATA", "--address",
                  "福島県喜多方市1-1", "--invoice-number", "T7000012050002"]


def _create_merchant(db: str, name: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["create-merchant", "--db", db, "--name", name, *_MERCHANT_ARGS]) == 0
    return capsys.readouterr().out.strip()


def test_list_merchants_counts_terminals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)
    ramen = _create_merchant(db, "喜多方ラーメン", capsys)
    sake = _create_merchant(db, "会津の酒", capsys)
    for label in ("REGI-1", "REGI-2"):
        status = cli.main(["issue-activation", "--db", db, "--merchant", ramen, "--label", label])
        assert status == 0
    capsys.readouterr()

    assert cli.main(["list-merchants", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()

    assert lines[0] == "merchant_id\tterminals\tname"
    assert sorted(lines[1:]) == sorted([f"{ramen}\t2\t喜多方ラーメン", f"{sake}\t0\t会津の酒"])


def test_list_merchants_empty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list-merchants", "--db", cli_db(tmp_path)]) == 0

    assert "create one with chiiki-settle create-merchant" in capsys.readouterr().out


def test_balance_unknown_merchant_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = cli_db(tmp_path)

    status = cli.main(["balance", "--db", db, "--merchant", "m_nope"])

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "chiiki-settle: merchant m_nope does not exist;"
        " run chiiki-settle list-merchants to see the merchant ids"
    )


def test_old_db_scheme_explained(capsys: pytest.CaptureFixture[str]) -> None:
    status = cli.main(["balance", "--db", "postgres://clerk:secret@127.0.0.1/chiiki",
                       "--merchant", "m_x"])
    err = capsys.readouterr().err

    assert status == 1
    assert "use postgresql+psycopg://USER@HOST/DB" in err
    assert "--db postgres://clerk:***@127.0.0.1/chiiki is invalid" in err
    assert "secret" not in err


def test_demo_mode_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"

    with caplog.at_level(logging.WARNING, logger="server"):
        app = create_app(Settings(database_url=db, demo=True, clock=FakeClock()))
    app.state.chiiki.db.dispose()

    warnings = [record for record in caplog.records if record.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "mints coin for any wallet" in warnings[0].getMessage()


def test_migrations_log_no_info(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        database = init_db(f"sqlite:///{tmp_path / 'quiet.db'}")
    database.dispose()

    assert [record.name for record in caplog.records] == ["server.db"]
    assert logging.getLogger("alembic").level == logging.NOTSET


def test_first_start_logs_no_alembic_plugins(tmp_path: Path) -> None:
    # Alembic logs its plugin set-up when first imported, so this needs a fresh interpreter.
    script = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stdout)\n"
        "from server.db import init_db\n"
        f"init_db('sqlite:///{tmp_path / 'fresh.db'}').dispose()\n"
    )
    repository = Path(__file__).resolve().parents[2]

    result = subprocess.run([sys.executable, "-c", script], cwd=repository, capture_output=True,
                            text=True, timeout=60, check=True)

    assert result.stdout.splitlines() == [
        f"INFO:server.db:database ready: sqlite:///{tmp_path / 'fresh.db'}"
    ]
