"""Site homes for the model tests: a real database (SQLite file, or PostgreSQL) and a models folder."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from accord.model_store import ModelService, ModelStore
from accord.persistence import Database, JobRepository, ModelRepository
from tests.pg_server import PostgresServer

from .support import Home, federation_signing

HomeFactory = Callable[[str], Home]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make_home(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HomeFactory]:
    """Independent site homes on one backend; each has its own database and models folder."""
    made: list[Home] = []

    def make(name: str) -> Home:
        root = tmp_path / name
        root.mkdir()
        if request.param == "sqlite":
            url = f"sqlite:///{root / 'accord.db'}"
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            url = server.fresh_database(f"accord_models_{name}")
        database = Database(url)
        database.migrate()
        jobs = JobRepository(database)
        store = ModelStore(root / "models", ModelRepository(database))
        # Every home of a test is a site of one federation, so each trusts what the others export.
        signing = federation_signing(root, tmp_path / "ca", name)
        home = Home(root, database, jobs, store, ModelService(store, jobs, signing=signing), signing)
        made.append(home)
        return home

    yield make
    for home in made:
        home.database.dispose()


@pytest.fixture
def home(make_home: HomeFactory) -> Home:
    return make_home("site")
