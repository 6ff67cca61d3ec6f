"""Fixtures shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pg_server import PostgresServer, PostgresUnavailable, find_bin_dir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, started only if a test asks for it."""
    try:
        bin_dir = find_bin_dir()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    server = PostgresServer(bin_dir=bin_dir)
    try:
        server.start()
    except PostgresUnavailable as error:
        pytest.fail(f"could not start PostgreSQL: {error}", pytrace=False)
    yield server
    server.stop()
