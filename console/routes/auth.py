"""Signing in and out. The steps of a sign-in, the throttle and what is audited are console/sign_in.py's;
these routes read the form and turn the outcome into a page.

A name with no account, a deactivated account and a wrong password get the same page; a refused attempt
gets the same "paused" page whatever the name. Neither route holds a database transaction while a password
is checked. A login form refused for its origin or its token is audited with the client's address.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from console.client_address import client_address
from console.formatting import local_time
from console.security import (
    LOGIN_NONCE_COOKIE,
    PendingSignIn,
    clear_pending_sign_in,
    clear_session_cookie,
    login_csrf_token,
    login_csrf_valid,
    new_login_nonce,
    pending_sign_in,
    safe_next,
    same_origin,
    session_id_from,
    set_login_nonce_cookie,
    set_pending_sign_in,
    set_session_cookie,
)
from console.sign_in import Attempt, Outcome, Verdict, check_code, check_password
from console.web import ConsoleState, PublicUnit, StaffAction, render, state_of
from storage.audit import ANONYMOUS, record_audit
from storage.db import session_scope
from storage.staff import live_staff_session, revoke_staff_session

router = APIRouter()
WRONG = "That username and password do not match an active account."
WRONG_CODE = "That code is not right. Type the six digits your authenticator app shows now."
PAUSED = (
    "Too many failed attempts: signing in from here is paused until {until}. "
    "An administrator can help sooner."
)
START_AGAIN = "That sign-in took too long, or the account changed meanwhile. Please sign in again."


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
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    state, attempt = _attempt(request, csrf_token, username=username)
    outcome = check_password(
        state.engine, attempt=attempt, password=password, two_factor_for_admins=state.settings.production
    )
    return _answer(request, state, outcome, next_path=safe_next(next), username=username, now=attempt.now)


@router.post("/login/code")
def login_code(
    request: Request,
    code: Annotated[str, Form(max_length=20)] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    state, attempt = _attempt(request, csrf_token, username="")
    pending = pending_sign_in(request, state.settings, now=attempt.now)
    if pending is None:
        outcome = Outcome(verdict=Verdict.START_AGAIN)
    else:
        outcome = check_code(
            state.engine,
            attempt=attempt,
            staff_id=pending.staff_id,
            fingerprint_was=pending.fingerprint,
            code=code,
        )
    if outcome.verdict is Verdict.WRONG and pending is not None:
        return _code_form(request, next_path=safe_next(next), error=WRONG_CODE, status_code=401)
    return _answer(request, state, outcome, next_path=safe_next(next), username="", now=attempt.now)


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


def _attempt(request: Request, csrf_token: str, *, username: str) -> tuple[ConsoleState, Attempt]:
    """Who is trying, from where, now; a form from another site or without its token is refused (403)
    and audited first."""
    state = state_of(request)
    now = state.clock()
    address = client_address(request, state.settings)
    reason = None
    if not same_origin(request, state.settings):
        reason = "origin"
    elif not login_csrf_valid(request, state.settings, csrf_token):
        reason = "csrf_token"
    if reason is not None:
        with session_scope(state.engine) as db:
            record_audit(
                session=db,
                actor=ANONYMOUS,
                action="staff.login_form_refused",
                subject_type=None,
                subject_id=None,
                detail={"address": address, "reason": reason, "path": request.url.path},
                now=now,
            )
        raise HTTPException(
            status_code=403, detail="This login form has expired. Reload the page and try again."
        )
    return state, Attempt(username=username, address=address, now=now)


def _answer(
    request: Request, state: ConsoleState, outcome: Outcome, *, next_path: str, username: str, now: datetime
) -> Response:
    settings = state.settings
    match outcome.verdict:
        case Verdict.SIGNED_IN:
            assert outcome.session is not None
            response: Response = RedirectResponse(next_path, status_code=303)
            set_session_cookie(response, settings, outcome.session.id)
            response.delete_cookie(LOGIN_NONCE_COOKIE, path="/login")
            clear_pending_sign_in(response, settings)
        case Verdict.CODE_NEEDED:
            assert outcome.staff_id is not None
            response = _code_form(request, next_path=next_path)
            pending = PendingSignIn(staff_id=outcome.staff_id, fingerprint=outcome.fingerprint)
            set_pending_sign_in(response, settings, pending, now=now)
        case Verdict.TWO_FACTOR_REQUIRED:
            response = render(
                request, "two_factor_required.html", status_code=403, staff=None, username=username
            )
        case Verdict.LOCKED:
            until = local_time(outcome.locked_until, state.clinic, "time")
            response = _form(
                request,
                next_path=next_path,
                error=PAUSED.format(until=until),
                username=username,
                status_code=429,
            )
            if outcome.locked_until is not None:
                response.headers["retry-after"] = str(
                    max(1, int((outcome.locked_until - now).total_seconds()))
                )
            clear_pending_sign_in(response, settings)
        case Verdict.START_AGAIN:
            response = _form(request, next_path=next_path, error=START_AGAIN, status_code=400)
            clear_pending_sign_in(response, settings)
        case Verdict.WRONG:
            response = _form(request, next_path=next_path, error=WRONG, username=username, status_code=401)
    return response


def _form(
    request: Request, *, next_path: str, error: str | None = None, username: str = "", status_code: int = 200
) -> Response:
    return _with_login_token(
        request,
        "login.html",
        status_code=status_code,
        error=error,
        username=username,
        next_path=next_path,
    )


def _code_form(
    request: Request, *, next_path: str, error: str | None = None, status_code: int = 200
) -> Response:
    return _with_login_token(
        request, "login_code.html", status_code=status_code, error=error, next_path=next_path
    )


def _with_login_token(request: Request, template: str, *, status_code: int, **context: object) -> Response:
    """A page with a login form: a fresh nonce in its cookie, and the token made from it in the form."""
    settings = state_of(request).settings
    nonce = new_login_nonce()
    response = render(
        request,
        template,
        status_code=status_code,
        staff=None,
        csrf_token=login_csrf_token(settings, nonce),
        **context,
    )
    set_login_nonce_cookie(response, settings, nonce)
    return response
