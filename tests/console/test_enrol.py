"""Enrolling a patient from the console: the form, its checks, and the printable slip with the invite link,
its QR code and the clinic's after-care advice."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
from fastapi.testclient import TestClient
from sqlmodel import select

from console.app import create_app
from console.views.slip import qr_svg
from storage.audit import audit_trail
from storage.db import session_scope
from storage.enrolment import RedeemOutcome, redeem_invite
from storage.models import Episode, Patient
from tests.console.conftest import BASE_URL, PASSWORD, Console, login, make_settings, post

FORM = {"name": "Lee", "procedure": "sacroiliac-joint-injection", "date": "2026-11-24", "time": "09:30"}
LINK = re.compile(r'<a href="(https://t\.me/(\w+)\?start=([A-Za-z0-9_-]+))" id="invite-link">')


def _enrol(client: TestClient, **changes: str) -> httpx.Response:
    return post(client, "/enrol", {**FORM, **changes}, page="/enrol")


def test_the_form_labels_every_field(nurse: TestClient) -> None:
    html = nurse.get("/enrol").text
    for field in ("name", "procedure", "date", "time", "diabetic"):
        assert f'<label for="{field}">' in html and f'id="{field}"' in html
    assert 'value="2026-11-24"' in html  # today on the clinic's calendar
    assert "Sacroiliac joint injection" in html and "Medial branch block" in html


def test_enrolling_prints_a_slip_with_a_working_invite_link_and_its_qr_code(
    console: Console, nurse: TestClient
) -> None:
    response = _enrol(nurse, diabetic="true")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    html = response.text
    match = LINK.search(html)
    assert match is not None
    link, bot, token = match.groups()
    assert bot == "AftercareLocalBot"  # development default: the local emulator's bot
    assert str(qr_svg(link)) in html  # the QR code encodes exactly this link (the browser test decodes it)
    assert "Lee" in html and "Sacroiliac joint injection, Tue 24 Nov 2026, 09:30" in html
    with session_scope(console.engine) as db:
        patient = db.exec(select(Patient)).one()
        episode = db.exec(select(Episode)).one()
        assert (patient.display_name, patient.diabetic) == ("Lee", True)
        assert patient.reference in html
        assert episode.performed_at == datetime(2026, 11, 24, 9, 30, tzinfo=UTC)  # GMT in November
        enrolled = [e for e in audit_trail(session=db) if e.action == "patient.enrolled"]
        assert enrolled[0].actor.startswith("staff:")
        assert redeem_invite(
            session=db, token=token, chat_id=77, user_id=77, now=console.clock.now
        ).outcome is (RedeemOutcome.OK)


def test_the_slip_carries_the_clinics_after_care_advice(nurse: TestClient) -> None:
    html = _enrol(nurse, diabetic="true").text
    for words in (
        "do not drive, and have someone with you at home for 24 hours",  # day 0 safety
        "Some people have a flare of pain",  # the flare
        "Check it more often than usual",  # blood sugar after a steroid, for a diabetic patient
        "numbness between your legs",  # red flags
        "Derriford Emergency Department",  # where to go
        "NHS 111",
        "01752 437706",  # the clinic's phone
        "Monday to Friday, 9am to 5pm",  # and when it is answered
    ):
        assert words in html, words


def test_the_invite_names_the_configured_bot(console: Console, sqlite_url: str) -> None:
    app = create_app(
        make_settings(sqlite_url, bot_username="@UHPAftercareBot"), console.engine, clock=console.clock
    )
    console.staff("nina")
    client = TestClient(app, base_url=BASE_URL, headers={"origin": BASE_URL}, follow_redirects=False)
    login(client, "nina", PASSWORD)
    assert "https://t.me/UHPAftercareBot?start=" in _enrol(client).text


def test_a_form_with_mistakes_is_shown_again_and_enrols_nobody(console: Console, nurse: TestClient) -> None:
    for changes, message in [
        ({"name": "  "}, "Enter a first name or initials"),
        ({"name": "x" * 65}, "Enter a first name or initials"),
        ({"procedure": "brain-surgery"}, "Choose the procedure."),
        ({"time": ""}, "Enter the date and time of the procedure."),
        ({"date": "24/11/2026"}, "Enter the date and time of the procedure."),
        ({"date": "2026-12-24"}, "within two weeks of today"),
    ]:
        response = _enrol(nurse, **changes)
        assert response.status_code == 400, changes
        assert message in response.text and "There is a problem" in response.text
    with session_scope(console.engine) as db:
        assert db.exec(select(Patient)).all() == []
    kept = _enrol(nurse, procedure="").text
    assert 'value="Lee"' in kept and 'value="09:30"' in kept  # what was typed is kept
