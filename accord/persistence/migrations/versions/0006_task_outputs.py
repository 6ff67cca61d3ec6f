"""Reuse of finished components: what each successful task ran on and made, and where a reused one's
outputs came from.

Revision ID: 0006
Revises: 0005
Create Date: 2027-01-10
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TASK_KEY = ["job_id", "component_name", "task_version", "role", "party_id"]


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("reused_from", sa.String(400), nullable=True))
    op.create_table(
        "task_outputs",
        sa.Column("job_id", sa.String(64), nullable=False),
        sa.Column("component_name", sa.String(128), nullable=False),
        sa.Column("task_version", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("module", sa.String(128), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(*_TASK_KEY, name="pk_task_outputs"),
        sa.ForeignKeyConstraint(
            _TASK_KEY,
            [f"tasks.{column}" for column in _TASK_KEY],
            name="fk_task_outputs_tasks",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_task_outputs_fingerprint_role_party_id", "task_outputs", ["fingerprint", "role", "party_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_task_outputs_fingerprint_role_party_id", table_name="task_outputs")
    op.drop_table("task_outputs")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("reused_from")
