"""Tables for clinic staff accounts and their console sessions."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from storage.models.base import enum_type
from storage.models.enums import StaffRole


class StaffUser(SQLModel, table=True):
    __tablename__ = "staff_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    password_hash: str = Field(max_length=255)  # argon2 encoded hash, never the password
    role: StaffRole = Field(sa_type=enum_type(StaffRole))
    display_name: str = Field(max_length=100)
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime
    last_login_at: datetime | None = None


class StaffSession(SQLModel, table=True):
    """A console login. `id` is random and is the only thing kept in the browser's cookie."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, max_length=64)
    staff_id: int = Field(foreign_key="staff_user.id", index=True)
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    csrf_token: str = Field(max_length=64)
    revoked_at: datetime | None = None
