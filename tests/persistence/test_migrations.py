from __future__ import annotations

import threading
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from accord.persistence import Database, JobRepository, alembic_config, head_revision
from accord.persistence.orm import Base

from .helpers import new_job

TABLES = {
    "jobs",
    "tasks",
    "task_outputs",
    "engine_resources",
    "table_meta",
    "metrics",
    "models",
    "model_versions",
    "table_grants",
    "tags",
    "model_tags",
}


def schema_diffs(db: Database) -> list[object]:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrated_schema_matches_the_models(database: Database) -> None:
    assert schema_diffs(database) == []
    assert set(inspect(database.engine).get_table_names()) == TABLES | {"alembic_version"}


def test_a_fresh_database_differs_from_the_models_until_migrated(database_url: str) -> None:
    # Guards the test above against a comparison that never finds anything.
    with Database(database_url) as db:
        assert db.current_revision() is None
        assert len(schema_diffs(db)) >= len(TABLES)
        db.migrate()
        assert schema_diffs(db) == []


def test_migrate_is_repeatable_and_lands_on_head(database: Database) -> None:
    head = head_revision()
    assert head == "0007"
    assert database.current_revision() == head
    database.upgrade()
    assert database.current_revision() == head


def test_downgrade_removes_everything_and_upgrade_restores_it(database: Database) -> None:
    with database.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    database.migrate()
    assert schema_diffs(database) == []
    assert JobRepository(database).create(new_job("j1"))


def test_session_scope_rolls_back_when_the_block_raises(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session_scope() as session:
        session.execute(text("DELETE FROM alembic_version"))
        raise RuntimeError("abort")
    assert database.current_revision() == head_revision()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    with (
        Database(f"sqlite:///{tmp_path}/x.db", busy_timeout_ms=1234) as db,
        db.engine.connect() as connection,
    ):
        pragma = connection.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == 1234


def test_in_memory_sqlite_is_one_database_shared_by_threads() -> None:
    with Database("sqlite://") as db:
        db.migrate()
        created: list[bool] = []
        worker = threading.Thread(target=lambda: created.append(JobRepository(db).create(new_job("j1"))))
        worker.start()
        worker.join()
        assert created == [True]
        assert JobRepository(db).get("j1", "guest", 9999).job_id == "j1"


def test_repr_hides_the_password() -> None:
    db = Database("postgresql+psycopg2://accord:s3cret@db.example:5432/accord")
    try:
        assert "s3cret" not in repr(db)
        assert db.dialect == "postgresql"
    finally:
        db.dispose()
