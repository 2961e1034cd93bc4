"""Error pages: a well-formed id that matches nothing is a 404 on every route that takes one, and every
error page, a server error included, carries the console's security headers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.console.conftest import Console, post

UNKNOWN = 2_147_483_647  # the largest id the route accepts; no row has it
ID_PAGES = ["/escalations/{id}", "/patients/{id}"]
ID_ACTIONS = [
    "/escalations/{id}/acknowledge",
    "/escalations/{id}/notes",
    "/escalations/{id}/close",
    "/patients/{id}/send-next-checkin",
    "/patients/{id}/pause",
    "/patients/{id}/resume",
    "/patients/{id}/message",
    "/patients/{id}/invite",
    "/admin/staff/{id}/deactivate",
    "/admin/staff/{id}/activate",
]


def _has_security_headers(response: object) -> bool:
    headers = response.headers  # type: ignore[attr-defined]
    return (
        headers.get("x-frame-options") == "DENY"
        and "default-src 'self'" in headers.get("content-security-policy", "")
        and headers.get("cache-control") == "no-store"
    )


def test_every_page_and_action_for_an_id_that_matches_nothing_is_not_found(admin: TestClient) -> None:
    data = {"outcome": "false_alarm", "note": "called", "text": "hello"}
    for unknown in (7, UNKNOWN):
        for page in ID_PAGES:
            response = admin.get(page.format(id=unknown))
            assert response.status_code == 404 and "Not found" in response.text, page
            assert _has_security_headers(response)
        for action in ID_ACTIONS:
            response = post(admin, action.format(id=unknown), data)
            assert response.status_code == 404 and "Not found" in response.text, action
            assert _has_security_headers(response)


def test_a_server_error_gets_a_plain_page_with_the_security_headers(console: Console) -> None:
    console.staff("nina")
    with console.engine.begin() as connection:  # the database loses a table the console needs
        connection.exec_driver_sql("DROP TABLE staff_session")
    client = TestClient(console.app, base_url="http://testserver", raise_server_exceptions=False)
    client.cookies.set("aftercare_session", "a-session-id-the-console-must-look-up")
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "Traceback" not in response.text
    assert _has_security_headers(response)
