"""Every page and action is refused without a live session, with the wrong role, without the session's
CSRF token or from another origin; every response carries the security headers; patient text is escaped."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from console.app import create_app
from console.settings import Environment
from storage.audit import audit_trail
from storage.models import StaffRole, StaffSession
from tests.console.conftest import BASE_URL, PASSWORD, Console, csrf_of, login, make_settings, post

PAGES = [
    "/",
    "/escalations/{e}",
    "/patients",
    "/patients/{p}",
    "/enrol",
    "/admin/staff",
    "/admin/audit",
    "/admin/clinic",
    "/account",
]
ACTIONS = [
    "/logout",
    "/escalations/{e}/acknowledge",
    "/escalations/{e}/notes",
    "/escalations/{e}/close",
    "/patients/{p}/send-next-checkin",
    "/patients/{p}/pause",
    "/patients/{p}/resume",
    "/patients/{p}/message",
    "/patients/{p}/invite",
    "/enrol",
    "/admin/staff",
    "/admin/staff/{s}/deactivate",
    "/admin/staff/{s}/activate",
    "/account/two-factor/start",
    "/account/two-factor/confirm",
    "/account/two-factor/remove",
]
ADMIN_ONLY = [path for path in PAGES + ACTIONS if path.startswith("/admin/")]
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/login/code")}
# No login, but only for this machine or HEALTH_ALLOW_FROM, never via a proxy: tests/console/test_health.py.
OPERATOR = {("GET", "/healthz"), ("GET", "/metrics")}


@pytest.fixture
def ids(console: Console) -> dict[str, int]:
    enrolment = console.enrol()
    console.connect(enrolment)
    escalation = console.escalate(enrolment)
    other = console.staff("olga")
    assert escalation.id is not None and enrolment.patient.id is not None and other.id is not None
    return {"e": escalation.id, "p": enrolment.patient.id, "s": other.id}


def _fill(path: str, ids: dict[str, int]) -> str:
    return path.format(**ids)


def _set_cookie(response: httpx.Response, prefix: str) -> str:
    [cookie] = [header for header in response.headers.get_list("set-cookie") if header.startswith(prefix)]
    return cookie


REFUSALS = {"console.forbidden", "console.form_refused"}


def _actions(console: Console) -> int:
    """How many audit events staff have caused, other than the record of a refusal (a refused request
    must change nothing)."""
    with console.db() as db:
        return sum(
            1
            for event in audit_trail(session=db, limit=10_000)
            if event.actor.startswith("staff:") and event.action not in REFUSALS
        )


def _refusals(console: Console) -> list[tuple[str, str, dict[str, str]]]:
    """The refusals audited, oldest first: (actor, action, detail)."""
    with console.db() as db:
        events = audit_trail(session=db, limit=10_000)
    return [
        (event.actor, event.action, json.loads(event.detail_json or "{}"))
        for event in reversed(events)
        if event.action in REFUSALS
    ]


def test_the_lists_above_cover_every_route_of_the_app(console: Console) -> None:
    short = {"{escalation_id}": "{e}", "{patient_id}": "{p}", "{staff_id}": "{s}"}
    found = set()
    for path, operations in console.app.openapi()["paths"].items():
        for name, letter in short.items():
            path = path.replace(name, letter)
        found |= {(method.upper(), path) for method in operations}
    assert found == {("GET", p) for p in PAGES} | {("POST", p) for p in ACTIONS} | PUBLIC | OPERATOR


@pytest.mark.parametrize("page", PAGES)
def test_pages_send_a_visitor_without_a_session_to_the_login_form(
    console: Console, ids: dict[str, int], page: str
) -> None:
    response = console.client().get(_fill(page, ids))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_do_nothing_without_a_session(console: Console, ids: dict[str, int], action: str) -> None:
    response = console.client().post(
        _fill(action, ids), data={"csrf_token": "guess", "outcome": "false_alarm"}
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert _actions(console) == 0


@pytest.mark.parametrize("path", ADMIN_ONLY)
def test_admin_pages_and_actions_are_forbidden_to_nurses(
    console: Console, nurse: TestClient, ids: dict[str, int], path: str
) -> None:
    before = _actions(console)
    if path in PAGES:
        response = nurse.get(_fill(path, ids))
    else:
        response = post(nurse, _fill(path, ids), {"username": "x", "role": "admin", "password": PASSWORD * 2})
    assert response.status_code == 403
    assert "Not allowed" in response.text
    assert _actions(console) == before
    [(actor, action, detail)] = _refusals(console)  # the refusal itself is in the audit trail
    method = "GET" if path in PAGES else "POST"
    assert actor.startswith("staff:") and action == "console.forbidden"
    assert detail == {
        "address": "testclient",
        "method": method,
        "path": _fill(path, ids),
        "reason": "not_an_admin",
    }


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_need_the_csrf_token_of_the_session(
    console: Console, admin: TestClient, ids: dict[str, int], action: str
) -> None:
    other = console.logged_in("oscar", StaffRole.ADMIN)
    someone_elses = csrf_of(other.get("/").text)
    before = _actions(console)
    for data in ({}, {"csrf_token": ""}, {"csrf_token": someone_elses}):
        response = admin.post(_fill(action, ids), data={**data, "outcome": "false_alarm", "text": "hello"})
        assert response.status_code == 403, data
    assert _actions(console) == before
    refusals = _refusals(console)
    assert [(action, detail["reason"], detail["address"]) for _, action, detail in refusals] == [
        ("console.form_refused", "csrf_token", "testclient")
    ] * 3


@pytest.mark.parametrize("action", ACTIONS)
def test_actions_must_come_from_the_consoles_own_origin(
    console: Console, admin: TestClient, ids: dict[str, int], action: str
) -> None:
    token = csrf_of(admin.get("/").text)
    before = _actions(console)
    for headers in (
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"origin": "", "referer": "https://evil.example/page"},
    ):
        response = admin.post(_fill(action, ids), data={"csrf_token": token}, headers=headers)
        assert response.status_code == 403, headers
    assert _actions(console) == before
    refusals = _refusals(console)
    assert [(action, detail["reason"]) for _, action, detail in refusals] == [
        ("console.form_refused", "origin")
    ] * 3
    assert len({actor for actor, _, _ in refusals}) == 1 and refusals[0][0].startswith(
        "staff:"
    )  # whose browser


def test_a_form_without_origin_or_referer_is_refused_and_a_same_origin_referer_is_enough(
    console: Console, nurse: TestClient, ids: dict[str, int]
) -> None:
    token = csrf_of(nurse.get("/").text)
    bare = TestClient(console.app, base_url=BASE_URL, follow_redirects=False, cookies=dict(nurse.cookies))
    path = f"/escalations/{ids['e']}/acknowledge"
    assert bare.post(path, data={"csrf_token": token}).status_code == 403
    referred = bare.post(path, data={"csrf_token": token}, headers={"referer": f"{BASE_URL}/"})
    assert referred.status_code == 303


@pytest.mark.parametrize("path", ["/", "/login", "/static/console.css", "/nowhere", "/patients/999"])
def test_every_response_carries_the_security_headers(console: Console, nurse: TestClient, path: str) -> None:
    for client in (nurse, console.client()):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        if not path.startswith("/static/"):
            assert headers["cache-control"] == "no-store"


def test_pages_load_nothing_from_other_sites(nurse: TestClient, ids: dict[str, int]) -> None:
    for page in ["/", f"/escalations/{ids['e']}", f"/patients/{ids['p']}", "/patients", "/enrol", "/account"]:
        html = nurse.get(page).text
        assert (
            "<script>" not in html and " style=" not in html
        )  # no inline script or style for the CSP to block
        for url in re.findall(r'(?:src|href)="([^"]*)"', html):
            assert url.startswith(("/", "#")), url


def test_the_session_cookie_holds_only_the_session_id(console: Console) -> None:
    console.staff("nina")
    client = console.client()
    response = login(client, "nina", PASSWORD)
    cookie = _set_cookie(response, "aftercare_session=")
    assert cookie.startswith("aftercare_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie and "Max-Age" not in cookie  # development on http; ends with the browser
    value = client.cookies["aftercare_session"]
    with console.db() as db:
        stored = db.get(StaffSession, value)
        assert stored is not None and stored.revoked_at is None and len(value) >= 40


def test_outside_development_the_cookie_is_secure_and_host_only(sqlite_url: str, console: Console) -> None:
    settings = make_settings(
        sqlite_url,
        environment=Environment.PRODUCTION,
        bot_username="ClinicBot",
        console_base_url="https://console.example.nhs.uk",
        console_secret_key="vG2mR8qLx0Tz4NcW7pHs1KdY9bEfJ3aU6o",  # production refuses a weak one
        clinic_file=Path(__file__).parents[2] / "flows" / "data" / "clinics" / "uhp-pain-clinic.yaml",
    )
    app = create_app(settings, console.engine, clock=console.clock)
    console.staff("nina")
    client = TestClient(
        app,
        base_url="https://console.example.nhs.uk",
        follow_redirects=False,
        headers={"origin": "https://console.example.nhs.uk"},
    )
    response = login(client, "nina", PASSWORD)
    cookie = _set_cookie(response, "__Host-aftercare_session=")
    assert cookie.startswith("__Host-aftercare_session=") and "Secure" in cookie and "Path=/" in cookie
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert client.get("/").status_code == 200
    assert "Development mode" not in client.get("/").text


def test_an_idle_session_expires(console: Console, nurse: TestClient) -> None:
    console.clock.advance(timedelta(minutes=29))
    assert nurse.get("/").status_code == 200  # use keeps it alive...
    console.clock.advance(timedelta(minutes=29))
    assert nurse.get("/").status_code == 200
    console.clock.advance(timedelta(minutes=31))  # ...idleness ends it
    response = nurse.get("/patients")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/patients"


def test_logging_out_ends_the_session_for_good(console: Console, nurse: TestClient) -> None:
    stolen = dict(nurse.cookies)
    response = post(nurse, "/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    replay = TestClient(console.app, base_url=BASE_URL, follow_redirects=False, cookies=stolen)
    assert replay.get("/").status_code == 303


def test_patient_text_is_escaped_everywhere(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol(name="<b>Bo</b>")
    console.connect(enrolment)
    escalation = console.escalate(enrolment, text='<script>alert("x")</script><img src=x onerror=alert(1)>')
    for page in ["/", f"/escalations/{escalation.id}", f"/patients/{enrolment.patient.id}", "/patients?q=Bo"]:
        html = nurse.get(page).text
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>Bo</b>" not in html
        assert "&lt;b&gt;Bo&lt;/b&gt;" in html
        if "/patients?" not in page:
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_the_queues_automatic_refresh_does_not_keep_an_unattended_session_alive(
    console: Console, nurse: TestClient
) -> None:
    assert 'content="60; url=/?auto=1"' in nurse.get("/").text
    for _ in range(4):
        console.clock.advance(timedelta(minutes=7))
        assert nurse.get("/?auto=1").status_code == 200
    console.clock.advance(timedelta(minutes=7))  # 35 minutes since anyone used it
    assert nurse.get("/?auto=1").status_code == 303


@pytest.mark.parametrize(
    "path",
    [
        "/patients/99999999999999999999",
        "/patients/2147483648",
        "/escalations/99999999999999999999",
        "/patients/0",
        "/patients?q=%00",
        "/patients?q=a%00b%01",
    ],
)
def test_ids_out_of_range_and_control_characters_get_a_page_not_a_server_error(
    nurse: TestClient, path: str
) -> None:
    response = nurse.get(path)
    assert response.status_code in (200, 404, 422)
    assert response.headers["x-frame-options"] == "DENY"  # the security headers, as on every page
