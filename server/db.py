"""Database engines, transactions and schema migrations.

SQLite (a file, or memory for tests) is the embedded default and PostgreSQL the production
database. On SQLite every writing transaction starts with ``BEGIN IMMEDIATE``, so writers
queue on the database lock instead of failing half-way; files use WAL so readers never wait
for a writer. On PostgreSQL the ledger locks rows with ``SELECT ... FOR UPDATE`` instead.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
READ_ONLY_OPTION = "chiiki_read_only"
# Seconds a SQLite writer waits for the database lock before giving up.
SQLITE_BUSY_TIMEOUT_S = 30


class DatabaseNotReady(Exception):
    """The database an operator command names does not exist or has no schema yet."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Database:
    """An engine with the two kinds of transaction the server uses."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = sessionmaker(engine, expire_on_commit=False)
        read_engine = engine.execution_options(**{READ_ONLY_OPTION: True})
        self._reader = sessionmaker(read_engine, expire_on_commit=False)
        # An in-memory SQLite database is one shared connection, so threads take turns.
        self._memory_lock: threading.RLock | None = (
            threading.RLock() if _is_memory_sqlite(engine) else None
        )

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """Open a transaction that may write; it commits when the block ends without error."""
        with self._serialized(), self._writer.begin() as session:
            yield session

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """Open a transaction that only reads; on SQLite it takes no write lock."""
        with self._serialized(), self._reader.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _serialized(self) -> Iterator[None]:
        if self._memory_lock is None:
            yield
            return
        with self._memory_lock:
            yield


def create_db_engine(url: str) -> Engine:
    """Create an engine for ``url`` with the connection settings this server relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_size=10, max_overflow=30, pool_pre_ping=True)

    database = parsed.database or ""
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
    if database in ("", ":memory:"):
        engine = create_engine(url, connect_args=connect_args, poolclass=StaticPool)
    else:
        engine = create_engine(url, connect_args=connect_args)
    _install_sqlite_hooks(engine, use_wal=database not in ("", ":memory:"))
    return engine


def _install_sqlite_hooks(engine: Engine, *, use_wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy's "begin" hook below emit BEGIN instead of the sqlite3 module.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_S * 1000}")
        if use_wal:
            cursor.execute("PRAGMA journal_mode = WAL")
            # FULL syncs the WAL on every commit, so an approved payment survives a power cut;
            # NORMAL would be faster but may lose the last commits.
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_memory_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite" and (engine.url.database or "") in ("", ":memory:")


def alembic_config() -> Config:
    """Build the Alembic configuration in code, so no alembic.ini has to be installed."""
    with _quiet_alembic():
        from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema behind ``engine`` to the newest migration."""
    if _schema_revision(engine) == head_revision():
        # Every server process and operator command opens the database through here, so an
        # up-to-date schema skips Alembic's environment, which costs a few hundred ms.
        return
    config = alembic_config()
    with _quiet_alembic(), engine.begin() as connection:
        from alembic import command

        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@functools.cache
def head_revision() -> str | None:
    """Return the newest migration's revision id, read once per process."""
    with _quiet_alembic():
        from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _schema_revision(engine: Engine) -> str | None:
    """Return the revision recorded in the database, or None for a database without one."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        revisions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    return str(revisions[0][0]) if len(revisions) == 1 else None


@contextlib.contextmanager
def _quiet_alembic() -> Iterator[None]:
    """Raise the "alembic" logger to WARNING while migrating, unless a level was set for it.

    Alembic (1.20 here) logs one INFO line per built-in plugin when first imported, and one
    per migration step, so alembic is imported inside this block. ``init_db`` logs one line of
    its own instead. The root logger is left as it is.
    """
    alembic_logger = logging.getLogger("alembic")
    if alembic_logger.level != logging.NOTSET:
        yield
        return
    alembic_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        alembic_logger.setLevel(logging.NOTSET)


def init_db(url: str) -> Database:
    """Open the database at ``url`` and bring its schema up to date."""
    engine = create_db_engine(url)
    migrate(engine)
    logger.info("database ready: %s", make_url(url).render_as_string(hide_password=True))
    return Database(engine)


def open_existing_db(url: str) -> Database:
    """Open the database at ``url`` and upgrade its schema; never create a new database.

    Raise ``DatabaseNotReady`` when a SQLite file is missing or the database has no schema,
    so a mistyped URL is reported instead of leaving a fresh, empty database behind.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database in ("", ":memory:"):
            raise DatabaseNotReady("is an in-memory database, which starts empty")
        if not Path(database).is_file():
            raise DatabaseNotReady("does not exist")
    engine = create_db_engine(url)
    try:
        if not inspect(engine).has_table("alembic_version"):
            raise DatabaseNotReady("has no schema")
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    logger.info("database ready: %s", parsed.render_as_string(hide_password=True))
    return Database(engine)
