"""Your own account: who you are signed in as, and two-factor sign-in (an authenticator app's code as well
as the password), which any member of staff can set up here.

Setting it up has a confirm step: a new secret is shown (as a setup key and an otpauth:// link) and is
saved only when a code made from it is typed back, so nobody ends up enrolled on an app that does not
have it. Turning it off, or moving it to a new phone, needs a current code (a session left open is not
enough), and is refused to an administrator in production, where administrators must sign in with it.
A lost phone: whoever runs the server resets it (`aftercare staff totp USERNAME --remove`).
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from console.client_address import client_address
from console.sign_in import Attempt, Verdict, check_code_for
from console.web import Staff, StaffAction, StaffPage
from storage.models import StaffRole
from storage.second_factor import accepted_step, grouped, new_secret, provisioning_uri
from storage.staff import remove_staff_totp, set_staff_totp

router = APIRouter(prefix="/account")
SECRET = re.compile(r"[A-Z2-7]{32}")  # what storage.second_factor.new_secret makes
WRONG_CODE = "That code is not right. Type the six digits the app shows now."


@router.get("")
def account_page(staff: StaffPage, done: str | None = None) -> Response:
    return _page(staff, done=done)


@router.post("/two-factor/start")
def start(staff: StaffAction) -> Response:
    if staff.user.totp_secret is not None:
        return _already_on(staff)
    return _setup(staff, new_secret())


@router.post("/two-factor/confirm")
def confirm(
    staff: StaffAction,
    secret: Annotated[str, Form(max_length=64)] = "",
    code: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    if staff.user.totp_secret is not None:
        return _already_on(staff)
    if not SECRET.fullmatch(secret):
        return _setup(staff, new_secret(), status_code=400)
    step = accepted_step(secret, code, now=staff.now, after_step=None)
    if step is None:
        return _setup(staff, secret, error=WRONG_CODE, status_code=400)
    set_staff_totp(
        session=staff.db, staff_id=staff.id, secret=secret, actor=staff.actor, now=staff.now, used_step=step
    )
    return RedirectResponse("/account?done=enrolled", status_code=303)


@router.post("/two-factor/remove")
def remove(staff: StaffAction, code: Annotated[str, Form(max_length=20)] = "") -> Response:
    if staff.user.totp_secret is None:
        return RedirectResponse("/account", status_code=303)
    if _must_keep(staff):
        return _page(
            staff, error="Administrators must sign in with two-factor sign-in here.", status_code=409
        )
    attempt = Attempt(
        username=staff.user.username, address=client_address(staff.request, staff.settings), now=staff.now
    )
    outcome = check_code_for(staff.db, attempt=attempt, user=staff.user, code=code)
    if outcome.verdict is Verdict.LOCKED:
        return _page(staff, error="Too many wrong codes: try again in 15 minutes.", status_code=429)
    if outcome.verdict is not Verdict.SIGNED_IN:
        return _page(staff, error=WRONG_CODE, status_code=400)
    remove_staff_totp(session=staff.db, staff_id=staff.id, actor=staff.actor, now=staff.now)
    return RedirectResponse("/account?done=removed", status_code=303)


def _already_on(staff: Staff) -> Response:
    """A new app replaces the old one only after turning it off with a current code: otherwise a session
    left open would be enough to move someone's second factor onto another phone."""
    return _page(
        staff,
        error="Two-factor sign-in is already on. Turn it off first, with a code from the app.",
        status_code=409,
    )


def _must_keep(staff: Staff) -> bool:
    return staff.settings.production and staff.user.role is StaffRole.ADMIN


def _page(
    staff: Staff, *, done: str | None = None, error: str | None = None, status_code: int = 200
) -> Response:
    return staff.render(
        "account.html",
        status_code=status_code,
        done=done,
        error=error,
        must_keep=_must_keep(staff),
        section="account",
    )


def _setup(staff: Staff, secret: str, *, error: str | None = None, status_code: int = 200) -> Response:
    return staff.render(
        "two_factor_setup.html",
        status_code=status_code,
        secret=secret,
        setup_key=grouped(secret),
        uri=provisioning_uri(secret, username=staff.user.username),
        error=error,
        section="account",
    )
