"""Fixtures for the settlement server tests.

Every database test runs twice: on a SQLite file and on PostgreSQL (``CHIIKI_TEST_PG_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each PostgreSQL test gets its
own schema through ``search_path``. When PostgreSQL cannot be reached those runs are skipped,
unless ``CHIIKI_REQUIRE_PG=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from settle_helpers import FakeClock, Server, TestClient
from sqlalchemy import make_url

from server.api import create_app
from server.db import Database, init_db
from server.settings import Settings

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


# --- databases -----------------------------------------------------------------------------


def _pg_url() -> str:
    return os.environ.get("CHIIKI_TEST_PG_URL", DEFAULT_PG_URL)


def _libpq_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_available() -> str | None:
    """Return None when PostgreSQL accepts connections, else the reason it does not."""
    try:
        with psycopg.connect(_libpq_dsn(_pg_url()), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {_pg_url()} is unreachable: {str(exc).splitlines()[0]}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, pg_available: str | None) -> Iterator[str]:
    """A URL of an empty database, on SQLite or in a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'settle.db'}"
        return

    if pg_available is not None:
        if os.environ.get("CHIIKI_REQUIRE_PG") == "1":
            pytest.fail(f"{pg_available}; CHIIKI_REQUIRE_PG=1 requires it")
        pytest.skip(pg_available)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    dsn = _libpq_dsn(_pg_url())
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in _pg_url() else "?"
    yield f"{_pg_url()}{separator}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    db = init_db(db_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(db_url: str, clock: FakeClock) -> Iterator[Server]:
    settings = Settings(database_url=db_url, demo=True, clock=clock)
    app = create_app(settings)
    with TestClient(app) as client:
        srv = Server(app, client, settings, clock)
        yield srv
        srv.assert_conserved()
    srv.state.db.dispose()
