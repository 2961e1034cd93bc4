"""Builds the staff console: `create_app(settings, engine)` returns the FastAPI app. Nothing is global.

The caller owns the engine (`aftercare run` shares one with the bot; tests pass their own database) and
may pass a clock for tests. Templates are Jinja2 with autoescape always on: patient text can never
become markup. Must not import bot/ or telegram, and never creates tables (Alembic does).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from console import formatting
from console.routes import account, admin, auth, enrol, escalations, health, patients
from console.security import SecurityHeadersMiddleware
from console.settings import ConsoleSettings
from console.web import ConsoleState, LoginRequired, render
from storage.passwords import prepare_burn

PACKAGE = Path(__file__).resolve().parent
ERROR_TITLES = {403: "Not allowed", 404: "Not found", 405: "Not allowed here", 422: "Something is missing"}


def create_app(
    settings: ConsoleSettings, engine: Engine, *, clock: Callable[[], datetime] | None = None
) -> FastAPI:
    """The console as an ASGI app on `engine`. Reads the clinic file now, so a bad one fails at start-up."""
    state = ConsoleState(
        settings=settings,
        engine=engine,
        clinic=settings.clinic,
        templates=_templates(settings),
        clock=clock or _utcnow,
    )
    app = FastAPI(title="Aftercare staff console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = state
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.secure_cookies)
    app.mount("/static", StaticFiles(directory=PACKAGE / "static"), name="static")
    for module in (auth, account, escalations, patients, enrol, admin, health):
        app.include_router(module.router)
    app.add_exception_handler(LoginRequired, _to_login)
    app.add_exception_handler(StarletteHTTPException, _error_page)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    prepare_burn()
    return app


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _templates(settings: ConsoleSettings) -> Environment:
    env = Environment(
        loader=FileSystemLoader(PACKAGE / "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["duration"] = formatting.duration
    env.filters["iso"] = formatting.iso
    env.globals["labels"] = {
        "outcome": formatting.OUTCOME_LABELS,
        "patient_status": formatting.PATIENT_STATUS_LABELS,
        "checkin_status": formatting.CHECKIN_STATUS_LABELS,
        "purpose": formatting.PURPOSE_LABELS,
    }
    env.globals["label"] = formatting.label
    env.globals["local_time"] = formatting.local_time
    env.globals["development"] = settings.development
    return env


def _to_login(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    target = "/login" if exc.next_path == "/" else f"/login?next={exc.next_path}"
    return RedirectResponse(target, status_code=303)


def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    title = ERROR_TITLES.get(exc.status_code, "Something went wrong")
    detail = exc.detail if exc.status_code in ERROR_TITLES else None
    return render(request, "error.html", status_code=exc.status_code, title=title, detail=detail, staff=None)


def _invalid_request(request: Request, exc: Exception) -> Response:
    # A hand-edited URL or a form with fields missing: say so plainly, never echo the input back.
    return render(
        request,
        "error.html",
        status_code=422,
        title=ERROR_TITLES[422],
        detail="The page was sent incomplete or with a value it cannot use. Go back and try again.",
        staff=None,
    )
