"""Initial schema: jobs, tasks, engine resources, table metadata, metrics and models.

Revision ID: 0001
Revises:
Create Date: 2024-11-22

Written out in full rather than importing the ORM models, so that later model changes cannot
silently rewrite what this revision created.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("is_initiator", sa.Boolean(), nullable=False),
        sa.Column("initiator_role", sa.String(32), nullable=False),
        sa.Column("initiator_party_id", sa.BigInteger(), nullable=False),
        sa.Column("dsl", sa.JSON(), nullable=False),
        sa.Column("runtime_conf", sa.JSON(), nullable=False),
        sa.Column("plan", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("model_id", sa.String(255), nullable=True),
        sa.Column("model_version", sa.String(64), nullable=True),
        sa.Column("engine_type", sa.String(32), nullable=True),
        sa.Column("engine_name", sa.String(32), nullable=True),
        sa.Column("cores", sa.Integer(), nullable=False),
        sa.Column("resource_in_use", sa.Boolean(), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        _time("create_time"),
        _time("update_time"),
        _time("start_time", nullable=True),
        _time("end_time", nullable=True),
        sa.Column("elapsed_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("job_id", "role", "party_id", name="pk_jobs"),
    )
    op.create_index("ix_jobs_status", "jobs", ["status"])
    op.create_index("ix_jobs_create_time", "jobs", ["create_time"])

    op.create_table(
        "tasks",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("component_name", sa.String(128), nullable=False),
        sa.Column("task_version", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("party_status", sa.String(16), nullable=False),
        sa.Column("worker_id", sa.String(128), nullable=True),
        sa.Column("run_id", sa.String(128), nullable=True),
        sa.Column("run_ip", sa.String(64), nullable=True),
        sa.Column("run_pid", sa.Integer(), nullable=True),
        sa.Column("auto_retries", sa.Integer(), nullable=False),
        _time("create_time"),
        _time("update_time"),
        _time("start_time", nullable=True),
        _time("end_time", nullable=True),
        sa.Column("elapsed_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint(
            "job_id", "component_name", "task_version", "role", "party_id", name="pk_tasks"
        ),
        sa.UniqueConstraint("task_id", "task_version", "role", "party_id", name="uq_tasks_task_id"),
        sa.ForeignKeyConstraint(
            ["job_id", "role", "party_id"],
            ["jobs.job_id", "jobs.role", "jobs.party_id"],
            name="fk_tasks_jobs",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_tasks_job_id_role_party_id", "tasks", ["job_id", "role", "party_id"])

    op.create_table(
        "engine_resources",
        sa.Column("engine_type", sa.String(32), nullable=False),
        sa.Column("engine_name", sa.String(32), nullable=False),
        sa.Column("total_cores", sa.Integer(), nullable=False),
        sa.Column("remaining_cores", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.Integer(), nullable=False),
        _time("create_time"),
        _time("update_time"),
        sa.PrimaryKeyConstraint("engine_type", "engine_name", name="pk_engine_resources"),
    )

    op.create_table(
        "table_meta",
        sa.Column("namespace", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("engine", sa.String(32), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("partitions", sa.Integer(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=True),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("id_delimiter", sa.String(16), nullable=False),
        sa.Column("extend_sid", sa.Boolean(), nullable=False),
        _time("create_time"),
        _time("update_time"),
        sa.PrimaryKeyConstraint("namespace", "name", name="pk_table_meta"),
    )

    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("component_name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.String(200), nullable=False),
        sa.Column("task_version", sa.Integer(), nullable=False),
        sa.Column("metric_namespace", sa.String(128), nullable=False),
        sa.Column("metric_name", sa.String(128), nullable=False),
        sa.Column("metric_type", sa.String(64), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("meta", sa.JSON(), nullable=False),
        _time("create_time"),
        _time("update_time"),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
        sa.UniqueConstraint(
            "job_id",
            "component_name",
            "role",
            "party_id",
            "task_version",
            "metric_namespace",
            "metric_name",
            name="uq_metrics_job_id",
        ),
    )
    op.create_index(
        "ix_metrics_job_id_component_name", "metrics", ["job_id", "component_name", "role", "party_id"]
    )

    op.create_table(
        "models",
        sa.Column("model_id", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("component_name", sa.String(128), nullable=False),
        sa.Column("storage", sa.Text(), nullable=False),
        sa.Column("checksum", sa.String(128), nullable=False),
        _time("create_time"),
        sa.PrimaryKeyConstraint(
            "model_id", "model_version", "role", "party_id", "component_name", name="pk_models"
        ),
    )


def downgrade() -> None:
    op.drop_table("models")
    op.drop_table("metrics")
    op.drop_table("table_meta")
    op.drop_table("engine_resources")
    op.drop_index("ix_tasks_job_id_role_party_id", table_name="tasks")
    op.drop_table("tasks")
    op.drop_index("ix_jobs_create_time", table_name="jobs")
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_table("jobs")
