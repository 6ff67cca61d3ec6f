"""Connections, transactions and schema migrations for one database (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from accord.settings import Settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant works; it only has to be the same for every process migrating the same database.
_MIGRATION_LOCK_KEY = 0x61636F7264


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations, without any alembic.ini.

    With a connection, ``env.py`` migrates through it; this is how :meth:`Database.migrate` works.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


class Database:
    """One database: an engine, a session factory and the migrations that shape it.

    Cheap to keep, expensive to create; build one per process at the entry point and hand it to the
    repositories.
    """

    def __init__(self, url: str | URL, *, echo: bool = False, busy_timeout_ms: int = 30_000) -> None:
        self.url = make_url(url)
        self.engine: Engine = _create_engine(self.url, echo=echo, busy_timeout_ms=busy_timeout_ms)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Database:
        if not settings.database_url:
            settings.home.mkdir(parents=True, exist_ok=True)
        return cls(settings.resolved_database_url, **kwargs)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """A session whose transaction commits when the block ends and rolls back if it raises."""
        with self._sessions() as session, session.begin():
            yield session

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema up to ``revision`` with the packaged Alembic migrations."""
        with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                # Two processes starting at once must not both create the tables.
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            command.upgrade(alembic_config(connection), revision)

    upgrade = migrate

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Database:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def _create_engine(url: URL, *, echo: bool, busy_timeout_ms: int) -> Engine:
    if url.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)

    in_memory = url.database in (None, "", ":memory:")
    kwargs: dict[str, Any] = {"echo": echo}
    if in_memory:
        # One shared connection, otherwise every pooled connection would see its own empty database.
        # Sharing it makes an in-memory database fit for tests, not for concurrent callers.
        kwargs |= {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own BEGIN handling is deferred and would let two writers both read, then one
        # fail without waiting; we emit the BEGIN ourselves below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
                # In WAL mode NORMAL still cannot corrupt the database; it only skips fsyncs per commit.
                cursor.execute("PRAGMA synchronous = NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # IMMEDIATE takes the write lock up front, so conflicting transactions queue on the busy
        # timeout instead of failing with SQLITE_BUSY when they upgrade from reading to writing.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
