"""Sign-in throttling at the login form (console/sign_in.py): findings 4 and 5 of issue 11.

4. Concurrent logins on PostgreSQL checked 18 wrong passwords, then accepted the right one while the
   account was locked. Now no more than the limit of wrong passwords is ever checked, on both databases.
5. Unknown usernames answered differently (never locked) and with less work than locked real ones; anyone
   could lock any account again and again; failures on unknown names and attempts while locked were not
   audited; no client address was recorded. Now an unknown name gets the same answers and the same work,
   a stranger only pauses himself, and every failure, lock-out and refusal is audited with the address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

import httpx
from fastapi.testclient import TestClient

import storage.passwords
from console.app import create_app
from storage.audit import audit_trail
from storage.db import make_engine
from storage.login_throttle import LIMITS
from tests.console.conftest import PASSWORD, Console, CountingHasher, csrf_of, login, make_settings
from tests.storage.factories import run_together

HOME = "192.0.2.10"  # the nurse's desk
STRANGER = "198.51.100.66"


def _events(console: Console) -> list[tuple[str, str | None, dict[str, object]]]:
    """The sign-in events of the audit trail, oldest first: (action, subject id, detail)."""
    with console.db() as db:
        events = audit_trail(session=db, subject_type="staff_user", limit=10_000)
    return [
        (event.action, event.subject_id, json.loads(event.detail_json or "{}"))
        for event in reversed(events)
        if event.action != "staff.created"
    ]


def _posts_at_once(console: Console, passwords: list[str], *, address: str) -> list[httpx.Response]:
    """One browser per password, each with its login form open, all posting at the same instant."""
    clients = [console.client(address=address) for _ in passwords]
    tokens = [csrf_of(client.get("/login").text) for client in clients]

    def poster(client: TestClient, token: str, password: str) -> Callable[[], httpx.Response]:
        return lambda: client.post(
            "/login", data={"username": "nina", "password": password, "csrf_token": token}
        )

    return run_together([poster(*args) for args in zip(clients, tokens, passwords, strict=True)])


def test_thirty_logins_at_once_never_check_more_wrong_passwords_than_the_limit(
    console_on_both: Console, password_checks: CountingHasher
) -> None:
    console = console_on_both
    console.staff("nina")
    responses = _posts_at_once(
        console, [f"wrong guess {n:02}" for n in range(29)] + [PASSWORD], address=STRANGER
    )
    signed_in = sum(response.status_code == 303 for response in responses)
    wrong_checked = len(password_checks.checks) - signed_in
    assert signed_in <= 1 and wrong_checked <= LIMITS.per_name_and_address
    assert {response.status_code for response in responses} <= {303, 401, 429}
    if not signed_in:  # the right password came after the limit: refused, not checked
        assert login(console.client(address=STRANGER), "nina", PASSWORD).status_code == 429


def test_thirty_wrong_passwords_at_once_lock_out_the_right_one_that_follows(
    console_on_both: Console, password_checks: CountingHasher
) -> None:
    console = console_on_both
    console.staff("nina")
    responses = _posts_at_once(console, [f"wrong guess {n:02}" for n in range(30)], address=STRANGER)
    assert len(password_checks.checks) == LIMITS.per_name_and_address  # checked; the rest refused unseen
    assert sorted(response.status_code for response in responses).count(429) == 30 - 4  # 5th: lock starts
    right = login(console.client(address=STRANGER), "nina", PASSWORD)
    assert right.status_code == 429 and "paused until 10:15" in right.text
    assert len(password_checks.checks) == LIMITS.per_name_and_address
    actions = [action for action, _, _ in _events(console)]
    assert actions.count("staff.login_failed") == LIMITS.per_name_and_address
    assert actions.count("staff.locked_out") == 1 and actions.count("staff.login_refused") == 26


def test_a_username_postgresql_cannot_hold_is_just_a_wrong_one(console_on_both: Console) -> None:
    response = login(console_on_both.client(), "ni\x00na", PASSWORD)
    assert response.status_code == 401 and "do not match an active account" in response.text


def test_an_unknown_name_gets_the_same_answers_and_the_same_work_as_a_real_one(
    console: Console, password_checks: CountingHasher
) -> None:
    console.staff("nina")

    def answers(name: str) -> tuple[list[tuple[int, str]], int]:
        client = console.client()
        before = len(password_checks.checks)
        pages = []
        for _ in range(LIMITS.per_name_and_address + 2):
            response = login(client, name, "not the password at all")
            text = re.sub(r'name="csrf_token" value="[^"]+"', "", response.text).replace(name, "NAME")
            pages.append((response.status_code, text))
        return pages, len(password_checks.checks) - before

    real, real_checks = answers("nina")
    unknown, unknown_checks = answers("nobody")
    assert real == unknown
    assert [status for status, _ in real] == [401] * 4 + [429] * 3
    assert real_checks == unknown_checks == LIMITS.per_name_and_address  # argon2 for each, dummy or real


def test_every_failure_lock_out_and_refusal_is_audited_with_the_address(console: Console) -> None:
    user = console.staff("nina")
    for name in ["nina"] * (LIMITS.per_name_and_address + 1) + ["nobody"]:
        login(console.client(address=STRANGER), name, "not the password at all")
    login(console.client(address=HOME), "nina", PASSWORD)
    events = _events(console)
    assert [(action, subject) for action, subject, _ in events] == [
        *[("staff.login_failed", str(user.id))] * 5,
        ("staff.locked_out", str(user.id)),
        ("staff.login_refused", str(user.id)),
        ("staff.login_failed", None),  # an unknown name: no account, and never the name typed
        ("staff.login", str(user.id)),
    ]
    assert [detail["address"] for _, _, detail in events] == [STRANGER] * 8 + [HOME]
    assert events[5][2]["counters"] == ["name_at_address"] and events[6][2]["counter"] == "name_at_address"
    assert all("nobody" not in json.dumps(detail) for _, _, detail in events)


def test_a_stranger_hammering_a_nurses_name_does_not_lock_her_out(console: Console) -> None:
    console.staff("nina")
    stranger = console.client(address=STRANGER)
    statuses = [login(stranger, "nina", f"guess {n}").status_code for n in range(30)]
    assert statuses == [401] * 4 + [429] * 26
    assert login(console.client(address=HOME), "nina", PASSWORD).status_code == 303
    console.clock.advance(LIMITS.window)  # the stranger's pause ends; he tries again, and pauses again
    assert [login(stranger, "nina", f"again {n}").status_code for n in range(6)] == [401] * 4 + [429] * 2
    assert login(console.client(address=HOME), "nina", PASSWORD).status_code == 303


def test_at_the_strangers_own_address_the_nurse_waits_one_window_at_most(console: Console) -> None:
    """Behind one shared address (a hospital's NAT), the pause a stranger causes ends on time however
    long he keeps trying: attempts refused while paused do not count."""
    console.staff("nina")
    stranger, nurse = console.client(address=STRANGER), console.client(address=STRANGER)
    for n in range(LIMITS.per_name_and_address):
        login(stranger, "nina", f"guess {n}")
    for _ in range(14):
        console.clock.advance(timedelta(minutes=1))
        assert login(stranger, "nina", "still guessing").status_code == 429
    console.clock.advance(timedelta(minutes=1))
    assert login(nurse, "nina", PASSWORD).status_code == 303


def test_one_address_trying_many_names_is_paused_but_nobody_else_is(console: Console) -> None:
    console.staff("nina")
    sprayer = console.client(address=STRANGER)
    for n in range(LIMITS.per_address):
        assert login(sprayer, f"guess{n}", "password123456").status_code in (401, 429)
    assert login(console.client(address=STRANGER), "nina", PASSWORD).status_code == 429
    assert login(console.client(address=HOME), "nina", PASSWORD).status_code == 303
    console.clock.advance(LIMITS.window)
    assert login(console.client(address=STRANGER), "nina", PASSWORD).status_code == 303


def test_guessing_from_many_addresses_spares_the_desk_the_nurse_signs_in_from(console: Console) -> None:
    console.staff("nina")
    assert login(console.client(address=HOME), "nina", PASSWORD).status_code == 303
    for n in range(LIMITS.per_name):
        login(console.client(address=f"203.0.113.{n}"), "nina", "a guess from a botnet")
    assert login(console.client(address="203.0.113.250"), "nina", PASSWORD).status_code == 429
    assert login(console.client(address=HOME), "nina", PASSWORD).status_code == 303


def test_the_address_comes_from_x_forwarded_for_only_through_a_trusted_proxy(
    sqlite_url: str, console: Console
) -> None:
    console.staff("nina")
    behind = create_app(
        make_settings(sqlite_url, console_trusted_proxies="127.0.0.1, ::1"),
        console.engine,
        clock=console.clock,
    )
    forwarded = {"x-forwarded-for": "6.6.6.6, 203.0.113.9"}  # the client wrote the first; the proxy the last
    via_proxy = TestClient(
        behind,
        base_url="http://testserver",
        headers={"origin": "http://testserver", **forwarded},
        client=("127.0.0.1", 1),
    )
    login(via_proxy, "nina", "wrong password here")
    login(console.client(address="198.51.100.7", **forwarded), "nina", "wrong password here")  # no proxy set
    direct = TestClient(
        behind,
        base_url="http://testserver",
        headers={"origin": "http://testserver", **forwarded},
        client=("198.51.100.8", 1),
    )
    login(direct, "nina", "wrong password here")  # not from the proxy: the header proves nothing
    assert [detail["address"] for _, _, detail in _events(console)] == [
        "203.0.113.9",
        "198.51.100.7",
        "198.51.100.8",
    ]


def test_a_refused_login_form_is_audited_with_the_address(console: Console) -> None:
    client = console.client(address=STRANGER)
    token = csrf_of(client.get("/login").text)
    assert client.post("/login", data={"username": "nina", "password": PASSWORD}).status_code == 403
    evil = client.post(
        "/login",
        data={"username": "nina", "password": PASSWORD, "csrf_token": token},
        headers={"origin": "https://evil.example"},
    )
    assert evil.status_code == 403
    with console.db() as db:
        events = [e for e in reversed(audit_trail(session=db)) if e.action == "staff.login_form_refused"]
    assert [json.loads(e.detail_json or "") for e in events] == [
        {"address": STRANGER, "path": "/login", "reason": "csrf_token"},
        {"address": STRANGER, "path": "/login", "reason": "origin"},
    ]
    assert {e.actor for e in events} == {"anonymous"}


def test_the_dummy_hash_is_made_when_the_console_starts_not_at_the_first_unknown_name(
    sqlite_url: str,
) -> None:
    """Made on first use, it would make the first unknown name's answer take two hashes, a real name's one."""
    storage.passwords._dummy_hash.cache_clear()
    engine = make_engine(sqlite_url)
    try:
        create_app(make_settings(sqlite_url), engine)
    finally:
        engine.dispose()
    assert storage.passwords._dummy_hash.cache_info().currsize == 1
