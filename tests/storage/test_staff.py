"""Staff accounts and console sessions: lockout after repeated failures, sessions that end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from storage.audit import audit_trail
from storage.errors import Conflict
from storage.models import StaffRole, StaffUser
from storage.staff import (
    LOCKOUT,
    MAX_FAILED_LOGINS,
    create_staff_session,
    create_staff_user,
    get_staff_user,
    is_locked_out,
    list_staff_users,
    live_staff_session,
    record_login_failure,
    record_login_success,
    revoke_staff_session,
    set_staff_active,
    set_staff_password,
    staff_user_by_username,
)
from tests.storage.factories import DAY, HOUR, NOW

IDLE = timedelta(minutes=30)


def _user(session: Session, username: str = "Nina.Lee", role: StaffRole = StaffRole.NURSE) -> StaffUser:
    return create_staff_user(
        session=session,
        username=username,
        password_hash="$argon2id$hash",
        role=role,
        display_name="Nina",
        now=NOW,
    )


def test_usernames_are_unique_whatever_their_case(session: Session) -> None:
    user = _user(session)
    assert user.username == "nina.lee" and user.active and user.role == StaffRole.NURSE
    assert staff_user_by_username(session=session, username=" NINA.LEE ") == user
    assert get_staff_user(session=session, staff_id=user.id or 0) == user
    with pytest.raises(Conflict):
        _user(session, "nina.lee")
    assert [event.action for event in audit_trail(session=session)] == ["staff.created"]


def test_repeated_wrong_passwords_lock_the_account_for_a_while(session: Session) -> None:
    user = _user(session)
    for _ in range(MAX_FAILED_LOGINS - 1):
        record_login_failure(session=session, staff_id=user.id or 0, now=NOW)
    assert not is_locked_out(user, now=NOW)

    record_login_failure(session=session, staff_id=user.id or 0, now=NOW)
    assert is_locked_out(user, now=NOW + LOCKOUT - timedelta(seconds=1))
    assert not is_locked_out(user, now=NOW + LOCKOUT)

    record_login_success(session=session, staff_id=user.id or 0, now=NOW + LOCKOUT)
    assert (user.failed_logins, user.locked_until, user.last_login_at) == (0, None, NOW + LOCKOUT)
    assert "staff.locked_out" in [event.action for event in audit_trail(session=session)]


def test_a_session_lives_until_idle_expired_or_revoked(session: Session) -> None:
    user = _user(session)
    staff_session = create_staff_session(session=session, staff_id=user.id or 0, ttl=DAY, now=NOW)
    assert len(staff_session.id) >= 32 and len(staff_session.csrf_token) >= 32

    def live(at: timedelta) -> bool:
        found = live_staff_session(
            session=session, session_id=staff_session.id, now=NOW + at, idle_timeout=IDLE
        )
        return found is not None and found.staff_user == user

    assert live(timedelta(minutes=29))
    assert live(timedelta(minutes=58))  # seen at 29 minutes: not idle
    assert not live(timedelta(minutes=58 + 30))  # idle for 30 minutes since then
    fresh = create_staff_session(session=session, staff_id=user.id or 0, ttl=HOUR, now=NOW)
    assert live_staff_session(session=session, session_id=fresh.id, now=NOW + HOUR, idle_timeout=DAY) is None

    other = create_staff_session(session=session, staff_id=user.id or 0, ttl=DAY, now=NOW)
    assert revoke_staff_session(session=session, session_id=other.id, now=NOW)
    assert not revoke_staff_session(session=session, session_id=other.id, now=NOW)
    assert live_staff_session(session=session, session_id=other.id, now=NOW, idle_timeout=IDLE) is None
    assert live_staff_session(session=session, session_id="made-up", now=NOW, idle_timeout=IDLE) is None


def test_deactivating_or_changing_the_password_ends_every_session(session: Session) -> None:
    user = _user(session)
    first = create_staff_session(session=session, staff_id=user.id or 0, ttl=DAY, now=NOW)
    set_staff_password(
        session=session, staff_id=user.id or 0, password_hash="$argon2id$new", actor="cli", now=NOW
    )
    assert live_staff_session(session=session, session_id=first.id, now=NOW, idle_timeout=IDLE) is None

    second = create_staff_session(session=session, staff_id=user.id or 0, ttl=DAY, now=NOW)
    set_staff_active(session=session, staff_id=user.id or 0, active=False, actor="staff:1", now=NOW)
    assert live_staff_session(session=session, session_id=second.id, now=NOW, idle_timeout=IDLE) is None
    assert list_staff_users(session=session, active_only=True) == []
    assert list_staff_users(session=session) == [user]
