"""The audit trail table. Append-only: database triggers (created in the migration) refuse UPDATE and
DELETE, so not even a bug or a console query can rewrite history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from storage.models import base  # noqa: F401  (names constraints; must run before this table is declared)


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_subject", "subject_type", "subject_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str = Field(max_length=64)  # "staff:3", "system", "patient:AC-7K3QXM", "cli", "telegram:123"
    action: str = Field(max_length=64)  # "escalation.acknowledged", ...
    subject_type: str | None = Field(default=None, max_length=32)
    subject_id: str | None = Field(default=None, max_length=64)
    # Ids and codes only: never message text, answers or names.
    detail_json: str | None = Field(default=None, sa_type=Text)
