"""Fixtures for the persistence tests: every test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.persistence import Database
from tests.pg_server import PostgresServer

from .helpers import ManualClock


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each backend: a temp SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accord.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield server.fresh_database("accord_persistence")


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """A freshly migrated database."""
    db = Database(database_url)
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()
