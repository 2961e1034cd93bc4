"""The patients list (search and filters) and a patient's page: timeline, pain chart, reachability, and the
actions staff take there (send the next check-in now, pause, resume, message, a new invite slip)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlmodel import select

from flows.levels import Level
from storage.answers import record_answer
from storage.audit import audit_trail
from storage.checkins import (
    checkins_for_episode,
    claim_due_checkins,
    mark_checkin_awaiting_reply,
    mark_unanswered,
)
from storage.db import session_scope
from storage.enrolment import Enrolment, RedeemOutcome, redeem_invite
from storage.messages import claim_outbound, enqueue_message, mark_dead
from storage.models import CheckInStatus, MessagePurpose, OutboundMessage, PatientStatus, Priority
from storage.patients import get_patient, opt_out_patient, set_patient_status
from tests.console.conftest import Console, patient_id, post

HOUR = timedelta(hours=1)


def _rows(html: str) -> list[str]:
    return re.findall(r'<a href="/patients/\d+"><strong>(AC-\w+)</strong>', html)


def _answer_pain(console: Console, enrolment: Enrolment, scores: list[tuple[float, int]]) -> None:
    """Pain answers `hours` after the procedure, as the bot records them."""
    with session_scope(console.engine) as db:
        for hours, score in scores:
            record_answer(
                session=db,
                episode_id=enrolment.episode.id or 0,
                question_id="pain.now",
                text=str(score),
                value_json=json.dumps({"value": score}),
                level=Level.AMBER if score >= 8 else Level.GREEN,
                rule="green.pain.recorded",
                now=enrolment.episode.performed_at + hours * HOUR,
            )


def _leave_first_checkin_unanswered(console: Console, enrolment: Enrolment) -> None:
    """Sent and never answered. The patient must be the first enrolled (the claim takes the oldest due)."""
    with session_scope(console.engine) as db:
        first = checkins_for_episode(session=db, episode_id=enrolment.episode.id or 0)[0]
        assert claim_due_checkins(session=db, now=first.due_at, owner="t", lease=HOUR, limit=1) == [first]
        mark_checkin_awaiting_reply(
            session=db, checkin_id=first.id or 0, owner="t", state_json="{}", now=first.due_at
        )
        mark_unanswered(session=db, checkin_id=first.id or 0, now=first.due_at + 6 * HOUR)


def test_patients_are_found_by_reference_or_name(console: Console, nurse: TestClient) -> None:
    sam, jo = console.enrol("Sam"), console.enrol("Jo", procedure="medial-branch-block")
    assert set(_rows(nurse.get("/patients").text)) == {sam.patient.reference, jo.patient.reference}
    assert _rows(nurse.get("/patients?q=sa").text) == [sam.patient.reference]
    assert _rows(nurse.get(f"/patients?q={jo.patient.reference[3:].lower()}").text) == [jo.patient.reference]
    assert _rows(nurse.get("/patients?q=%25").text) == []  # a wildcard is a plain character
    assert _rows(nurse.get("/patients?procedure=medial-branch-block").text) == [jo.patient.reference]
    with console.db() as db:
        listed = audit_trail(session=db)[0]
        assert listed.action == "patients.listed" and "Jo" not in (listed.detail_json or "")


def test_patients_are_filtered_by_status_unanswered_check_ins_and_reachability(
    console: Console, nurse: TestClient
) -> None:
    # Ben first: his first check-in is the one the helper claims.
    silent, active, paused, never = (console.enrol(name) for name in ("Ben", "Ann", "Cat", "Dan"))
    for enrolment in (active, silent, paused):
        console.connect(enrolment)
    _leave_first_checkin_unanswered(console, silent)
    with session_scope(console.engine) as db:
        set_patient_status(
            session=db,
            patient_id=patient_id(paused),
            status=PatientStatus.PAUSED,
            actor="t",
            now=console.clock.now,
        )
        opt_out_patient(session=db, patient_id=patient_id(active), actor="t", now=console.clock.now)
    assert _rows(nurse.get("/patients?status=paused").text) == [paused.patient.reference]
    assert _rows(nurse.get("/patients?unanswered=true").text) == [silent.patient.reference]
    unreachable = set(_rows(nurse.get("/patients?unreachable=true").text))
    assert unreachable == {active.patient.reference, never.patient.reference}  # opted out; never connected
    assert _rows(nurse.get("/patients?status=nonsense").text) != []  # an unknown filter is ignored


def test_the_patient_page_tells_the_course_of_the_follow_up(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol("Sam")
    chat_id = console.connect(enrolment)
    _leave_first_checkin_unanswered(console, enrolment)
    _answer_pain(console, enrolment, [(20, 7), (44, 8), (68, 4)])
    escalation = console.escalate(enrolment, text="can't feel my legs properly")
    with session_scope(console.engine) as db:
        enqueue_message(
            session=db,
            chat_id=chat_id,
            text="<b>Go to A&amp;E now.</b>",  # the bot stores Telegram HTML
            purpose=MessagePurpose.ADVICE,
            priority=Priority.URGENT,
            patient_id=patient_id(enrolment),
            now=console.clock.now,
        )
        [message] = claim_outbound(session=db, now=console.clock.now, owner="t", lease=HOUR, limit=1)
        mark_dead(
            session=db,
            message_id=message.id or 0,
            owner="t",
            error="Forbidden: bot was blocked",
            now=console.clock.now,
        )
    html = nurse.get(f"/patients/{patient_id(enrolment)}").text
    assert "Sacroiliac joint injection" in html and "day 1 today" in html
    assert "unanswered" in html and "timeline__item--problem" in html
    assert "On a scale of 0 to 10, how bad is your pain right now?" in html and "green.pain.recorded" in html
    assert f'href="/escalations/{escalation.id}"' in html and "can&#39;t feel my legs properly" in html
    assert (
        "Advice given" in html and "dead" in html and "At least one message could not be delivered." in html
    )
    assert '<p class="message-text">Go to A&amp;E now.</p>' in html  # as the patient saw it
    assert len(re.findall(r'<circle [^>]*class="chart__point', html)) == 3
    assert "chart__point--amber" in html  # the 8 stands out
    with console.db() as db:
        viewed = audit_trail(session=db, subject_type="patient", subject_id=patient_id(enrolment))[0]
        assert viewed.action == "patient.viewed" and viewed.actor.startswith("staff:")


def test_the_page_says_when_a_patient_cannot_be_reached(console: Console, nurse: TestClient) -> None:
    never = console.enrol("Ann")
    assert "Has not opened their Telegram invite link yet" in nurse.get(f"/patients/{patient_id(never)}").text
    gone = console.enrol("Ben")
    console.connect(gone)
    with session_scope(console.engine) as db:
        set_patient_status(
            session=db,
            patient_id=patient_id(gone),
            status=PatientStatus.UNREACHABLE,
            actor="system",
            now=console.clock.now,
        )
    html = nurse.get(f"/patients/{patient_id(gone)}").text
    assert "Telegram refuses delivery" in html and "call the patient" in html
    assert "Messages cannot be sent to this patient" in html


def test_staff_can_send_the_next_check_in_now(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol(hours_ago=2)
    console.connect(enrolment)
    page = f"/patients/{patient_id(enrolment)}"
    response = post(nurse, f"{page}/send-next-checkin", page=page)
    assert response.headers["location"] == f"{page}?done=checkin"
    with console.db() as db:
        scheduled = [
            c
            for c in checkins_for_episode(session=db, episode_id=enrolment.episode.id or 0)
            if c.status is CheckInStatus.SCHEDULED
        ]
        assert scheduled[0].due_at == console.clock.now
        assert scheduled[1].due_at > console.clock.now
        assert audit_trail(session=db)[0].action == "checkin.brought_forward"
    assert "The next check-in is due now" in nurse.get(f"{page}?done=checkin").text


def test_the_next_check_in_cannot_be_sent_to_a_patient_who_is_not_connected(
    console: Console, nurse: TestClient
) -> None:
    enrolment = console.enrol(hours_ago=2)
    page = f"/patients/{patient_id(enrolment)}"
    assert "disabled" in nurse.get(page).text.split("Send the next check-in now")[0][-200:]
    assert post(nurse, f"{page}/send-next-checkin", page=page).status_code == 409


def test_pausing_and_resuming_follow_up(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol()
    console.connect(enrolment)
    page = f"/patients/{patient_id(enrolment)}"
    assert post(nurse, f"{page}/pause", page=page).headers["location"] == f"{page}?done=paused"
    with console.db() as db:
        assert (get_patient(session=db, patient_id=patient_id(enrolment)) or 0).status is PatientStatus.PAUSED
    assert "Resume follow-up" in nurse.get(page).text
    post(nurse, f"{page}/resume", page=page)
    with console.db() as db:
        assert (get_patient(session=db, patient_id=patient_id(enrolment)) or 0).status is PatientStatus.ACTIVE
        changes = [
            e.detail_json
            for e in audit_trail(session=db, subject_type="patient")
            if e.action == "patient.status_changed" and e.actor.startswith("staff:")
        ]
        assert changes == ['{"from": "paused", "to": "active"}', '{"from": "active", "to": "paused"}']


def test_a_message_to_the_patient_goes_into_the_outbox_for_the_bot(
    console: Console, nurse: TestClient
) -> None:
    enrolment = console.enrol()
    chat_id = console.connect(enrolment)
    page = f"/patients/{patient_id(enrolment)}"
    text = "Hello Sam, please call us on 01752 437706 & bring your <tablets> list."
    response = post(nurse, f"{page}/message", {"text": f"  {text}\n"}, page=page)
    assert response.headers["location"] == f"{page}?done=message"
    empty = post(nurse, f"{page}/message", {"text": "   "}, page=page)
    assert empty.headers["location"] == f"{page}?done=empty"
    with console.db() as db:
        [message] = db.exec(select(OutboundMessage)).all()
        assert (message.chat_id, message.purpose) == (chat_id, MessagePurpose.STAFF_MESSAGE)
        # The bot sends in Telegram's HTML mode: what staff typed is escaped, never read as markup.
        assert (
            message.text == "Hello Sam, please call us on 01752 437706 &amp; bring your &lt;tablets&gt; list."
        )
        events = audit_trail(session=db, subject_type="patient", subject_id=patient_id(enrolment))
        [queued] = [event for event in events if event.action == "patient.message_queued"]
        assert queued.actor.startswith("staff:") and "Sam" not in (queued.detail_json or "")
    # The timeline shows it as the patient reads it (and the page escapes it once, as all text).
    assert "437706 &amp; bring your &lt;tablets&gt; list." in nurse.get(page).text


def test_a_message_too_long_for_telegram_once_escaped_is_not_sent(
    console: Console, nurse: TestClient
) -> None:
    enrolment = console.enrol()
    console.connect(enrolment)
    page = f"/patients/{patient_id(enrolment)}"
    response = post(nurse, f"{page}/message", {"text": "&" * 1000}, page=page)  # 5000 characters escaped
    assert response.headers["location"] == f"{page}?done=too_long"
    with console.db() as db:
        assert db.exec(select(OutboundMessage)).all() == []


def test_no_message_goes_to_a_patient_who_opted_out(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol()
    console.connect(enrolment)
    with session_scope(console.engine) as db:
        opt_out_patient(session=db, patient_id=patient_id(enrolment), actor="t", now=console.clock.now)
    page = f"/patients/{patient_id(enrolment)}"
    assert 'name="text"' not in nurse.get(page).text
    assert post(nurse, f"{page}/message", {"text": "hello"}, page=page).status_code == 409
    with console.db() as db:
        assert db.exec(select(OutboundMessage)).all() == []


def test_a_lost_invite_is_replaced_by_a_new_slip(console: Console, nurse: TestClient) -> None:
    enrolment = console.enrol()
    page = f"/patients/{patient_id(enrolment)}"
    slip = post(nurse, f"{page}/invite", page=page)
    assert slip.status_code == 200 and "A new invite link" in slip.text
    new_token = re.search(r"start=([A-Za-z0-9_-]+)", slip.text)
    assert new_token is not None
    with session_scope(console.engine) as db:
        old = redeem_invite(
            session=db, token=enrolment.invite_token, chat_id=5, user_id=5, now=console.clock.now
        )
        new = redeem_invite(session=db, token=new_token.group(1), chat_id=5, user_id=5, now=console.clock.now)
    assert (old.outcome, new.outcome) == (RedeemOutcome.EXPIRED, RedeemOutcome.OK)
    assert post(nurse, f"{page}/invite", page=page).status_code == 409  # connected now: no new link needed


def test_an_unknown_patient_is_not_found(nurse: TestClient) -> None:
    assert nurse.get("/patients/4242").status_code == 404
    assert post(nurse, "/patients/4242/pause").status_code == 404
