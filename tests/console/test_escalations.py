"""The escalation queue and page: red first then oldest, each with who, what, how long and time left;
acknowledge, note and close with an outcome, each recorded with who and when."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient

from flows.levels import Level
from storage.audit import audit_trail
from storage.db import session_scope
from storage.escalations import close_escalation, escalation_notes, get_escalation, raise_escalation
from storage.models import EscalationOutcome, EscalationStatus
from tests.console.conftest import PASSWORD, Console, csrf_of, login, post


def _waiting_order(html: str) -> list[str]:
    waiting = html.split('id="waiting-title"')[1].split('id="acknowledged-title"')[0]
    return re.findall(r'data-escalation="(\d+)"', waiting)


def test_the_queue_shows_red_before_amber_and_the_oldest_first(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol("Sam")
    amber_old = console.escalate(enrolment, level=Level.AMBER, rule="amber.fever.reported", minutes_ago=300)
    red_new = console.escalate(enrolment, rule="red.ces.screen_positive", minutes_ago=5)
    red_old = console.escalate(enrolment, rule="red.leg_weakness.new_or_worse", minutes_ago=50)
    closed = console.escalate(enrolment, minutes_ago=20)
    with session_scope(console.engine) as db:
        close_escalation(
            session=db,
            escalation_id=closed.id or 0,
            staff_id=1,
            outcome=EscalationOutcome.FALSE_ALARM,
            now=console.clock.now,
        )
    html = nurse.get("/").text
    assert _waiting_order(html) == [str(red_old.id), str(red_new.id), str(amber_old.id)]
    assert "3 waiting for acknowledgement" in html


def test_each_escalation_says_who_what_and_how_long(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol("Sam", hours_ago=26)  # Monday 08:00: day 1 on Tuesday
    console.escalate(enrolment, rule="red.ces.screen_positive", text="numb when I wipe", minutes_ago=25)
    card = nurse.get("/").text.split('id="waiting-title"')[1]
    assert enrolment.patient.reference in card and "Sam" in card
    assert "Sacroiliac joint injection, day 1" in card
    assert "red.ces.screen_positive" in card and "numb when I wipe" in card
    assert "waited 25 min" in card
    assert "35 min left" in card and "due Tue 24 Nov 2026, 10:35" in card


def test_an_escalation_past_its_target_stands_out(console: Console, nurse: TestClient) -> None:
    escalation = console.escalate(console.enrol(), minutes_ago=45)  # 09:15, one working hour to acknowledge
    card = f'escalation--red escalation--overdue" data-escalation="{escalation.id}"'
    html = nurse.get("/").text
    assert card not in html and "15 min left" in html
    console.clock.advance(timedelta(minutes=29))
    html = nurse.get("/").text
    assert card in html and "Overdue by 14 min" in html and "1 overdue" in html


def test_time_out_of_office_hours_does_not_count_against_the_target(
    console: Console, nurse: TestClient
) -> None:
    console.clock.advance(timedelta(days=3, hours=8))  # Friday 18:00, after closing
    console.escalate(console.enrol(), minutes_ago=30)
    console.clock.advance(timedelta(days=1))  # Saturday
    login(nurse, "nina", PASSWORD)  # a day idle: logged out meanwhile
    html = nurse.get("/").text
    assert "1 h 00 min left" in html and "due Mon 30 Nov 2026, 10:00" in html and "waited 1 day" in html


def test_acknowledging_from_the_queue_records_who_and_when(console: Console, nurse: TestClient) -> None:
    escalation = console.escalate(console.enrol())
    response = post(nurse, f"/escalations/{escalation.id}/acknowledge", {"back": "queue"})
    assert response.status_code == 303 and response.headers["location"] == "/"
    with console.db() as db:
        stored = get_escalation(session=db, escalation_id=escalation.id or 0)
        assert stored is not None and stored.status is EscalationStatus.ACKNOWLEDGED
        assert stored.acknowledged_at == console.clock.now and stored.acknowledged_via == "console"
        events = audit_trail(session=db, subject_type="escalation", subject_id=escalation.id)
        assert (
            events[0].action == "escalation.acknowledged"
            and events[0].actor == f"staff:{stored.acknowledged_by}"
        )
    html = nurse.get("/").text
    assert _waiting_order(html) == [] and "acknowledged by Nina" in html


def test_a_red_flag_is_closed_in_three_clicks_from_the_queue(console: Console, nurse: TestClient) -> None:
    escalation = console.escalate(console.enrol())
    queue = nurse.get("/")
    link = f"/escalations/{escalation.id}"
    assert f'href="{link}"' in queue.text  # click 1: open it
    page = nurse.get(link)
    assert 'value="advised_ae"' in page.text  # click 2: choose the outcome; click 3: close
    response = nurse.post(f"{link}/close", data={"csrf_token": csrf_of(page.text), "outcome": "advised_ae"})
    assert response.headers["location"] == f"/?closed={escalation.id}"
    assert f"Escalation {escalation.id} is closed" in nurse.get(response.headers["location"]).text
    with console.db() as db:
        stored = get_escalation(session=db, escalation_id=escalation.id or 0)
        assert stored is not None
        assert (stored.status, stored.outcome) == (EscalationStatus.CLOSED, EscalationOutcome.ADVISED_AE)
        assert stored.acknowledged_by == stored.closed_by is not None  # closing acknowledged it too
        actions = [
            e.action for e in audit_trail(session=db, subject_type="escalation", subject_id=escalation.id)
        ]
        assert actions[:2] == ["escalation.closed", "escalation.viewed"]


def test_closing_needs_an_outcome_and_keeps_the_note(console: Console, nurse: TestClient) -> None:
    escalation = console.escalate(console.enrol())
    page = f"/escalations/{escalation.id}"
    missing = post(nurse, f"{page}/close", {"note": "rang twice"}, page=page)
    assert missing.headers["location"] == f"{page}?error=outcome#close"
    assert "Choose what was done before closing." in nurse.get(f"{page}?error=outcome").text
    post(
        nurse, f"{page}/close", {"outcome": "called_patient", "note": "Spoke to her, going to ED"}, page=page
    )
    with console.db() as db:
        stored = get_escalation(session=db, escalation_id=escalation.id or 0)
        assert stored is not None and stored.outcome is EscalationOutcome.CALLED_PATIENT
        assert [n.text for n in escalation_notes(session=db, escalation_id=escalation.id or 0)] == [
            "Spoke to her, going to ED"
        ]
    html = nurse.get(page).text
    assert "Closed by Nina" in html and "Called the patient" in html and "Spoke to her, going to ED" in html
    assert "Close escalation" not in html


def test_notes_are_added_with_their_author_and_blank_ones_ignored(
    console: Console, nurse: TestClient
) -> None:
    escalation = console.escalate(console.enrol())
    page = f"/escalations/{escalation.id}"
    assert post(nurse, f"{page}/notes", {"note": "  "}, page=page).headers["location"] == f"{page}#notes"
    post(nurse, f"{page}/notes", {"note": "Left a voicemail at 10:05"}, page=page)
    html = nurse.get(page).text
    assert "Left a voicemail at 10:05" in html and "Nina, Tue 24 Nov 2026, 10:00" in html
    with console.db() as db:
        assert len(escalation_notes(session=db, escalation_id=escalation.id or 0)) == 1


def test_viewing_an_escalation_is_audited_and_an_unknown_one_is_not_found(
    console: Console, nurse: TestClient
) -> None:
    escalation = console.escalate(console.enrol())
    page = nurse.get(f"/escalations/{escalation.id}")
    assert page.status_code == 200 and "Go to A&amp;E now." in page.text  # the advice the patient was given
    with console.db() as db:
        viewed = audit_trail(session=db, subject_type="escalation", subject_id=escalation.id)[0]
        assert viewed.action == "escalation.viewed" and viewed.actor.startswith("staff:")
    assert nurse.get("/escalations/999").status_code == 404
    assert post(nurse, "/escalations/999/acknowledge").status_code == 404


def test_a_system_escalation_from_nobody_we_know_is_listed_and_can_be_closed(
    console: Console, nurse: TestClient
) -> None:
    with console.db() as db:  # an unreadable update from a chat that is no patient's (bot/inbound.py)
        escalation = raise_escalation(
            session=db,
            patient_id=None,
            level=Level.AMBER,
            rule="amber.system.update_not_readable",
            trigger_text="(message that could not be read)",
            now=console.clock.now,
        )
        db.commit()
    card = nurse.get("/").text.split('id="waiting-title"')[1]
    assert "System" in card and "no patient known" in card and "amber.system.update_not_readable" in card
    page = nurse.get(f"/escalations/{escalation.id}")
    assert page.status_code == 200 and "None known" in page.text
    post(nurse, f"/escalations/{escalation.id}/close", {"outcome": "other", "note": "a poll; nothing to do"})
    with console.db() as db:
        closed = get_escalation(session=db, escalation_id=escalation.id or 0)
        assert closed is not None and closed.status is EscalationStatus.CLOSED and closed.patient_id is None
