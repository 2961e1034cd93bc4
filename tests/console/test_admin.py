"""Administration: staff accounts (add, deactivate, reactivate; never deleted), the audit trail, and the
clinic's settings, read-only."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from storage.audit import audit_trail
from storage.models import StaffRole
from storage.passwords import verify_password
from storage.staff import staff_user_by_username
from tests.console.conftest import PASSWORD, Console, login, post

NEW = {
    "username": "new.nurse",
    "display_name": "Nora New",
    "role": "nurse",
    "password": PASSWORD,
    "password_again": PASSWORD,
}


def test_an_admin_adds_a_nurse_who_can_then_log_in(console: Console, admin: TestClient) -> None:
    response = post(admin, "/admin/staff", NEW, page="/admin/staff")
    assert response.headers["location"] == "/admin/staff?done=added"
    html = admin.get("/admin/staff?done=added").text
    assert "The account is created." in html and "Nora New" in html
    with console.db() as db:
        user = staff_user_by_username(session=db, username="new.nurse")
        assert user is not None and user.role is StaffRole.NURSE
        assert user.password_hash.startswith("$argon2id$") and verify_password(user.password_hash, PASSWORD)
        created = audit_trail(session=db, subject_type="staff_user", subject_id=user.id)[0]
        assert created.action == "staff.created" and created.actor.startswith("staff:")
    assert login(console.client(), "new.nurse", PASSWORD).status_code == 303


def test_a_bad_new_account_is_refused_with_reasons(console: Console, admin: TestClient) -> None:
    console.staff("taken")
    for changes, message in [
        ({"password": "short", "password_again": "short"}, "at least 12 characters"),
        ({"password_again": "something else entirely"}, "The two passwords are not the same."),
        ({"username": "taken"}, "That username is taken."),
        ({"username": "has space"}, "Use letters, digits"),
        ({"role": "superuser"}, "Choose a role."),
    ]:
        response = post(admin, "/admin/staff", {**NEW, **changes}, page="/admin/staff")
        assert response.status_code == 400 and message in response.text, changes
    with console.db() as db:
        assert staff_user_by_username(session=db, username="new.nurse") is None


def test_deactivating_an_account_logs_it_out_at_once_and_it_can_be_reactivated(
    console: Console, admin: TestClient
) -> None:
    nurse = console.logged_in("nina")
    with console.db() as db:
        nina = staff_user_by_username(session=db, username="nina")
        assert nina is not None
    response = post(admin, f"/admin/staff/{nina.id}/deactivate", page="/admin/staff")
    assert response.headers["location"] == "/admin/staff?done=deactivated"
    assert nurse.get("/").status_code == 303  # her open session has ended
    assert login(console.client(), "nina", PASSWORD).status_code == 401
    assert "Reactivate" in admin.get("/admin/staff").text
    post(admin, f"/admin/staff/{nina.id}/activate", page="/admin/staff")
    assert login(console.client(), "nina", PASSWORD).status_code == 303


def test_admins_cannot_deactivate_themselves(console: Console, admin: TestClient) -> None:
    with console.db() as db:
        ada = staff_user_by_username(session=db, username="ada")
        assert ada is not None
    assert post(admin, f"/admin/staff/{ada.id}/deactivate", page="/admin/staff").status_code == 409
    assert post(admin, "/admin/staff/999/deactivate", page="/admin/staff").status_code == 404
    assert admin.get("/").status_code == 200


def test_the_audit_trail_says_who_did_what_and_when(console: Console, admin: TestClient) -> None:
    enrolment = console.enrol()
    escalation = console.escalate(enrolment)
    admin.get(f"/patients/{enrolment.patient.id}")
    post(admin, f"/escalations/{escalation.id}/acknowledge")
    html = admin.get("/admin/audit").text
    assert "patient.viewed" in html and "escalation.acknowledged" in html and "staff.login" in html
    assert (
        re.search(r'Ada <span class="muted">\(staff:\d+\)</span>', html) and "Tue 24 Nov 2026, 10:00" in html
    )
    only = admin.get(f"/admin/audit?subject_type=escalation&subject_id={escalation.id}").text
    assert "escalation.acknowledged" in only and "patient.viewed" not in only


def test_the_clinic_settings_are_shown_read_only(admin: TestClient) -> None:
    html = admin.get("/admin/clinic").text
    for words in (
        "University Hospitals Plymouth Pain Clinic",
        "01752 437706",
        "Monday to Friday, 9am to 5pm",
        "Europe/London",
        "red: acknowledged within 1 working hour; amber: within 8 working hours",
        "Derriford Emergency Department",
    ):
        assert words in html, words
    assert '<form method="post"' not in html.split("<main")[1]  # nothing here changes anything
