"""Logging in and out. Wrong passwords count towards a lock-out (storage.staff); an unknown username costs
the same time as a known one and gets the same answer, so the form does not reveal who has an account."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.security import (
    LOGIN_NONCE_COOKIE,
    clear_session_cookie,
    login_csrf_token,
    login_csrf_valid,
    new_login_nonce,
    safe_next,
    same_origin,
    session_id_from,
    set_login_nonce_cookie,
    set_session_cookie,
)
from console.web import PublicUnit, StaffAction, render, state_of
from storage.audit import record_audit
from storage.passwords import burn_verification, hash_password, needs_rehash, verify_password
from storage.staff import (
    create_staff_session,
    is_locked_out,
    live_staff_session,
    record_login_failure,
    record_login_success,
    revoke_staff_session,
    set_staff_password,
    staff_user_by_username,
)

router = APIRouter()
ABSOLUTE_SESSION_HOURS = 12  # a long clinic day; idle expiry (CONSOLE_SESSION_IDLE_MINUTES) comes first
WRONG = "That username and password do not match an active account."
LOCKED = "Too many wrong passwords: this account is locked for 15 minutes. An administrator can help sooner."


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, unit: PublicUnit, next: str = "/") -> Response:
    state, db, now = unit
    if (
        live_staff_session(
            session=db,
            session_id=session_id_from(request, state.settings),
            now=now,
            idle_timeout=state.settings.idle_timeout,
        )
        is not None
    ):
        return RedirectResponse(safe_next(next), status_code=303)
    return _form(request, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    unit: PublicUnit,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    state, db, now = unit
    settings = state.settings
    if not same_origin(request, settings) or not login_csrf_valid(request, settings, csrf_token):
        raise HTTPException(
            status_code=403, detail="This login form has expired. Reload the page and try again."
        )
    user = staff_user_by_username(session=db, username=username) if username.strip() else None
    if user is None or not user.active:
        burn_verification(password)
        return _form(request, next_path=safe_next(next), error=WRONG, username=username, status_code=401)
    assert user.id is not None
    if is_locked_out(user, now=now):
        return _form(request, next_path=safe_next(next), error=LOCKED, username=username, status_code=429)
    if not verify_password(user.password_hash, password):
        record_login_failure(session=db, staff_id=user.id, now=now)
        error = LOCKED if is_locked_out(user, now=now) else WRONG
        return _form(request, next_path=safe_next(next), error=error, username=username, status_code=401)
    if needs_rehash(user.password_hash):
        # Before the new session: set_staff_password ends every session of the account.
        set_staff_password(
            session=db, staff_id=user.id, password_hash=hash_password(password), actor="system", now=now
        )
    record_login_success(session=db, staff_id=user.id, now=now)
    login_session = create_staff_session(
        session=db, staff_id=user.id, now=now, ttl=timedelta(hours=ABSOLUTE_SESSION_HOURS)
    )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, settings, login_session.id)
    response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(staff: StaffAction) -> Response:
    revoke_staff_session(session=staff.db, session_id=staff.login.id, now=staff.now)
    record_audit(
        session=staff.db,
        actor=staff.actor,
        action="staff.logout",
        subject_type="staff_user",
        subject_id=staff.id,
        now=staff.now,
    )
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, staff.settings)
    return response


def _form(
    request: Request, *, next_path: str, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    settings = state_of(request).settings
    nonce = new_login_nonce()
    response = render(
        request,
        "login.html",
        status_code=status_code,
        staff=None,
        error=error,
        username=username,
        next_path=next_path,
        csrf_token=login_csrf_token(settings, nonce),
    )
    set_login_nonce_cookie(response, settings, nonce)
    return response
