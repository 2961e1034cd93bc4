"""Logging in and out: right password in, wrong password out, lock-out after repeated failures, no hint of
which usernames exist, and a login form that cannot be posted from another site."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

import pytest
from argon2 import PasswordHasher

import storage.passwords
from storage.audit import audit_trail
from storage.db import session_scope
from storage.login_throttle import LIMITS
from storage.models import StaffRole
from storage.passwords import needs_rehash
from storage.staff import set_staff_active, staff_user_by_username
from tests.console.conftest import PASSWORD, Console, csrf_of, login


def test_the_right_password_opens_the_escalation_queue(console: Console) -> None:
    console.staff("nina")
    client = console.client()
    response = login(client, "Nina", PASSWORD)  # usernames are not case-sensitive
    assert response.status_code == 303 and response.headers["location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and "<h1>Escalations</h1>" in page.text and "Nina" in page.text
    with console.db() as db:
        assert audit_trail(session=db, subject_type="staff_user")[0].action == "staff.login"


def test_a_wrong_password_and_an_unknown_username_get_the_same_answer(console: Console) -> None:
    console.staff("nina")
    client = console.client()
    wrong = login(client, "nina", "not the password at all")
    unknown = login(client, "nobody", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    message = "That username and password do not match an active account."
    assert message in wrong.text and message in unknown.text
    assert "aftercare_session" not in client.cookies


def test_repeated_wrong_passwords_lock_the_account_even_against_the_right_one(console: Console) -> None:
    console.staff("nina")
    client = console.client()
    for _ in range(LIMITS.per_name_and_address):
        response = login(client, "nina", "wrong password here")
    assert response.status_code == 429 and "paused until 10:15" in response.text  # 15 minutes
    locked = login(client, "nina", PASSWORD)
    assert locked.status_code == 429 and "paused until 10:15" in locked.text
    assert locked.headers["retry-after"] == str(15 * 60)
    console.clock.advance(timedelta(minutes=16))
    assert login(client, "nina", PASSWORD).status_code == 303


def test_a_deactivated_account_cannot_log_in(console: Console) -> None:
    user = console.staff("nina")
    with session_scope(console.engine) as db:
        set_staff_active(session=db, staff_id=user.id or 0, active=False, actor="test", now=console.clock.now)
    assert login(console.client(), "nina", PASSWORD).status_code == 401


def test_a_hash_made_with_weaker_parameters_is_replaced_at_login(console: Console) -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    console.staff("nina")
    with session_scope(console.engine) as db:
        user = staff_user_by_username(session=db, username="nina")
        assert user is not None
        user.password_hash = weak
    assert login(console.client(), "nina", PASSWORD).status_code == 303
    with console.db() as db:
        user = staff_user_by_username(session=db, username="nina")
        assert user is not None and user.password_hash != weak and not needs_rehash(user.password_hash)


def test_after_login_the_page_asked_for_opens_but_never_another_site(console: Console) -> None:
    console.staff("nina")
    client = console.client()
    wanted = "/patients?status=paused&unanswered=true"
    redirect = client.get(wanted).headers["location"]
    assert redirect == "/login?next=/patients%3Fstatus%3Dpaused%26unanswered%3Dtrue"
    form = client.get(redirect)
    assert 'name="next" value="/patients?status=paused&amp;unanswered=true"' in form.text
    response = client.post(
        "/login",
        data={
            "username": "nina",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": wanted,
        },
    )
    assert response.headers["location"] == wanted
    assert client.get("/login?next=//evil.example/").headers["location"] == "/"  # already logged in
    other = console.client()
    form = other.get("/login")
    response = other.post(
        "/login",
        data={
            "username": "nina",
            "password": PASSWORD,
            "csrf_token": csrf_of(form.text),
            "next": "https://evil.example/",
        },
    )
    assert response.headers["location"] == "/"


def test_the_login_form_needs_its_own_token_and_origin(console: Console) -> None:
    console.staff("nina")
    client = console.client()
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"username": "nina", "password": PASSWORD}).status_code == 403
    stranger = console.client()  # a different browser: its nonce cookie does not match this token
    stranger.get("/login")
    assert (
        stranger.post(
            "/login", data={"username": "nina", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 403
    )
    evil = client.post(
        "/login",
        data={"username": "nina", "password": PASSWORD, "csrf_token": token},
        headers={"origin": "https://evil.example"},
    )
    assert evil.status_code == 403
    assert (
        client.post(
            "/login", data={"username": "nina", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 303
    )


def test_an_admin_sees_the_admin_menu_and_a_nurse_does_not(console: Console) -> None:
    nurse = console.logged_in("nina")
    admin = console.logged_in("ada", StaffRole.ADMIN)
    assert 'href="/admin/staff"' not in nurse.get("/").text
    assert 'href="/admin/staff"' in admin.get("/").text


def test_an_account_deactivated_while_its_password_is_checked_is_not_signed_in(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The password is checked outside any transaction: the verdict reads the account again."""
    user = console.staff("nina")

    class DeactivatedMeanwhile(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            with session_scope(console.engine) as db:
                set_staff_active(
                    session=db, staff_id=user.id or 0, active=False, actor="staff:1", now=console.clock.now
                )
            return super().verify(hash, password)

    monkeypatch.setattr(storage.passwords, "_hasher", DeactivatedMeanwhile())
    client = console.client()
    response = login(client, "nina", PASSWORD)
    assert response.status_code == 401 and "aftercare_session" not in client.cookies
