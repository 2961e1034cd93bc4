"""The outbox: urgent messages first, and each send attempt's state.

- ``priority`` (0 urgent, 1 reply, 2 routine; storage.models.Priority): the claim takes the smallest first,
  through an index on the unfinished rows only. Messages already queued get one from their purpose:
  advice is urgent, scheduled questions and reminders routine, the rest replies.
- ``attempt_started_at``: when the current attempt's request may have gone to Telegram.
- ``unanswered_attempts``: attempts that went out and got no answer (the message may have arrived).

Revision ID: 0005_outbox
Revises: 0004_staffauth
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_outbox"
down_revision: str | Sequence[str] | None = "0004_staffauth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "status NOT IN ('sent', 'dead')"


def upgrade() -> None:
    with op.batch_alter_table("outbound_message") as batch:
        # A server default only to fill the rows already there; every insert names the value.
        batch.add_column(sa.Column("priority", sa.SmallInteger(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("attempt_started_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("unanswered_attempts", sa.Integer(), nullable=False, server_default="0"))
    op.execute("UPDATE outbound_message SET priority = 0 WHERE purpose = 'advice'")
    op.execute("UPDATE outbound_message SET priority = 2 WHERE purpose IN ('checkin_question', 'reminder')")
    op.create_index(
        "ix_outbound_message_unfinished_priority",
        "outbound_message",
        ["priority", "id"],
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    )


def downgrade() -> None:
    op.drop_index("ix_outbound_message_unfinished_priority", table_name="outbound_message")
    with op.batch_alter_table("outbound_message") as batch:
        batch.drop_column("unanswered_attempts")
        batch.drop_column("attempt_started_at")
        batch.drop_column("priority")
