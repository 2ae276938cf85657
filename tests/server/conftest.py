"""Fixtures for the settlement server tests.

Every database test runs twice: on a SQLite file and on PostgreSQL (``CHIIKI_TEST_PG_URL``,
default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each PostgreSQL test gets its
own schema through ``search_path``. When PostgreSQL cannot be reached those runs are skipped,
unless ``CHIIKI_REQUIRE_PG=1``, which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from settle_helpers import FakeClock, Server, run_server
from sqlalchemy import make_url

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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per run; tests copy it instead of migrating again."""
    path = tmp_path_factory.mktemp("template") / "settle.db"
    init_db(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(pg_available: str | None) -> str | None:
    """The dump of a PostgreSQL schema migrated once per run, with its name as ``{schema}``.

    Running every migration for each test's schema takes over a second on PostgreSQL; running
    the dumped DDL of a migrated schema takes a fraction of that. The migrations themselves
    are still checked against the models in test_embedded.py.
    """
    if pg_available is not None or shutil.which("pg_dump") is None:
        return None  # without pg_dump each test's schema is migrated on its own
    schema = f"tmpl_{uuid.uuid4().hex[:16]}"
    dsn = _libpq_dsn(_pg_url())
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        init_db(_schema_url(schema)).dispose()
        # Schema and rows: migrations also insert rows, such as the issuance account.
        dump = subprocess.run(
            ["pg_dump", "--no-owner", "--no-privileges", "--inserts", "-n", schema, dsn],
            check=True, capture_output=True, text=True,
        ).stdout
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    # The test's schema exists already, so the dump must not create it or clear search_path.
    # Lines starting with a backslash are psql meta-commands (pg_dump 15.20 writes
    # \restrict), which the server does not understand.
    statements = [line for line in dump.splitlines()
                  if not line.startswith(("CREATE SCHEMA", "SELECT pg_catalog.set_config", "\\"))]
    return "\n".join(statements).replace(schema, "{schema}")


@pytest.fixture
def migrated_db_url(
    db_url: str, sqlite_template: Path, postgres_template: str | None
) -> str:
    """``db_url`` with the newest schema already in place, copied from a template."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        assert url.database is not None
        shutil.copyfile(sqlite_template, url.database)
        return db_url
    if postgres_template is None:
        return db_url
    schema = url.query["options"].removeprefix("-csearch_path=")
    with psycopg.connect(_libpq_dsn(_pg_url()), autocommit=True) as connection:
        connection.execute(postgres_template.replace("{schema}", schema))
    return db_url


def _schema_url(schema: str) -> str:
    separator = "&" if "?" in _pg_url() else "?"
    return f"{_pg_url()}{separator}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture
def database(migrated_db_url: str) -> Iterator[Database]:
    db = init_db(migrated_db_url)
    yield db
    db.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(migrated_db_url: str, clock: FakeClock) -> Iterator[Server]:
    with run_server(Settings(database_url=migrated_db_url, demo=True, clock=clock), clock) as srv:
        yield srv
