"""Escalations: raised once, listed red-first, acknowledged and closed by staff, all audited."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from flows.levels import Level
from storage.answers import record_answer
from storage.audit import audit_trail
from storage.escalations import (
    acknowledge_escalation,
    add_escalation_note,
    close_escalation,
    escalation_notes,
    escalations_for_patient,
    escalations_needing_alert,
    get_escalation,
    list_escalations,
    mark_staff_alerted,
    raise_escalation,
)
from storage.models import AckChannel, Escalation, EscalationOutcome, EscalationStatus, Patient, StaffRole
from storage.staff import create_staff_user
from tests.storage.factories import HOUR, NOW, enrol_connected

MINUTE = timedelta(minutes=1)


def _patient(session: Session) -> Patient:
    return enrol_connected(session)[1]


def _raise(
    session: Session, patient: Patient, level: Level = Level.RED, *, at: timedelta = timedelta(0)
) -> Escalation:
    return raise_escalation(
        session=session,
        patient_id=patient.id or 0,
        level=level,
        rule="cauda_equina",
        advice_id="call_999",
        trigger_text="can't feel my bottom",
        now=NOW + at,
    )


def _nurse(session: Session, username: str = "nina") -> int:
    user = create_staff_user(
        session=session,
        username=username,
        password_hash="hash",
        role=StaffRole.NURSE,
        display_name="Nina",
        now=NOW,
    )
    return user.id or 0


def test_an_escalation_is_raised_open_and_audited(session: Session) -> None:
    patient = _patient(session)
    escalation = _raise(session, patient)

    assert escalation.status == EscalationStatus.OPEN and escalation.level == Level.RED
    assert get_escalation(session=session, escalation_id=escalation.id or 0) == escalation
    assert escalations_for_patient(session=session, patient_id=patient.id or 0) == [escalation]
    assert "escalation.raised" in [event.action for event in audit_trail(session=session)]


def test_a_retried_handler_does_not_raise_the_same_flag_twice(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    answer_id = record_answer(
        session=session,
        episode_id=enrolment.episode.id or 0,
        question_id="q",
        text="t",
        level=Level.RED,
        now=NOW,
    )
    first = raise_escalation(
        session=session,
        patient_id=patient.id or 0,
        level=Level.RED,
        rule="r",
        trigger_text="t",
        answer_id=answer_id,
        now=NOW,
    )
    again = raise_escalation(
        session=session,
        patient_id=patient.id or 0,
        level=Level.RED,
        rule="r",
        trigger_text="t",
        answer_id=answer_id,
        now=NOW,
    )
    assert again.id == first.id


def test_open_escalations_are_listed_red_first_then_longest_waiting(session: Session) -> None:
    patient = _patient(session)
    amber = _raise(session, patient, Level.AMBER, at=timedelta(0))
    red_late = _raise(session, patient, Level.RED, at=2 * HOUR)
    red_early = _raise(session, patient, Level.RED, at=HOUR)
    acknowledged = _raise(session, patient, Level.RED, at=3 * HOUR)
    closed = _raise(session, patient, Level.RED, at=4 * HOUR)
    nurse = _nurse(session)
    acknowledge_escalation(
        session=session, escalation_id=acknowledged.id or 0, staff_id=nurse, via=AckChannel.CONSOLE, now=NOW
    )
    close_escalation(
        session=session,
        escalation_id=closed.id or 0,
        staff_id=nurse,
        outcome=EscalationOutcome.FALSE_ALARM,
        now=NOW,
    )

    assert list_escalations(session=session, open_only=True) == [red_early, red_late, amber, acknowledged]
    assert list_escalations(session=session, open_only=False)[-1] == closed


def test_the_first_acknowledgement_wins(session: Session) -> None:
    escalation = _raise(session, _patient(session))
    nina, omar = _nurse(session, "nina"), _nurse(session, "omar")

    acknowledge_escalation(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=nina,
        via=AckChannel.TELEGRAM,
        now=NOW + MINUTE,
    )
    acknowledge_escalation(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=omar,
        via=AckChannel.CONSOLE,
        now=NOW + HOUR,
    )

    assert escalation.status == EscalationStatus.ACKNOWLEDGED
    assert (escalation.acknowledged_by, escalation.acknowledged_at, escalation.acknowledged_via) == (
        nina,
        NOW + MINUTE,
        AckChannel.TELEGRAM,
    )
    acks = [e for e in audit_trail(session=session) if e.action == "escalation.acknowledged"]
    assert [e.actor for e in acks] == [f"staff:{nina}"]


def test_acknowledging_from_telegram_without_a_console_account(session: Session) -> None:
    escalation = _raise(session, _patient(session))
    acknowledge_escalation(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=None,
        via=AckChannel.TELEGRAM,
        actor="telegram:555",
        now=NOW,
    )
    assert escalation.status == EscalationStatus.ACKNOWLEDGED and escalation.acknowledged_by is None
    assert "telegram:555" in [e.actor for e in audit_trail(session=session)]


def test_closing_records_the_outcome_and_notes_are_kept(session: Session) -> None:
    escalation = _raise(session, _patient(session))
    nurse = _nurse(session)

    add_escalation_note(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=nurse,
        text=" Rang patient, sent to A&E ",
        now=NOW,
    )
    close_escalation(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=nurse,
        outcome=EscalationOutcome.ADVISED_AE,
        now=NOW + HOUR,
    )
    close_escalation(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=nurse,
        outcome=EscalationOutcome.OTHER,
        now=NOW + 2 * HOUR,
    )

    assert escalation.status == EscalationStatus.CLOSED and escalation.outcome == EscalationOutcome.ADVISED_AE
    assert (escalation.closed_by, escalation.closed_at) == (nurse, NOW + HOUR)
    assert escalation.acknowledged_by == nurse  # closing unacknowledged acknowledges it too
    assert [note.text for note in escalation_notes(session=session, escalation_id=escalation.id or 0)] == [
        "Rang patient, sent to A&E"
    ]
    actions = [e.action for e in audit_trail(session=session, subject_type="escalation")]
    assert actions.count("escalation.closed") == 1 and "escalation.note_added" in actions
    assert all("A&E" not in (e.detail_json or "") for e in audit_trail(session=session))


def test_staff_are_alerted_then_realerted_until_someone_acknowledges(session: Session) -> None:
    escalation = _raise(session, _patient(session))
    every = timedelta(minutes=15)

    assert escalations_needing_alert(session=session, now=NOW, realert_after=every) == [escalation]
    mark_staff_alerted(session=session, escalation_id=escalation.id or 0, now=NOW)
    assert escalations_needing_alert(session=session, now=NOW + 14 * MINUTE, realert_after=every) == []
    assert escalations_needing_alert(session=session, now=NOW + every, realert_after=every) == [escalation]

    mark_staff_alerted(session=session, escalation_id=escalation.id or 0, now=NOW + every)
    assert (escalation.staff_alerted_at, escalation.last_realerted_at) == (NOW, NOW + every)
    assert (
        escalations_needing_alert(session=session, now=NOW + every + 14 * MINUTE, realert_after=every) == []
    )

    acknowledge_escalation(
        session=session,
        escalation_id=escalation.id or 0,
        staff_id=None,
        via=AckChannel.TELEGRAM,
        now=NOW + HOUR,
    )
    assert escalations_needing_alert(session=session, now=NOW + 5 * HOUR, realert_after=every) == []


def test_amber_escalations_are_alerted_once_and_red_ones_again_until_acknowledged(session: Session) -> None:
    _, patient = enrol_connected(session)
    assert patient.id is not None
    amber = raise_escalation(
        session=session,
        patient_id=patient.id,
        level=Level.AMBER,
        rule="amber.fever",
        trigger_text="hot",
        now=NOW,
    )
    red = raise_escalation(
        session=session, patient_id=patient.id, level=Level.RED, rule="red.ces", trigger_text="numb", now=NOW
    )
    every = timedelta(hours=1)
    assert escalations_needing_alert(session=session, now=NOW, realert_after=every) == [amber, red]
    for escalation in (amber, red):
        mark_staff_alerted(session=session, escalation_id=escalation.id or 0, now=NOW)
    assert escalations_needing_alert(session=session, now=NOW + 2 * every, realert_after=every) == [red]
    only_red = escalations_needing_alert(
        session=session, now=NOW, realert_after=every, alert_levels=(Level.RED,)
    )
    assert only_red == []
