"""Protocol snapshots: the resolved protocol each episode is pinned to.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "protocol_snapshot",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("protocol_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("digest", name="pk_protocol_snapshot"),
    )
    op.create_index("ix_protocol_snapshot_protocol_id", "protocol_snapshot", ["protocol_id"])


def downgrade() -> None:
    op.drop_index("ix_protocol_snapshot_protocol_id", table_name="protocol_snapshot")
    op.drop_table("protocol_snapshot")
