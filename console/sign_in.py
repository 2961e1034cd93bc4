"""Signing in to the console: a password, then a code from an authenticator app for an account enrolled in
two-factor sign-in. The routes (console/routes/auth.py) turn the Outcome into a page.

Every attempt goes the same way whether or not the username has an account, so neither the answer nor the
work done tells them apart:
1. claim it from the throttle (storage.login_throttle) and look the name up, in one short transaction; a
   refused attempt is audited and answered at once, for a real name as for an unknown one;
2. check the password outside any transaction (argon2 takes about a tenth of a second, and on SQLite a
   transaction holds the database's write lock), against the account's hash or, for a name no active
   account has, a dummy hash made with the same parameters;
3. record the verdict in a second short transaction: a right password gives its attempt back and opens a
   session (or asks for the code); a wrong one stays counted, is audited, and so is the lock it started.
Every event audited here carries the client's address. Must not log or store a password or a code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine
from sqlmodel import Session

from console.client_address import throttled_address
from storage import login_throttle
from storage.audit import ANONYMOUS, record_audit
from storage.db import session_scope
from storage.login_throttle import Claim
from storage.models import StaffRole, StaffSession, StaffUser
from storage.passwords import burn_verification, hash_password, needs_rehash, verify_password
from storage.staff import (
    create_staff_session,
    get_staff_user,
    record_login_success,
    set_staff_password,
    staff_user_by_username,
    use_totp_code,
)

ABSOLUTE_SESSION = timedelta(
    hours=12
)  # a long clinic day; idle expiry (CONSOLE_SESSION_IDLE_MINUTES) comes first


class Verdict(StrEnum):
    SIGNED_IN = "signed_in"
    WRONG = "wrong"  # wrong password or code, or no such active account: the same answer
    LOCKED = "locked"  # refused by the throttle, or this wrong attempt reached a limit
    CODE_NEEDED = "code_needed"  # the password was right; the account has two-factor sign-in
    TWO_FACTOR_REQUIRED = "two_factor_required"  # an admin in production who has not enrolled yet
    START_AGAIN = "start_again"  # a code for a sign-in that expired, or whose account changed meanwhile


@dataclass(frozen=True, kw_only=True)
class Attempt:
    """Who is trying, from where, when. `username` as typed; `address` the client's (for the audit)."""

    username: str
    address: str
    now: datetime


@dataclass(frozen=True, kw_only=True)
class Outcome:
    verdict: Verdict
    locked_until: datetime | None = None
    session: StaffSession | None = None  # SIGNED_IN: the new console session
    staff_id: int | None = None  # CODE_NEEDED: whose code to ask for
    fingerprint: str = ""  # CODE_NEEDED: of the password hash, so a password change ends the pending sign-in


def check_password(
    engine: Engine, *, attempt: Attempt, password: str, two_factor_for_admins: bool
) -> Outcome:
    with session_scope(engine) as db:
        claim = _claim(db, attempt, attempt.username)
        user = _account(db, attempt.username)
        if not claim.allowed:
            _refused(db, attempt, claim, user)
            return Outcome(verdict=Verdict.LOCKED, locked_until=claim.locked_until)
    if user is None or not user.active:
        burn_verification(password)
        right = False
    else:
        right = verify_password(user.password_hash, password)
    # A stronger hash, made now rather than in the transaction below (argon2 again: no write lock held).
    rehashed = (
        hash_password(password) if right and user is not None and needs_rehash(user.password_hash) else None
    )
    with session_scope(engine) as db:
        current = _unchanged(db, user) if right else None
        if current is None:
            return _wrong(db, attempt, claim, user, action="staff.login_failed")
        user = current
        assert user.id is not None
        login_throttle.give_back(session=db, claim=claim, now=attempt.now)
        if user.totp_secret is not None:
            _audit(db, attempt, "staff.password_accepted", user)
            return Outcome(
                verdict=Verdict.CODE_NEEDED, staff_id=user.id, fingerprint=fingerprint(user.password_hash)
            )
        if two_factor_for_admins and user.role is StaffRole.ADMIN:
            _audit(db, attempt, "staff.login_refused", user, reason="two_factor_not_enrolled")
            return Outcome(verdict=Verdict.TWO_FACTOR_REQUIRED)
        if rehashed is not None:
            # Before the new session: set_staff_password ends every session of the account.
            set_staff_password(
                session=db, staff_id=user.id, password_hash=rehashed, actor="system", now=attempt.now
            )
        return _signed_in(db, attempt, user, second_factor=False)


def check_code(
    engine: Engine, *, attempt: Attempt, staff_id: int, fingerprint_was: str, code: str
) -> Outcome:
    """The second step: `staff_id` and `fingerprint_was` come from the signed pending sign-in. The code
    check is cheap (no argon2), so it is all one transaction."""
    with session_scope(engine) as db:
        user = get_staff_user(session=db, staff_id=staff_id)
        if (
            user is None
            or not user.active
            or user.totp_secret is None
            or fingerprint(user.password_hash) != fingerprint_was
        ):
            return Outcome(verdict=Verdict.START_AGAIN)
        claim = _claim(db, attempt, user.username)
        if not claim.allowed:
            _refused(db, attempt, claim, user)
            return Outcome(verdict=Verdict.LOCKED, locked_until=claim.locked_until)
        if not use_totp_code(session=db, staff_id=staff_id, code=code, now=attempt.now):
            return _wrong(db, attempt, claim, user, action="staff.second_factor_failed")
        login_throttle.give_back(session=db, claim=claim, now=attempt.now)
        return _signed_in(db, attempt, user, second_factor=True)


def check_code_for(db: Session, *, attempt: Attempt, user: StaffUser, code: str) -> Outcome:
    """A code asked of someone already signed in (to turn two-factor sign-in off), throttled and audited
    as a sign-in's code is, inside the caller's transaction."""
    assert user.id is not None
    claim = _claim(db, attempt, user.username)
    if not claim.allowed:
        _refused(db, attempt, claim, user)
        return Outcome(verdict=Verdict.LOCKED, locked_until=claim.locked_until)
    if not use_totp_code(session=db, staff_id=user.id, code=code, now=attempt.now):
        return _wrong(db, attempt, claim, user, action="staff.second_factor_failed")
    login_throttle.give_back(session=db, claim=claim, now=attempt.now)
    return Outcome(verdict=Verdict.SIGNED_IN)


def fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


def _claim(db: Session, attempt: Attempt, username: str) -> Claim:
    return login_throttle.claim_attempt(
        session=db, username=username, address=throttled_address(attempt.address), now=attempt.now
    )


def _account(db: Session, username: str) -> StaffUser | None:
    """The account a typed name belongs to. A name with control characters, or longer than any username,
    is nobody's (and PostgreSQL refuses NUL in a query, so it is never sent there)."""
    name = username.strip()
    if not name or len(name) > login_throttle.NAME_LENGTH or not name.isprintable():
        return None
    return staff_user_by_username(session=db, username=name)


def _unchanged(db: Session, checked: StaffUser | None) -> StaffUser | None:
    """The account as it is now, if it is still active with the password just checked (it may have been
    deactivated, or given a new password, while that password was being checked)."""
    if checked is None or checked.id is None:
        return None
    current = get_staff_user(session=db, staff_id=checked.id)
    if current is None or not current.active or current.password_hash != checked.password_hash:
        return None
    return current


def _signed_in(db: Session, attempt: Attempt, user: StaffUser, *, second_factor: bool) -> Outcome:
    assert user.id is not None
    record_login_success(
        session=db,
        staff_id=user.id,
        now=attempt.now,
        detail={"address": attempt.address, "second_factor": second_factor},
    )
    session = create_staff_session(session=db, staff_id=user.id, now=attempt.now, ttl=ABSOLUTE_SESSION)
    return Outcome(verdict=Verdict.SIGNED_IN, session=session)


def _wrong(db: Session, attempt: Attempt, claim: Claim, user: StaffUser | None, *, action: str) -> Outcome:
    _audit(db, attempt, action, user)
    if not claim.locks:
        return Outcome(verdict=Verdict.WRONG)
    _audit(db, attempt, "staff.locked_out", user, counters=sorted(claim.locks), until=claim.locked_until)
    return Outcome(verdict=Verdict.LOCKED, locked_until=claim.locked_until)


def _refused(db: Session, attempt: Attempt, claim: Claim, user: StaffUser | None) -> None:
    _audit(db, attempt, "staff.login_refused", user, counter=claim.refused_by, until=claim.locked_until)


def _audit(db: Session, attempt: Attempt, action: str, user: StaffUser | None, **detail: object) -> None:
    """An event about the account the name belongs to, or about no account (never the name as typed: it
    may be a password typed into the wrong box). The actor is whoever is at the keyboard: unknown."""
    record_audit(
        session=db,
        actor=ANONYMOUS,
        action=action,
        subject_type="staff_user",
        subject_id=user.id if user is not None else None,
        detail={"address": attempt.address, "account": "known" if user is not None else "unknown", **detail},
        now=attempt.now,
    )
