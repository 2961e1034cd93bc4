"""Tables for clinic staff accounts, their console sessions and the sign-in throttle's counters."""

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
    created_at: datetime
    last_login_at: datetime | None = None
    # Two-factor sign-in (TOTP, RFC 6238): the base32 secret the authenticator app shares, never logged or
    # shown again after enrolment; and the last 30-second step a code was accepted for, so a code
    # overheard or replayed cannot be used a second time.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enrolled_at: datetime | None = None
    totp_last_step: int | None = None  # unix time // 30: INTEGER holds it for thousands of years


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


class LoginThrottle(SQLModel, table=True):
    """One counter of failed sign-ins (storage.login_throttle): for a username from one address, for an
    address, or for a username from everywhere. Keyed by what was typed, whether or not an account has it."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0  # counted since window_started_at
    window_started_at: datetime
    locked_until: datetime | None = None
    last_signed_in_at: datetime | None = None  # name-at-address counters: a right password from here
    keep_until: datetime = Field(index=True)  # after this the row says nothing any more: it may be deleted
