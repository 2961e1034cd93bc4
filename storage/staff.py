"""Staff accounts and console sessions: creation, lookups, login bookkeeping, two-factor enrolment and
session expiry.

This module stores the encoded password hash only (storage.passwords makes it). How many wrong passwords
are checked is storage.login_throttle's job. A session id is random and is the only thing the browser
keeps; a session ends when revoked, when it expires, after `idle_timeout` without a request, or when its
staff account is deactivated.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from storage import login_throttle, second_factor
from storage._sql import locked
from storage.audit import record_audit, staff_actor
from storage.errors import Conflict
from storage.models import StaffRole, StaffSession, StaffUser

# Touch last_seen_at at most this often: every console request would otherwise be a write.
LAST_SEEN_GRANULARITY = timedelta(minutes=1)


@dataclass(frozen=True, kw_only=True)
class LiveSession:
    staff_session: StaffSession
    staff_user: StaffUser


def normalize_username(username: str) -> str:
    return username.strip().lower()


def create_staff_user(
    *,
    session: Session,
    username: str,
    password_hash: str,
    role: StaffRole,
    display_name: str,
    now: datetime,
    actor: str = "cli",
) -> StaffUser:
    name = normalize_username(username)
    if not name:
        raise ValueError("username must not be empty")
    if staff_user_by_username(session=session, username=name) is not None:
        raise Conflict(f"username {name!r} is taken")
    user = StaffUser(
        username=name,
        password_hash=password_hash,
        role=role,
        display_name=display_name.strip(),
        created_at=now,
    )
    session.add(user)
    session.flush()
    _audit(session, actor, "created", user, now, {"role": role})
    return user


def get_staff_user(*, session: Session, staff_id: int) -> StaffUser | None:
    return session.get(StaffUser, staff_id)


def staff_user_by_username(*, session: Session, username: str) -> StaffUser | None:
    query = select(StaffUser).where(StaffUser.username == normalize_username(username))
    return session.exec(query).first()


def list_staff_users(*, session: Session, active_only: bool = False) -> list[StaffUser]:
    query = select(StaffUser)
    if active_only:
        query = query.where(col(StaffUser.active).is_(True))
    return list(session.exec(query.order_by(col(StaffUser.username))).all())


def record_login_success(
    *, session: Session, staff_id: int, now: datetime, detail: dict[str, object] | None = None
) -> StaffUser:
    user = locked(session, StaffUser, staff_id)
    user.last_login_at = now
    session.flush()
    _audit(session, staff_actor(staff_id), "login", user, now, detail)
    return user


def set_staff_password(
    *, session: Session, staff_id: int, password_hash: str, actor: str, now: datetime
) -> StaffUser:
    """Replace the password hash, end every session of the account and lift its sign-in locks."""
    user = locked(session, StaffUser, staff_id)
    user.password_hash = password_hash
    session.flush()
    revoke_staff_sessions(session=session, staff_id=staff_id, now=now)
    login_throttle.clear_name(session=session, username=user.username)
    _audit(session, actor, "password_changed", user, now, None)
    return user


def set_staff_totp(
    *, session: Session, staff_id: int, secret: str, actor: str, now: datetime, used_step: int | None = None
) -> StaffUser:
    """Enrol (or re-enrol) the account in two-factor sign-in with `secret`; codes of an earlier secret
    stop working at once. `used_step`: the step of the code typed to confirm it, which then cannot sign
    in. The secret itself is never written to the audit trail."""
    user = locked(session, StaffUser, staff_id)
    user.totp_secret = secret
    user.totp_enrolled_at = now
    user.totp_last_step = used_step
    session.flush()
    _audit(session, actor, "totp_enrolled", user, now, None)
    return user


def remove_staff_totp(*, session: Session, staff_id: int, actor: str, now: datetime) -> StaffUser:
    """Turn two-factor sign-in off for the account (a lost phone: enrol again afterwards)."""
    user = locked(session, StaffUser, staff_id)
    if user.totp_secret is None:
        return user
    user.totp_secret = None
    user.totp_enrolled_at = None
    user.totp_last_step = None
    session.flush()
    _audit(session, actor, "totp_removed", user, now, None)
    return user


def use_totp_code(*, session: Session, staff_id: int, code: str, now: datetime) -> bool:
    """Whether `code` is the account's current two-factor code, and not one already used: under the row
    lock, so two requests carrying the same code cannot both succeed."""
    user = locked(session, StaffUser, staff_id)
    if user.totp_secret is None:
        return False
    step = second_factor.accepted_step(user.totp_secret, code, now=now, after_step=user.totp_last_step)
    if step is None:
        return False
    user.totp_last_step = step
    session.flush()
    return True


def set_staff_active(
    *, session: Session, staff_id: int, active: bool, actor: str, now: datetime
) -> StaffUser:
    """Deactivate (ending every session) or reactivate an account. Accounts are never deleted."""
    user = locked(session, StaffUser, staff_id)
    if user.active == active:
        return user
    user.active = active
    session.flush()
    if not active:
        revoke_staff_sessions(session=session, staff_id=staff_id, now=now)
    _audit(session, actor, "activated" if active else "deactivated", user, now, None)
    return user


def create_staff_session(*, session: Session, staff_id: int, ttl: timedelta, now: datetime) -> StaffSession:
    staff_session = StaffSession(
        id=secrets.token_urlsafe(32),
        staff_id=staff_id,
        created_at=now,
        last_seen_at=now,
        expires_at=now + ttl,
        csrf_token=secrets.token_urlsafe(32),
    )
    session.add(staff_session)
    session.flush()
    return staff_session


def live_staff_session(
    *, session: Session, session_id: str, now: datetime, idle_timeout: timedelta
) -> LiveSession | None:
    """The session and its account if the session may still be used (and mark it seen), else None."""
    if not session_id or len(session_id) > 64:
        return None
    row = session.exec(
        select(StaffSession, StaffUser)
        .join(StaffUser, col(StaffUser.id) == StaffSession.staff_id)
        .where(StaffSession.id == session_id)
    ).first()
    if row is None:
        return None
    staff_session, user = row
    if (
        staff_session.revoked_at is not None
        or staff_session.expires_at <= now
        or staff_session.last_seen_at + idle_timeout <= now
        or not user.active
    ):
        return None
    if now - staff_session.last_seen_at >= LAST_SEEN_GRANULARITY:
        staff_session.last_seen_at = now
        session.flush()
    return LiveSession(staff_session=staff_session, staff_user=user)


def revoke_staff_session(*, session: Session, session_id: str, now: datetime) -> bool:
    """Log out. False if there was no such live session."""
    staff_session = session.get(StaffSession, session_id, with_for_update=True, populate_existing=True)
    if staff_session is None or staff_session.revoked_at is not None:
        return False
    staff_session.revoked_at = now
    session.flush()
    return True


def revoke_staff_sessions(*, session: Session, staff_id: int, now: datetime) -> int:
    """End every live session of one account; returns how many."""
    query = (
        select(StaffSession)
        .where(StaffSession.staff_id == staff_id, col(StaffSession.revoked_at).is_(None))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    live = list(session.exec(query).all())
    for staff_session in live:
        staff_session.revoked_at = now
    session.flush()
    return len(live)


def _audit(
    session: Session, actor: str, verb: str, user: StaffUser, now: datetime, detail: dict[str, object] | None
) -> None:
    record_audit(
        session=session,
        actor=actor,
        action=f"staff.{verb}",
        subject_type="staff_user",
        subject_id=user.id,
        detail=detail,
        now=now,
    )
