"""Request plumbing shared by every route: the app's state, one unit of work per request, who is logged in.

`StaffPage`/`AdminPage` (GET) and `StaffAction`/`AdminAction` (POST) are FastAPI dependencies that open
one database session for the request (committed when the endpoint returns, before the response is sent;
rolled back if it raises), read the clock once, and refuse the request unless a live staff session with
the right role is behind it. Actions also check the Origin and the session's CSRF token first.
Every refusal with 403 (a nurse on an admin page, a form from another origin or without the session's
token) is written to the audit trail with the client's address, and committed before the error page.
Must not talk to Telegram or import bot/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment
from sqlalchemy import Engine
from sqlmodel import Session

from console.client_address import client_address
from console.security import same_origin, session_id_from, tokens_match
from console.settings import ConsoleSettings
from flows.clinic import Clinic
from storage.audit import ANONYMOUS, record_audit, staff_actor
from storage.db import session_scope
from storage.models import StaffRole, StaffSession, StaffUser
from storage.staff import LiveSession, live_staff_session

# A row id in a URL: a hand-edited "/patients/99999999999999999999" is a bad request (the 422 page), not a
# database error (SQLite cannot hold it; PostgreSQL's INTEGER stops at 2**31 - 1).
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


@dataclass(frozen=True, kw_only=True)
class ConsoleState:
    """Everything the routes need, built once by create_app and kept on app.state (no globals)."""

    settings: ConsoleSettings
    engine: Engine
    clinic: Clinic
    templates: Environment
    clock: Callable[[], datetime]


AUTO_REFRESH = "auto"  # query parameter of the queue's automatic refresh


class LoginRequired(Exception):
    """No live session: pages redirect to the login form, which sends the person back here after."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass(frozen=True, kw_only=True)
class Staff:
    """A request by a logged-in member of staff: who, when, and the request's unit of work."""

    request: Request
    state: ConsoleState
    db: Session
    user: StaffUser
    login: StaffSession
    now: datetime

    @property
    def id(self) -> int:
        assert self.user.id is not None
        return self.user.id

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"

    @property
    def is_admin(self) -> bool:
        return self.user.role is StaffRole.ADMIN

    @property
    def clinic(self) -> Clinic:
        return self.state.clinic

    @property
    def settings(self) -> ConsoleSettings:
        return self.state.settings

    def render(self, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        return render(self.request, template, status_code=status_code, staff=self, **context)


def state_of(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


def render(request: Request, template: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    state = state_of(request)
    page = state.templates.get_template(template)
    html = page.render(request=request, clinic=state.clinic, settings=state.settings, **context)
    return HTMLResponse(html, status_code=status_code)


def _unit_of_work(request: Request) -> Iterator[tuple[ConsoleState, Session, datetime]]:
    state = state_of(request)
    with session_scope(state.engine) as db:
        yield state, db, state.clock()


UnitOfWork = Annotated[tuple[ConsoleState, Session, datetime], Depends(_unit_of_work, scope="function")]


def _logged_in(
    request: Request, unit: UnitOfWork, *, role: StaffRole | None, is_action: bool = False
) -> Staff:
    state, db, now = unit
    session_id = session_id_from(request, state.settings)
    if request.query_params.get(AUTO_REFRESH) == "1":
        live = _without_use(db, session_id, now=now, idle_timeout=state.settings.idle_timeout)
    else:
        live = live_staff_session(
            session=db, session_id=session_id, now=now, idle_timeout=state.settings.idle_timeout
        )
    if live is None:
        # After logging in, a page is shown again; an action is not repeated (it may be stale by then).
        target = (
            "/" if is_action else request.url.path + (f"?{request.url.query}" if request.url.query else "")
        )
        raise LoginRequired(quote(target, safe="/"))
    if role is StaffRole.ADMIN and live.staff_user.role is not StaffRole.ADMIN:
        _refuse(request, unit, live, "console.forbidden", reason="not_an_admin")
        raise HTTPException(status_code=403, detail="This page is for administrators.")
    return Staff(request=request, state=state, db=db, user=live.staff_user, login=live.staff_session, now=now)


def _without_use(
    db: Session, session_id: str, *, now: datetime, idle_timeout: timedelta
) -> LiveSession | None:
    """The session if it is live, without marking it used: a page's automatic refresh is not a person using
    the console, so an unattended queue still logs out after the idle timeout. The same checks as
    storage.staff.live_staff_session, which always marks the session seen."""
    staff_session = db.get(StaffSession, session_id) if 0 < len(session_id) <= 64 else None
    if staff_session is None:
        return None
    user = db.get(StaffUser, staff_session.staff_id)
    if (
        user is None
        or not user.active
        or staff_session.revoked_at is not None
        or staff_session.expires_at <= now
        or staff_session.last_seen_at + idle_timeout <= now
    ):
        return None
    return LiveSession(staff_session=staff_session, staff_user=user)


def _page(role: StaffRole | None) -> Callable[..., Staff]:
    def dependency(request: Request, unit: UnitOfWork) -> Staff:
        return _logged_in(request, unit, role=role)

    return dependency


def _action(role: StaffRole | None) -> Callable[..., Staff]:
    def dependency(request: Request, unit: UnitOfWork, csrf_token: Annotated[str, Form()] = "") -> Staff:
        state, db, now = unit
        if not same_origin(request, state.settings):
            # Whose browser was used, if anyone's: looked up without marking the session used.
            live = _without_use(
                db,
                session_id_from(request, state.settings),
                now=now,
                idle_timeout=state.settings.idle_timeout,
            )
            _refuse(request, unit, live, "console.form_refused", reason="origin")
            raise HTTPException(
                status_code=403, detail="This form was not sent from the console's own pages."
            )
        staff = _logged_in(request, unit, role=role, is_action=True)
        if not tokens_match(staff.login.csrf_token, csrf_token):
            live = LiveSession(staff_session=staff.login, staff_user=staff.user)
            _refuse(request, unit, live, "console.form_refused", reason="csrf_token")
            raise HTTPException(
                status_code=403, detail="This form has expired. Go back, reload the page and try again."
            )
        return staff

    return dependency


def _refuse(
    request: Request,
    unit: tuple[ConsoleState, Session, datetime],
    live: LiveSession | None,
    action: str,
    *,
    reason: str,
) -> None:
    """Audit a request refused with 403, and commit it: the 403 that follows rolls the request's unit of
    work back. The path holds ids only (never a query string, which may be a search for a name)."""
    state, db, now = unit
    record_audit(
        session=db,
        actor=staff_actor(live.staff_user.id)
        if live is not None and live.staff_user.id is not None
        else ANONYMOUS,
        action=action,
        subject_type=None,
        subject_id=None,
        detail={
            "address": client_address(request, state.settings),
            "method": request.method,
            "path": request.url.path[:200],
            "reason": reason,
        },
        now=now,
    )
    db.commit()


StaffPage = Annotated[Staff, Depends(_page(None))]
AdminPage = Annotated[Staff, Depends(_page(StaffRole.ADMIN))]
StaffAction = Annotated[Staff, Depends(_action(None))]
AdminAction = Annotated[Staff, Depends(_action(StaffRole.ADMIN))]
PublicUnit = UnitOfWork
