"""Inbound updates keyed by bot, update_id and content; quarantine; the listener's health; system escalations.

Revision ID: 0003_inbound
Revises: 0002
Create Date: 2026-12-02

- inbound_update gains bot_id (the bot's own Telegram id; NULL on rows from before, adopted by the bot at its
  next start) and content_sha256 (of the canonical JSON). update_id is no longer unique on its own: Telegram
  reuses ids (chosen at random after a week without updates; a new token numbers from its own start), so the
  same update is now (bot_id, update_id, content_sha256). Existing payloads are rewritten in canonical form
  (sorted keys, ASCII only: the same content) and hashed.
- inbound_listener: one row per bot, when Telegram last delivered updates and how often processing restarted.
- escalation.patient_id may be NULL: a system escalation about an update from nobody we know.

On SQLite the two tables are rebuilt (batch mode); storage.migrate runs migrations there with foreign keys
off and checks them before commit, as SQLite's own procedure for altering tables asks.
"""

import hashlib
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_inbound"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 500


def _canonical(payload_json: str) -> str:
    # As storage.inbound.canonical_json, written out here so this record never changes with the code.
    return json.dumps(json.loads(payload_json), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def upgrade() -> None:
    with op.batch_alter_table("inbound_update") as batch:
        batch.add_column(sa.Column("bot_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("content_sha256", sa.String(64), nullable=True))

    connection = op.get_bind()
    updates = sa.table(
        "inbound_update",
        sa.column("id", sa.Integer()),
        sa.column("payload_json", sa.Text()),
        sa.column("content_sha256", sa.String(64)),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(updates.c.id, updates.c.payload_json)
            .where(updates.c.id > last)
            .order_by(updates.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        for row_id, payload_json in rows:
            canonical = _canonical(payload_json)
            connection.execute(
                sa.update(updates)
                .where(updates.c.id == row_id)
                .values(
                    payload_json=canonical,
                    content_sha256=hashlib.sha256(canonical.encode("ascii")).hexdigest(),
                )
            )
        last = rows[-1][0]

    with op.batch_alter_table("inbound_update") as batch:
        batch.alter_column("content_sha256", existing_type=sa.String(64), nullable=False)
        batch.drop_constraint("uq_inbound_update_update_id", type_="unique")
        batch.create_unique_constraint(
            "uq_inbound_update_bot_update_content", ["bot_id", "update_id", "content_sha256"]
        )
        batch.create_index("ix_inbound_update_update_id", ["update_id"])

    op.create_table(
        "inbound_listener",
        sa.Column("bot_id", sa.BigInteger(), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("last_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("processing_restarts", sa.Integer(), nullable=False),
        sa.Column("last_restart_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_restart_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("bot_id", name="pk_inbound_listener"),
    )

    with op.batch_alter_table("escalation") as batch:
        batch.alter_column("patient_id", existing_type=sa.Integer(), nullable=True)


def downgrade() -> None:
    # Escalations without a patient and repeated update_ids cannot go back to the old schema: a downgrade
    # refuses rather than delete them.
    connection = op.get_bind()
    orphans = connection.execute(sa.text("SELECT count(*) FROM escalation WHERE patient_id IS NULL")).scalar()
    repeats = connection.execute(
        sa.text("SELECT count(*) - count(DISTINCT update_id) FROM inbound_update")
    ).scalar()
    if orphans or repeats:
        raise RuntimeError(
            f"cannot downgrade: {orphans} escalations have no patient and {repeats} update ids repeat"
        )
    with op.batch_alter_table("escalation") as batch:
        batch.alter_column("patient_id", existing_type=sa.Integer(), nullable=False)
    op.drop_table("inbound_listener")
    with op.batch_alter_table("inbound_update") as batch:
        batch.drop_index("ix_inbound_update_update_id")
        batch.drop_constraint("uq_inbound_update_bot_update_content", type_="unique")
        batch.create_unique_constraint("uq_inbound_update_update_id", ["update_id"])
        batch.drop_column("content_sha256")
        batch.drop_column("bot_id")
