"""Tables for who is followed up: clinics, patients, their episodes (one per procedure) and invites.

Minimal identifiable data by design: a first name or initials and a random public reference. No NHS
number, date of birth or address lives here; the clinic's own records hold those.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

from storage.models.base import enum_type
from storage.models.enums import EpisodeStatus, PatientStatus


class Clinic(SQLModel, table=True):
    __tablename__ = "clinic"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    created_at: datetime


class Patient(SQLModel, table=True):
    __tablename__ = "patient"

    id: int | None = Field(default=None, primary_key=True)
    clinic_id: int = Field(foreign_key="clinic.id", index=True)
    # The only identifier shown in staff chats and alerts, e.g. "AC-7K3QXM".
    reference: str = Field(max_length=16, unique=True)
    display_name: str = Field(max_length=64)  # first name or initials only
    diabetic: bool = False
    # Telegram ids exceed 32 bits.
    telegram_chat_id: int | None = Field(default=None, unique=True, sa_type=BigInteger)
    telegram_user_id: int | None = Field(default=None, sa_type=BigInteger)
    status: PatientStatus = Field(default=PatientStatus.INVITED, sa_type=enum_type(PatientStatus))
    consent_at: datetime | None = None
    opted_out_at: datetime | None = None
    created_at: datetime


class Episode(SQLModel, table=True):
    """One procedure and its follow-up, pinned to the exact protocol file the patient was enrolled on."""

    __tablename__ = "episode"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    procedure_id: str = Field(max_length=64)
    protocol_version: int
    protocol_digest: str = Field(max_length=64)  # sha256 hex of the protocol file
    performed_at: datetime
    status: EpisodeStatus = Field(default=EpisodeStatus.ACTIVE, sa_type=enum_type(EpisodeStatus))
    created_at: datetime


class Invite(SQLModel, table=True):
    """A single-use Telegram deep-link token. Only its SHA-256 is stored, never the token."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    episode_id: int = Field(foreign_key="episode.id", index=True)
    token_digest: str = Field(max_length=64, unique=True)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    used_by_chat_id: int | None = Field(default=None, sa_type=BigInteger)
