"""Two-factor sign-in for staff (TOTP): set up on the account page with a confirm step, asked for after the
password, each code working once, wrong codes throttled like passwords; in production an administrator
cannot sign in without it and is told how to enrol."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import httpx
import pyotp
from fastapi.testclient import TestClient

from console.app import create_app
from console.settings import Environment
from storage.audit import audit_trail
from storage.db import session_scope
from storage.login_throttle import LIMITS
from storage.models import StaffRole
from storage.second_factor import new_secret
from storage.staff import set_staff_password, set_staff_totp, staff_user_by_username
from tests.console.conftest import PASSWORD, Console, csrf_of, login, make_settings, post

PRODUCTION_URL = "https://console.example.nhs.uk"


def _enrol(console: Console, username: str) -> pyotp.TOTP:
    secret = new_secret()
    with session_scope(console.engine) as db:
        user = staff_user_by_username(session=db, username=username)
        assert user is not None and user.id is not None
        set_staff_totp(session=db, staff_id=user.id, secret=secret, actor="test", now=console.clock.now)
    return pyotp.TOTP(secret)


def _code(client: TestClient, page: httpx.Response, code: str) -> httpx.Response:
    return client.post("/login/code", data={"code": code, "csrf_token": csrf_of(page.text)})


def _actions(console: Console) -> list[str]:
    with console.db() as db:
        return [event.action for event in reversed(audit_trail(session=db, subject_type="staff_user"))]


def test_a_nurse_sets_up_two_factor_sign_in_only_once_a_code_from_the_app_matches(
    console: Console, nurse: TestClient
) -> None:
    account = nurse.get("/account")
    assert account.status_code == 200 and "Off: you sign in with your password only" in account.text
    setup = post(nurse, "/account/two-factor/start", page="/account")
    secret = re.search(r'name="secret" value="([A-Z2-7]{32})"', setup.text)
    assert setup.status_code == 200 and secret is not None
    totp = pyotp.TOTP(secret.group(1))
    assert f"otpauth://totp/Aftercare:nina?secret={secret.group(1)}" in setup.text.replace("&amp;", "&")
    assert " ".join(re.findall(".{4}", secret.group(1))) in setup.text  # the setup key, to type by hand
    wrong = post(
        nurse, "/account/two-factor/confirm", {"secret": secret.group(1), "code": "000000"}, page="/account"
    )
    assert wrong.status_code == 400 and "not right" in wrong.text and secret.group(1) in wrong.text
    with console.db() as db:
        assert staff_user_by_username(session=db, username="nina").totp_secret is None  # type: ignore[union-attr]
    done = post(
        nurse,
        "/account/two-factor/confirm",
        {"secret": secret.group(1), "code": totp.at(console.clock.now)},
        page="/account",
    )
    assert done.status_code == 303 and done.headers["location"] == "/account?done=enrolled"
    assert "On since" in nurse.get("/account").text
    assert "staff.totp_enrolled" in _actions(console)

    client = console.client()
    page = login(client, "nina", PASSWORD)
    assert page.status_code == 200 and "Your code" in page.text and "aftercare_session" not in client.cookies
    console.clock.advance(timedelta(seconds=30))
    assert _code(client, page, totp.at(console.clock.now)).status_code == 303
    assert client.get("/").status_code == 200


def test_the_code_is_asked_after_the_password_and_works_once(console: Console) -> None:
    console.staff("nina")
    totp = _enrol(console, "nina")
    client = console.client()
    page = login(client, "nina", PASSWORD)
    wrong = _code(client, page, "123456" if totp.at(console.clock.now) != "123456" else "654321")
    assert wrong.status_code == 401 and "That code is not right" in wrong.text
    code = totp.at(console.clock.now)
    assert _code(client, wrong, code).status_code == 303
    assert "staff.login" in _actions(console)

    replay = console.client()
    page = login(replay, "nina", PASSWORD)
    refused = _code(replay, page, code)  # the same code, still within its 30 seconds
    assert refused.status_code == 401 and "aftercare_session" not in replay.cookies


def test_a_code_is_no_use_without_the_right_password_first(console: Console) -> None:
    console.staff("nina")
    totp = _enrol(console, "nina")
    client = console.client()
    form = client.get("/login")
    response = _code(client, form, totp.at(console.clock.now))
    assert response.status_code == 400 and "Please sign in again" in response.text
    assert "aftercare_session" not in client.cookies


def test_a_pending_sign_in_ends_after_five_minutes_or_when_the_password_changes(console: Console) -> None:
    user = console.staff("nina")
    totp = _enrol(console, "nina")
    client = console.client()
    page = login(client, "nina", PASSWORD)
    console.clock.advance(timedelta(minutes=5, seconds=1))
    assert _code(client, page, totp.at(console.clock.now)).status_code == 400

    page = login(client, "nina", PASSWORD)
    with session_scope(console.engine) as db:
        set_staff_password(
            session=db,
            staff_id=user.id or 0,
            password_hash=user.password_hash + "x",
            actor="test",
            now=console.clock.now,
        )
    assert _code(client, page, totp.at(console.clock.now)).status_code == 400


def test_wrong_codes_are_throttled_like_wrong_passwords(console: Console) -> None:
    console.staff("nina")
    totp = _enrol(console, "nina")
    client = console.client()
    page = login(client, "nina", PASSWORD)
    right = totp.at(console.clock.now)
    wrong = [
        f"{n:06}"
        for n in range(20)
        if f"{n:06}"
        not in {
            right,
            totp.at(console.clock.now - timedelta(seconds=30)),
            totp.at(console.clock.now + timedelta(seconds=30)),
        }
    ]
    statuses = []
    for code in wrong[: LIMITS.per_name_and_address]:
        page = _code(client, page, code)
        statuses.append(page.status_code)
    assert statuses == [401] * 4 + [429]
    assert "paused until" in page.text
    again = login(client, "nina", PASSWORD)
    assert again.status_code == 429  # the password is not checked while paused either
    assert _actions(console).count("staff.second_factor_failed") == LIMITS.per_name_and_address


def test_in_production_an_admin_without_two_factor_sign_in_is_told_how_to_enrol(
    sqlite_url: str, console: Console
) -> None:
    settings = make_settings(
        sqlite_url,
        environment=Environment.PRODUCTION,
        bot_username="ClinicBot",
        console_base_url=PRODUCTION_URL,
        console_secret_key="vG2mR8qLx0Tz4NcW7pHs1KdY9bEfJ3aU6o",  # production refuses a weak one
        clinic_file=Path(__file__).parents[2] / "flows" / "data" / "clinics" / "uhp-pain-clinic.yaml",
    )
    app = create_app(settings, console.engine, clock=console.clock)
    console.staff("ada", StaffRole.ADMIN)
    console.staff("nina")

    def client() -> TestClient:
        return TestClient(
            app, base_url=PRODUCTION_URL, follow_redirects=False, headers={"origin": PRODUCTION_URL}
        )

    refused = login(client(), "ada", PASSWORD)
    assert refused.status_code == 403 and "aftercare staff totp ada" in refused.text
    assert "__Host-aftercare_session" not in refused.headers.get("set-cookie", "")
    assert login(client(), "nina", PASSWORD).status_code == 303  # nurses may choose
    assert _actions(console).count("staff.login_refused") == 1

    totp = _enrol(console, "ada")
    admin = client()
    page = login(admin, "ada", PASSWORD)
    assert page.status_code == 200 and "Your code" in page.text
    assert _code(admin, page, totp.at(console.clock.now)).status_code == 303
    account = admin.get("/account")
    assert "Administrators must keep it on" in account.text and "Turn off" not in account.text
    kept = admin.post(
        "/account/two-factor/remove",
        data={"csrf_token": csrf_of(account.text), "code": totp.at(console.clock.now)},
    )
    assert kept.status_code == 409
    with console.db() as db:
        assert staff_user_by_username(session=db, username="ada").totp_secret is not None  # type: ignore[union-attr]


def test_turning_two_factor_sign_in_off_needs_a_current_code(console: Console, nurse: TestClient) -> None:
    totp = _enrol(console, "nina")
    for action in ("/account/two-factor/start", "/account/two-factor/confirm"):  # a new phone: not like this
        secret = new_secret()
        data = {"secret": secret, "code": pyotp.TOTP(secret).at(console.clock.now)}
        refused = post(nurse, action, data, page="/account")
        assert refused.status_code == 409 and "already on" in refused.text and secret not in refused.text
    with console.db() as db:
        assert staff_user_by_username(session=db, username="nina").totp_secret == totp.secret  # type: ignore[union-attr]
    refused = post(nurse, "/account/two-factor/remove", {"code": "000000"}, page="/account")
    assert refused.status_code == 400 and "On since" in refused.text
    console.clock.advance(timedelta(seconds=30))
    removed = post(nurse, "/account/two-factor/remove", {"code": totp.at(console.clock.now)}, page="/account")
    assert removed.status_code == 303 and "Off: you sign in" in nurse.get("/account").text
    assert _actions(console)[-2:] == ["staff.second_factor_failed", "staff.totp_removed"]
    assert login(console.client(), "nina", PASSWORD).status_code == 303
