"""Job rows remember when their latest application for cores was refused, so older jobs keep their turn.

Revision ID: 0007
Revises: 0006
Create Date: 2027-02-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("cores_refused_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_jobs_cores_refused_at", ["cores_refused_at"])


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_cores_refused_at")
        batch.drop_column("cores_refused_at")
