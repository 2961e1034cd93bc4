"""Tables for red and amber flags raised to clinic staff, and the notes staff add to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from flows.levels import Level
from storage.models.base import enum_type
from storage.models.enums import AckChannel, EscalationOutcome, EscalationStatus


class Escalation(SQLModel, table=True):
    __tablename__ = "escalation"

    id: int | None = Field(default=None, primary_key=True)
    # None only for a system escalation about an update from nobody we know (an unreadable update, say).
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    episode_id: int | None = Field(default=None, foreign_key="episode.id")
    checkin_id: int | None = Field(default=None, foreign_key="checkin.id")
    answer_id: int | None = Field(default=None, foreign_key="answer.id")
    inbound_message_id: int | None = Field(default=None, foreign_key="inbound_update.id")
    level: Level = Field(sa_type=enum_type(Level))
    rule: str = Field(max_length=64)
    advice_id: str | None = Field(default=None, max_length=64)
    trigger_text: str = Field(sa_type=Text)  # the answer or message that triggered it
    status: EscalationStatus = Field(
        default=EscalationStatus.OPEN, sa_type=enum_type(EscalationStatus), index=True
    )
    created_at: datetime
    acknowledged_by: int | None = Field(default=None, foreign_key="staff_user.id")
    acknowledged_at: datetime | None = None
    acknowledged_via: AckChannel | None = Field(default=None, sa_type=enum_type(AckChannel))
    closed_by: int | None = Field(default=None, foreign_key="staff_user.id")
    closed_at: datetime | None = None
    outcome: EscalationOutcome | None = Field(default=None, sa_type=enum_type(EscalationOutcome))
    staff_alerted_at: datetime | None = None
    last_realerted_at: datetime | None = None


class EscalationNote(SQLModel, table=True):
    __tablename__ = "escalation_note"

    id: int | None = Field(default=None, primary_key=True)
    escalation_id: int = Field(foreign_key="escalation.id", index=True)
    staff_id: int = Field(foreign_key="staff_user.id")
    text: str = Field(sa_type=Text)
    created_at: datetime
