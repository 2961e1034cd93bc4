"""Staff accounts and console sessions: sessions that end, two-factor enrolment and codes that work once.
(How many wrong passwords are checked: tests/storage/test_login_throttle.py.)"""

from __future__ import annotations

from datetime import timedelta

import pyotp
import pytest
from sqlmodel import Session

from storage.audit import audit_trail
from storage.errors import Conflict
from storage.login_throttle import LIMITS, claim_attempt
from storage.models import StaffRole, StaffUser
from storage.second_factor import new_secret
from storage.staff import (
    create_staff_session,
    create_staff_user,
    get_staff_user,
    list_staff_users,
    live_staff_session,
    record_login_success,
    remove_staff_totp,
    revoke_staff_session,
    set_staff_active,
    set_staff_password,
    set_staff_totp,
    staff_user_by_username,
    use_totp_code,
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


def test_a_login_is_recorded_with_where_it_came_from(session: Session) -> None:
    user = _user(session)
    record_login_success(session=session, staff_id=user.id or 0, now=NOW, detail={"address": "192.0.2.7"})
    assert user.last_login_at == NOW
    event = audit_trail(session=session)[0]
    assert (event.action, event.actor, event.detail_json) == (
        "staff.login",
        f"staff:{user.id}",
        '{"address": "192.0.2.7"}',
    )


def test_a_two_factor_code_works_once_and_only_for_the_current_key(session: Session) -> None:
    user = _user(session)
    old, new = new_secret(), new_secret()
    set_staff_totp(session=session, staff_id=user.id or 0, secret=old, actor="cli", now=NOW)
    assert use_totp_code(session=session, staff_id=user.id or 0, code=pyotp.TOTP(old).at(NOW), now=NOW)
    assert not use_totp_code(session=session, staff_id=user.id or 0, code=pyotp.TOTP(old).at(NOW), now=NOW)
    later = NOW + timedelta(seconds=30)  # the next step's code, and a phone 30 seconds slow
    assert use_totp_code(session=session, staff_id=user.id or 0, code=pyotp.TOTP(old).at(later), now=later)
    much_later = NOW + timedelta(minutes=5)
    assert not use_totp_code(
        session=session, staff_id=user.id or 0, code=pyotp.TOTP(old).at(NOW), now=much_later
    )

    set_staff_totp(session=session, staff_id=user.id or 0, secret=new, actor="staff:1", now=much_later)
    assert not use_totp_code(
        session=session, staff_id=user.id or 0, code=pyotp.TOTP(old).at(much_later), now=much_later
    )
    assert use_totp_code(
        session=session, staff_id=user.id or 0, code=pyotp.TOTP(new).at(much_later), now=much_later
    )
    remove_staff_totp(session=session, staff_id=user.id or 0, actor="cli", now=much_later)
    assert user.totp_secret is None and user.totp_enrolled_at is None
    assert not use_totp_code(session=session, staff_id=user.id or 0, code="123456", now=much_later)
    actions = [event.action for event in audit_trail(session=session)]
    assert actions[:3] == ["staff.totp_removed", "staff.totp_enrolled", "staff.totp_enrolled"]
    assert all(old not in (event.detail_json or "") for event in audit_trail(session=session))


def test_a_new_password_lifts_the_names_sign_in_locks(session: Session) -> None:
    user = _user(session)
    for _ in range(LIMITS.per_name_and_address):
        claim_attempt(session=session, username="nina.lee", address="192.0.2.7", now=NOW)
    assert not claim_attempt(session=session, username="nina.lee", address="192.0.2.7", now=NOW).allowed
    set_staff_password(
        session=session, staff_id=user.id or 0, password_hash="$argon2id$new", actor="cli", now=NOW
    )
    assert claim_attempt(session=session, username="nina.lee", address="192.0.2.7", now=NOW).allowed


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
