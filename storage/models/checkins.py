"""Tables for the conversation itself: scheduled check-ins, the answers given and inline-button tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from flows.levels import Level
from storage.models.base import enum_type
from storage.models.enums import CheckInStatus


class CheckIn(SQLModel, table=True):
    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("episode_id", "key"),
        # The scheduler's query: what is scheduled and due.
        Index("ix_checkin_status_due_at", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    episode_id: int = Field(foreign_key="episode.id")
    key: str = Field(max_length=64)  # the protocol's check-in id, e.g. "day1"
    due_at: datetime
    status: CheckInStatus = Field(default=CheckInStatus.SCHEDULED, sa_type=enum_type(CheckInStatus))
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    reminder_sent_at: datetime | None = None
    sent_at: datetime | None = None
    completed_at: datetime | None = None
    # The check-in engine's serialized state; opaque to storage.
    state_json: str | None = Field(default=None, sa_type=Text)
    attempts: int = 0


class Answer(SQLModel, table=True):
    __tablename__ = "answer"

    id: int | None = Field(default=None, primary_key=True)
    checkin_id: int | None = Field(default=None, foreign_key="checkin.id", index=True)
    episode_id: int = Field(foreign_key="episode.id", index=True)
    question_id: str = Field(max_length=64)
    text: str = Field(sa_type=Text)  # what the patient typed, or the label of the button pressed
    value_json: str | None = Field(default=None, sa_type=Text)
    level: Level = Field(sa_type=enum_type(Level))
    rule: str | None = Field(default=None, max_length=64)  # the triage rule that set the level
    answered_at: datetime


class CallbackToken(SQLModel, table=True):
    """What an inline button stands for. Buttons carry only `token` (Telegram allows 64 bytes)."""

    __tablename__ = "callback_token"

    id: int | None = Field(default=None, primary_key=True)
    token: str = Field(max_length=16, unique=True)
    checkin_id: int = Field(foreign_key="checkin.id", index=True)
    question_id: str = Field(max_length=64)
    value: str = Field(max_length=64)
    created_at: datetime
    used_at: datetime | None = None
