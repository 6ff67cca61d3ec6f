"""Declarative ORM models: FATE-Flow's data model, one row per party.

Rows never leave the persistence package; repositories turn them into the frozen records of
:mod:`accord.persistence.records`. Any change here needs a new Alembic revision, and the test that
compares the migrated schema with this metadata will fail until it exists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names, so later migrations (SQLite batch mode in particular) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

ID = String(64)
ROLE = String(32)
PARTY = BigInteger()
NAME = String(128)
STATUS = String(16)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend.

    SQLite keeps no offset, so values are normalised to UTC on the way in and labelled UTC on the way
    out; this also keeps SQLite's textual ordering chronological.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON()}


class JobRow(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status", "status"),
        Index("ix_jobs_create_time", "create_time"),
        Index("ix_jobs_cores_refused_at", "cores_refused_at"),
    )

    job_id: Mapped[str] = mapped_column(ID, primary_key=True)
    role: Mapped[str] = mapped_column(ROLE, primary_key=True)
    party_id: Mapped[int] = mapped_column(PARTY, primary_key=True)
    status: Mapped[str] = mapped_column(STATUS)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    is_initiator: Mapped[bool] = mapped_column(Boolean, default=False)
    initiator_role: Mapped[str] = mapped_column(ROLE)
    initiator_party_id: Mapped[int] = mapped_column(PARTY)
    dsl: Mapped[dict[str, Any]]
    runtime_conf: Mapped[dict[str, Any]]
    # none_as_null: an absent plan must be SQL NULL, not the JSON literal null, to be queryable.
    plan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    model_id: Mapped[str | None] = mapped_column(String(255))
    model_version: Mapped[str | None] = mapped_column(ID)
    # Resources are returned to the engine recorded here, not to whatever the caller names later.
    engine_type: Mapped[str | None] = mapped_column(String(32))
    engine_name: Mapped[str | None] = mapped_column(String(32))
    cores: Mapped[int] = mapped_column(Integer, default=0)
    resource_in_use: Mapped[bool] = mapped_column(Boolean, default=False)
    # When this party's latest application for cores was refused (None once granted or returned): an
    # older job that keeps asking keeps its turn against younger ones (see ResourceRepository.apply).
    cores_refused_at: Mapped[datetime | None]
    progress: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    elapsed_ms: Mapped[int | None] = mapped_column(BigInteger)


class TaskRow(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("task_id", "task_version", "role", "party_id"),
        ForeignKeyConstraint(
            ["job_id", "role", "party_id"],
            ["jobs.job_id", "jobs.role", "jobs.party_id"],
            ondelete="CASCADE",
        ),
        Index("ix_tasks_job_id_role_party_id", "job_id", "role", "party_id"),
    )

    job_id: Mapped[str] = mapped_column(ID, primary_key=True)
    component_name: Mapped[str] = mapped_column(NAME, primary_key=True)
    task_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(ROLE, primary_key=True)
    party_id: Mapped[int] = mapped_column(PARTY, primary_key=True)
    task_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(STATUS)
    party_status: Mapped[str] = mapped_column(STATUS)
    worker_id: Mapped[str | None] = mapped_column(String(128))
    run_id: Mapped[str | None] = mapped_column(String(128))
    run_ip: Mapped[str | None] = mapped_column(String(64))
    run_pid: Mapped[int | None] = mapped_column(Integer)
    auto_retries: Mapped[int] = mapped_column(Integer, default=0)
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]
    start_time: Mapped[datetime | None]
    end_time: Mapped[datetime | None]
    elapsed_ms: Mapped[int | None] = mapped_column(BigInteger)
    # The failure as reported (capped; the task's log file has it whole) and the running task's own
    # progress, which the job's progress counts in.
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    progress_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    progress_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # The earlier run whose outputs this task took instead of running ("job X, component Y, version V").
    reused_from: Mapped[str | None] = mapped_column(String(400))


class TaskOutputRow(Base):
    """What a party's successful task was run on and what it made: for reusing it in a later job.

    ``fingerprint`` hashes the module, its implementation's version, the party's parameters and the
    contents of its inputs (NULL: not reusable); ``outputs`` maps each output (``data:NAME``,
    ``cache:NAME``, ``model``) to its content digest and, for files, a stat signature that shows cheaply
    whether the file is still the one digested. Deleted with its task (and so with its job).
    """

    __tablename__ = "task_outputs"
    __table_args__ = (
        ForeignKeyConstraint(
            ["job_id", "component_name", "task_version", "role", "party_id"],
            ["tasks.job_id", "tasks.component_name", "tasks.task_version", "tasks.role", "tasks.party_id"],
            ondelete="CASCADE",
        ),
        Index("ix_task_outputs_fingerprint_role_party_id", "fingerprint", "role", "party_id"),
    )

    job_id: Mapped[str] = mapped_column(ID, primary_key=True)
    component_name: Mapped[str] = mapped_column(NAME, primary_key=True)
    task_version: Mapped[int] = mapped_column(Integer, primary_key=True)
    role: Mapped[str] = mapped_column(ROLE, primary_key=True)
    party_id: Mapped[int] = mapped_column(PARTY, primary_key=True)
    module: Mapped[str] = mapped_column(NAME)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    outputs: Mapped[dict[str, Any]]
    create_time: Mapped[datetime]


class EngineResourceRow(Base):
    __tablename__ = "engine_resources"

    engine_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    engine_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    total_cores: Mapped[int] = mapped_column(Integer)
    remaining_cores: Mapped[int] = mapped_column(Integer)
    nodes: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]


class TableMetaRow(Base):
    __tablename__ = "table_meta"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    engine: Mapped[str] = mapped_column(String(32))
    address: Mapped[str] = mapped_column(Text)
    partitions: Mapped[int] = mapped_column(Integer, default=1)
    count: Mapped[int | None] = mapped_column(BigInteger)
    schema: Mapped[dict[str, Any]]
    id_delimiter: Mapped[str] = mapped_column(String(16), default=",")
    extend_sid: Mapped[bool] = mapped_column(Boolean, default=False)
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]


class MetricRow(Base):
    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint(
            "job_id",
            "component_name",
            "role",
            "party_id",
            "task_version",
            "metric_namespace",
            "metric_name",
        ),
        Index("ix_metrics_job_id_component_name", "job_id", "component_name", "role", "party_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ID)
    component_name: Mapped[str] = mapped_column(NAME)
    role: Mapped[str] = mapped_column(ROLE)
    party_id: Mapped[int] = mapped_column(PARTY)
    task_id: Mapped[str] = mapped_column(String(200))
    task_version: Mapped[int] = mapped_column(Integer)
    metric_namespace: Mapped[str] = mapped_column(NAME)
    metric_name: Mapped[str] = mapped_column(NAME)
    metric_type: Mapped[str] = mapped_column(String(64))
    data: Mapped[list[Any]] = mapped_column(JSON)
    meta: Mapped[dict[str, Any]]
    create_time: Mapped[datetime]
    update_time: Mapped[datetime]


class ModelRow(Base):
    __tablename__ = "models"

    model_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    model_version: Mapped[str] = mapped_column(ID, primary_key=True)
    role: Mapped[str] = mapped_column(ROLE, primary_key=True)
    party_id: Mapped[int] = mapped_column(PARTY, primary_key=True)
    component_name: Mapped[str] = mapped_column(NAME, primary_key=True)
    storage: Mapped[str] = mapped_column(Text)
    checksum: Mapped[str] = mapped_column(String(128))
    create_time: Mapped[datetime]


class ModelVersionRow(Base):
    """A model version that came from elsewhere (an imported archive), with what its job row would hold.

    A version trained here is described by its job row; an imported one has no job row on this site, so
    its DSL, runtime conf and the party's plan are kept here for whoever rebuilds a predict job from it.
    """

    __tablename__ = "model_versions"

    model_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    model_version: Mapped[str] = mapped_column(ID, primary_key=True)
    role: Mapped[str] = mapped_column(ROLE, primary_key=True)
    party_id: Mapped[int] = mapped_column(PARTY, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    job_type: Mapped[str | None] = mapped_column(String(16))
    job_status: Mapped[str | None] = mapped_column(STATUS)
    dsl: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    runtime_conf: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    party_plan: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    create_time: Mapped[datetime]


class TableGrantRow(Base):
    """A party allowed to read a table in jobs it initiates (cluster mode); ``party`` is an id or ``*``."""

    __tablename__ = "table_grants"

    namespace: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    party: Mapped[str] = mapped_column(String(32), primary_key=True)
    create_time: Mapped[datetime]


class TagRow(Base):
    """A label for model versions (FATE-Flow's ``flow tag``)."""

    __tablename__ = "tags"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    create_time: Mapped[datetime]


class ModelTagRow(Base):
    """A tag on a model version (``flow model tag-model``); versions are named by their model version."""

    __tablename__ = "model_tags"

    tag_name: Mapped[str] = mapped_column(String(255), primary_key=True)
    model_version: Mapped[str] = mapped_column(ID, primary_key=True)
    create_time: Mapped[datetime]
