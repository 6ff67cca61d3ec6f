"""Fixtures for the table store tests: a real migrated SQLite database and a store on a temp dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.persistence import Database, TableMetaRepository
from accord.storage import TableStore


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'accord.db'}")
    db.migrate()
    yield db
    db.dispose()


@pytest.fixture
def store(tmp_path: Path, database: Database) -> TableStore:
    return TableStore(tmp_path / "tables", TableMetaRepository(database))
