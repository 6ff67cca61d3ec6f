"""Model versions a site holds without their job: imported archives, with their DSL and conf.

Revision ID: 0002
Revises: 0001
Create Date: 2024-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("model_id", sa.String(255), nullable=False),
        sa.Column("model_version", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("party_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("job_type", sa.String(16), nullable=True),
        sa.Column("job_status", sa.String(16), nullable=True),
        sa.Column("dsl", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("runtime_conf", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("party_plan", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model_id", "model_version", "role", "party_id", name="pk_model_versions"),
    )


def downgrade() -> None:
    op.drop_table("model_versions")
