"""Service heartbeats: when receiving (getUpdates, the webhook) last succeeded, for `aftercare health`.

Revision ID: 0003_health
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_health"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_heartbeat",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("last_ok_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_service_heartbeat"),
    )


def downgrade() -> None:
    op.drop_table("service_heartbeat")
