from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from accord.persistence import Database
from accord.settings import Settings
from tests.pg_server import PostgresServer, PostgresUnavailable, find_bin_dir


def test_missing_server_binaries_name_the_package_to_install(tmp_path: Path) -> None:
    (tmp_path / "15" / "bin").mkdir(parents=True)
    with pytest.raises(PostgresUnavailable, match="apt-get install postgresql"):
        find_bin_dir(str(tmp_path / "*" / "bin"))


def test_the_newest_server_version_is_picked(tmp_path: Path) -> None:
    for version in ("9", "15", "13"):
        bin_dir = tmp_path / version / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "initdb").touch()
        (bin_dir / "pg_ctl").touch()
    assert find_bin_dir(str(tmp_path / "*" / "bin")) == tmp_path / "15" / "bin"


@pytest.mark.postgres
def test_fresh_database_is_empty_every_time(postgres_server: PostgresServer) -> None:
    url = postgres_server.fresh_database("accord_fresh_probe")
    with Database(url) as db:
        db.migrate()
    # A session left open must not stop the next reset.
    leftover = psycopg2.connect(
        host="127.0.0.1", port=postgres_server.port, user="postgres", dbname="accord_fresh_probe"
    )
    try:
        assert postgres_server.fresh_database("accord_fresh_probe") == url
        with Database(url) as db:
            assert db.current_revision() is None
    finally:
        leftover.close()
    postgres_server.drop_database("accord_fresh_probe")


def test_database_from_default_settings_lives_under_home(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    with Database.from_settings(settings) as db:
        assert db.dialect == "sqlite"
        db.migrate()
    assert (tmp_path / "home" / "accord.db").exists()
