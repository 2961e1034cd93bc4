"""The `aftercare` command: bot.cli with the staff console plugged into `aftercare run`."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from pydantic import ValidationError
from sqlalchemy import Engine

from bot import cli as bot_cli
from bot.clock import Clock
from bot.runtime import Companion
from bot.settings import Settings
from console.app import create_app
from console.settings import ConsoleSettings
from flows.production import one_line_each
from storage.db import session_scope
from storage.models import StaffRole
from storage.passwords import hash_password
from storage.staff import create_staff_user, set_staff_password, staff_user_by_username

DEMO_NURSE = "nurse"  # local mode's demo accounts: a nurse, and an admin for the staff and audit pages
DEMO_ADMIN = "admin"


def console_companion(settings: Settings, engine: Engine, clock: Clock) -> Companion:
    try:
        console_settings = ConsoleSettings()
    except ValidationError as exc:
        lines = "\n".join(f"  {line}" for line in one_line_each(exc))
        raise SystemExit(f"aftercare: cannot start the staff console with these settings:\n{lines}") from None
    app = create_app(console_settings, engine, clock=clock.now)
    notes: tuple[str, ...] = (
        "Log in with an account made by `aftercare staff add --username NAME --role admin`.",
    )
    if settings.local_mode:
        nurse = _demo_account(engine, DEMO_NURSE, StaffRole.NURSE, "Demo nurse")
        admin = _demo_account(engine, DEMO_ADMIN, StaffRole.ADMIN, "Demo admin")
        notes = (
            f"Local mode: log in as '{DEMO_NURSE}' with password '{nurse}' (new at every start);",
            f"  for the staff and audit pages, '{DEMO_ADMIN}' with password '{admin}'.",
        )
    return Companion(
        name="Staff console",
        url=console_settings.console_base_url + "/",
        host=console_settings.listen_host,
        port=console_settings.listen_port,
        app=app,
        notes=notes,
    )


def _demo_account(engine: Engine, username: str, role: StaffRole, display_name: str) -> str:
    """Local mode only: a demo account with a fresh random password, so the console can be tried at once. The
    nurse is a nurse (issue 11: it used to be an admin); the admin is a separate account."""
    password = secrets.token_urlsafe(9)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        existing = staff_user_by_username(session=session, username=username)
        if existing is None:
            create_staff_user(
                session=session,
                username=username,
                password_hash=hash_password(password),
                role=role,
                display_name=display_name,
                now=now,
                actor="local-mode",
            )
        else:
            assert existing.id is not None
            set_staff_password(
                session=session,
                staff_id=existing.id,
                password_hash=hash_password(password),
                actor="local-mode",
                now=now,
            )
    return password


def main(argv: Sequence[str] | None = None) -> int:
    return bot_cli.main(argv, companions=(console_companion,))


if __name__ == "__main__":
    sys.exit(main())
