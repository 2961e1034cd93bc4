"""Initial schema: every table, plus triggers that make audit_event append-only.

Revision ID: 0001
Revises:
Create Date: 2026-11-21

Written by hand from an autogenerate draft, using plain SQLAlchemy types so this historic record never
changes when the models or their enums do. Status columns are VARCHAR(32) holding StrEnum values.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.schema import SchemaItem

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None



def _id(table: str) -> list[SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _at(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _int(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)


def _bigint(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _fk(table: str, column: str, target: str, *, nullable: bool = False) -> list[SchemaItem]:
    referred = target.split(".")[0]
    return [
        _int(column, nullable=nullable),
        sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{referred}"),
    ]


def upgrade() -> None:
    op.create_table(
        "audit_event",
        *_id("audit_event"),
        _at("at"),
        _str("actor", 64),
        _str("action", 64),
        _str("subject_type", 32, nullable=True),
        _str("subject_id", 64, nullable=True),
        _text("detail_json", nullable=True),
    )
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    op.create_index("ix_audit_event_subject", "audit_event", ["subject_type", "subject_id"])
    _make_audit_append_only()

    op.create_table(
        "clinic",
        *_id("clinic"),
        _str("slug", 64),
        _str("name", 200),
        _at("created_at"),
        sa.UniqueConstraint("slug", name="uq_clinic_slug"),
    )

    op.create_table(
        "inbound_update",
        *_id("inbound_update"),
        _bigint("update_id"),
        _bigint("chat_id", nullable=True),
        _str("kind", 32),
        _text("payload_json"),
        _at("received_at"),
        _str("status", 32),
        _at("processed_at", nullable=True),
        _text("error", nullable=True),
        sa.UniqueConstraint("update_id", name="uq_inbound_update_update_id"),
    )
    op.create_index("ix_inbound_update_status", "inbound_update", ["status"])

    op.create_table(
        "staff_user",
        *_id("staff_user"),
        _str("username", 64),
        _str("password_hash", 255),
        _str("role", 32),
        _str("display_name", 100),
        sa.Column("active", sa.Boolean(), nullable=False),
        _int("failed_logins"),
        _at("locked_until", nullable=True),
        _at("created_at"),
        _at("last_login_at", nullable=True),
        sa.UniqueConstraint("username", name="uq_staff_user_username"),
    )

    op.create_table(
        "staff_session",
        _str("id", 64),
        *_fk("staff_session", "staff_id", "staff_user.id"),
        _at("created_at"),
        _at("last_seen_at"),
        _at("expires_at"),
        _str("csrf_token", 64),
        _at("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_staff_session"),
    )
    op.create_index("ix_staff_session_staff_id", "staff_session", ["staff_id"])

    op.create_table(
        "patient",
        *_id("patient"),
        *_fk("patient", "clinic_id", "clinic.id"),
        _str("reference", 16),
        _str("display_name", 64),
        sa.Column("diabetic", sa.Boolean(), nullable=False),
        _bigint("telegram_chat_id", nullable=True),
        _bigint("telegram_user_id", nullable=True),
        _str("status", 32),
        _at("consent_at", nullable=True),
        _at("opted_out_at", nullable=True),
        _at("created_at"),
        sa.UniqueConstraint("reference", name="uq_patient_reference"),
        sa.UniqueConstraint("telegram_chat_id", name="uq_patient_telegram_chat_id"),
    )
    op.create_index("ix_patient_clinic_id", "patient", ["clinic_id"])

    op.create_table(
        "episode",
        *_id("episode"),
        *_fk("episode", "patient_id", "patient.id"),
        _str("procedure_id", 64),
        _int("protocol_version"),
        _str("protocol_digest", 64),
        _at("performed_at"),
        _str("status", 32),
        _at("created_at"),
    )
    op.create_index("ix_episode_patient_id", "episode", ["patient_id"])

    op.create_table(
        "outbound_message",
        *_id("outbound_message"),
        *_fk("outbound_message", "patient_id", "patient.id", nullable=True),
        _bigint("chat_id"),
        _str("purpose", 32),
        _text("text"),
        _text("reply_markup_json", nullable=True),
        _str("status", 32),
        _int("attempts"),
        _at("not_before"),
        _str("lease_owner", 64, nullable=True),
        _at("lease_until", nullable=True),
        _bigint("telegram_message_id", nullable=True),
        _text("last_error", nullable=True),
        _at("created_at"),
        _at("sent_at", nullable=True),
        _str("dedupe_key", 200, nullable=True),
        sa.UniqueConstraint("dedupe_key", name="uq_outbound_message_dedupe_key"),
    )
    op.create_index("ix_outbound_message_chat_id", "outbound_message", ["chat_id"])
    op.create_index("ix_outbound_message_patient_id", "outbound_message", ["patient_id"])
    op.create_index("ix_outbound_message_status_not_before", "outbound_message", ["status", "not_before"])

    op.create_table(
        "checkin",
        *_id("checkin"),
        *_fk("checkin", "episode_id", "episode.id"),
        _str("key", 64),
        _at("due_at"),
        _str("status", 32),
        _str("lease_owner", 64, nullable=True),
        _at("lease_until", nullable=True),
        _at("reminder_sent_at", nullable=True),
        _at("sent_at", nullable=True),
        _at("completed_at", nullable=True),
        _text("state_json", nullable=True),
        _int("attempts"),
        sa.UniqueConstraint("episode_id", "key", name="uq_checkin_episode_id_key"),
    )
    op.create_index("ix_checkin_status_due_at", "checkin", ["status", "due_at"])

    op.create_table(
        "invite",
        *_id("invite"),
        *_fk("invite", "patient_id", "patient.id"),
        *_fk("invite", "episode_id", "episode.id"),
        _str("token_digest", 64),
        _at("created_at"),
        _at("expires_at"),
        _at("used_at", nullable=True),
        _bigint("used_by_chat_id", nullable=True),
        sa.UniqueConstraint("token_digest", name="uq_invite_token_digest"),
    )
    op.create_index("ix_invite_patient_id", "invite", ["patient_id"])
    op.create_index("ix_invite_episode_id", "invite", ["episode_id"])

    op.create_table(
        "answer",
        *_id("answer"),
        *_fk("answer", "checkin_id", "checkin.id", nullable=True),
        *_fk("answer", "episode_id", "episode.id"),
        _str("question_id", 64),
        _text("text"),
        _text("value_json", nullable=True),
        _str("level", 32),
        _str("rule", 64, nullable=True),
        _at("answered_at"),
    )
    op.create_index("ix_answer_checkin_id", "answer", ["checkin_id"])
    op.create_index("ix_answer_episode_id", "answer", ["episode_id"])

    op.create_table(
        "callback_token",
        *_id("callback_token"),
        _str("token", 16),
        *_fk("callback_token", "checkin_id", "checkin.id"),
        _str("question_id", 64),
        _str("value", 64),
        _at("created_at"),
        _at("used_at", nullable=True),
        sa.UniqueConstraint("token", name="uq_callback_token_token"),
    )
    op.create_index("ix_callback_token_checkin_id", "callback_token", ["checkin_id"])

    op.create_table(
        "escalation",
        *_id("escalation"),
        *_fk("escalation", "patient_id", "patient.id"),
        *_fk("escalation", "episode_id", "episode.id", nullable=True),
        *_fk("escalation", "checkin_id", "checkin.id", nullable=True),
        *_fk("escalation", "answer_id", "answer.id", nullable=True),
        *_fk("escalation", "inbound_message_id", "inbound_update.id", nullable=True),
        _str("level", 32),
        _str("rule", 64),
        _str("advice_id", 64, nullable=True),
        _text("trigger_text"),
        _str("status", 32),
        _at("created_at"),
        *_fk("escalation", "acknowledged_by", "staff_user.id", nullable=True),
        _at("acknowledged_at", nullable=True),
        _str("acknowledged_via", 32, nullable=True),
        *_fk("escalation", "closed_by", "staff_user.id", nullable=True),
        _at("closed_at", nullable=True),
        _str("outcome", 32, nullable=True),
        _at("staff_alerted_at", nullable=True),
        _at("last_realerted_at", nullable=True),
    )
    op.create_index("ix_escalation_patient_id", "escalation", ["patient_id"])
    op.create_index("ix_escalation_status", "escalation", ["status"])

    op.create_table(
        "escalation_note",
        *_id("escalation_note"),
        *_fk("escalation_note", "escalation_id", "escalation.id"),
        *_fk("escalation_note", "staff_id", "staff_user.id"),
        _text("text"),
        _at("created_at"),
    )
    op.create_index("ix_escalation_note_escalation_id", "escalation_note", ["escalation_id"])


def _make_audit_append_only() -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit rows, whoever asks."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event "
                "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
            )
        return
    op.execute(
        "CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_event is append-only' USING ERRCODE = 'insufficient_privilege'; "
        "END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_event "
        "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()"
    )
    op.execute(
        "CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()"
    )


def downgrade() -> None:
    for table in (
        "escalation_note",
        "escalation",
        "callback_token",
        "answer",
        "invite",
        "checkin",
        "outbound_message",
        "episode",
        "patient",
        "staff_session",
        "staff_user",
        "inbound_update",
        "clinic",
        "audit_event",  # its triggers go with it
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name != "sqlite":
        op.execute("DROP FUNCTION audit_event_append_only()")
