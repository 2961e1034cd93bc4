"""The health check (storage/health_check.py): healthy, and each figure that means "not hearing patients".

Runs on SQLite and PostgreSQL (the `session` fixture). Thresholds are the defaults unless a test says.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from importlib.resources import files

import pytest
from sqlmodel import Session

from flows.clinic import Clinic, load_clinic
from flows.levels import Level
from storage.escalations import raise_escalation
from storage.health_check import Figure, HealthReport, HealthThresholds, Receiving, check_health
from storage.inbound import (
    canonical_json,
    note_delivery,
    note_processing_restart,
    quarantine_inbound_update,
    record_inbound_update,
)
from storage.messages import enqueue_message
from storage.models import MessagePurpose, Priority
from tests.storage.factories import DAY, NOW, enrol, enrol_connected

MINUTE = timedelta(minutes=1)
BOT = 5_000_000_001
MONDAY_9AM = datetime.fromisoformat("2026-11-23T09:00:00+00:00")  # London is on GMT: office hours open


@pytest.fixture(scope="module")
def clinic() -> Clinic:
    text = (files("flows") / "data" / "clinics" / "uhp-pain-clinic.yaml").read_text(encoding="utf-8")
    return load_clinic(text, source="uhp-pain-clinic.yaml")


def check(
    session: Session,
    clinic: Clinic,
    now: datetime,
    *,
    receiving: Receiving = Receiving.POLLING,
    thresholds: HealthThresholds | None = None,
) -> HealthReport:
    session.commit()
    return check_health(
        session=session,
        clinic=clinic,
        receiving=receiving,
        thresholds=thresholds or HealthThresholds(),
        now=now,
    )


def polled(session: Session, at: datetime) -> None:
    note_delivery(session=session, bot_id=BOT, mode="polling", now=at)


def received(session: Session, update_id: int, at: datetime) -> int:
    row_id = record_inbound_update(
        session=session,
        bot_id=BOT,
        update_id=update_id,
        chat_id=1,
        kind="message",
        payload_json=canonical_json({"update_id": update_id}),
        now=at,
    )
    assert row_id is not None
    return row_id


def figures(report: HealthReport) -> list[Figure]:
    return [problem.figure for problem in report.problems]


def test_a_service_that_polls_and_has_nothing_waiting_is_healthy(session: Session, clinic: Clinic) -> None:
    polled(session, NOW - timedelta(seconds=30))
    report = check(session, clinic, NOW)
    assert report.healthy and report.status == "healthy" and report.problems == ()
    assert report.as_json()["last_delivery_age_seconds"] == 30
    assert report.as_json()["last_delivery_via"] == "polling"
    assert report.as_json()["processing_restarts"] == 0
    assert (
        report.as_json()["updates_waiting"] == 0
        and report.as_json()["outbox_oldest_unsent_age_seconds"] is None
    )


def test_polling_that_has_not_succeeded_for_five_minutes_is_not_hearing_patients(
    session: Session, clinic: Clinic
) -> None:
    never = check(session, clinic, NOW)
    assert figures(never) == [Figure.RECEIVING] and "never" in never.problems[0].message
    polled(session, NOW - 5 * MINUTE)
    assert check(session, clinic, NOW).healthy
    report = check(session, clinic, NOW + MINUTE)
    assert figures(report) == [Figure.RECEIVING] and report.status == "not hearing patients"
    assert report.problems[0].message == "no getUpdates call has succeeded (not for 6 min)"


def test_webhook_silence_is_judged_only_when_asked_for(session: Session, clinic: Clinic) -> None:
    note_delivery(session=session, bot_id=BOT, mode="webhook", now=NOW - 3 * 60 * MINUTE)
    assert check(session, clinic, NOW, receiving=Receiving.WEBHOOK).healthy  # a quiet night is normal
    strict = HealthThresholds(webhook_silence=timedelta(hours=2))
    report = check(session, clinic, NOW, receiving=Receiving.WEBHOOK, thresholds=strict)
    assert (
        figures(report) == [Figure.RECEIVING] and "no webhook POST has arrived" in report.problems[0].message
    )


def test_an_update_waiting_to_be_processed_for_over_five_minutes_is_a_problem(
    session: Session, clinic: Clinic
) -> None:
    polled(session, NOW)
    received(session, 7, NOW - 4 * MINUTE)
    assert check(session, clinic, NOW).healthy
    report = check(session, clinic, NOW + 2 * MINUTE)
    assert figures(report) == [Figure.UPDATES_WAITING]
    assert report.problems[0].message == "1 update(s) recorded but not processed, the oldest for 6 min"


def test_an_update_quarantined_in_the_last_hour_is_a_problem(session: Session, clinic: Clinic) -> None:
    polled(session, NOW + 2 * 60 * MINUTE)
    row_id = received(session, 8, NOW)
    quarantine_inbound_update(session=session, row_id=row_id, reason="KeyError", now=NOW)
    report = check(session, clinic, NOW + 30 * MINUTE)
    assert figures(report) == [Figure.QUARANTINED] and report.quarantined == 1
    assert report.as_json()["last_quarantined_age_seconds"] == 30 * 60
    later = check(session, clinic, NOW + 61 * MINUTE)  # still counted, no longer recent
    assert later.healthy and later.quarantined == 1 and later.quarantined_last_hour == 0
    off = HealthThresholds(quarantined_per_hour=0)
    assert check(session, clinic, NOW + 30 * MINUTE, thresholds=off).healthy


def test_a_message_unsent_for_over_ten_minutes_is_a_problem(session: Session, clinic: Clinic) -> None:
    polled(session, NOW + 11 * MINUTE)
    enqueue_message(
        session=session,
        chat_id=1,
        text="Your check-in",
        purpose=MessagePurpose.REPLY,
        priority=Priority.REPLY,
        now=NOW,
    )
    assert check(session, clinic, NOW + 10 * MINUTE).healthy
    report = check(session, clinic, NOW + 11 * MINUTE)
    assert figures(report) == [Figure.OUTBOX]
    assert report.problems[0].message == "1 message(s) not sent, the oldest queued 11 min ago"


def test_a_check_in_due_for_over_fifteen_minutes_and_not_begun_is_a_problem(
    session: Session, clinic: Clinic
) -> None:
    enrolment, _ = enrol_connected(session)
    due = enrolment.checkins[0].due_at
    assert due == NOW + DAY
    polled(session, due + 16 * MINUTE)
    assert check(session, clinic, due + 15 * MINUTE).healthy
    report = check(session, clinic, due + 16 * MINUTE)
    assert figures(report) == [Figure.CHECKINS_OVERDUE]
    assert report.problems[0].message == "1 check-in(s) due but not begun, the oldest due 16 min ago"


def test_red_flags_unacknowledged_are_reported_with_the_clinics_target_but_do_not_fail_the_check(
    session: Session, clinic: Clinic
) -> None:
    patient = enrol(session, planned=()).patient
    assert patient.id is not None
    for raised_at in (MONDAY_9AM, MONDAY_9AM + 75 * MINUTE):  # the clinic's red target: 1 working hour
        raise_escalation(
            session=session,
            patient_id=patient.id,
            level=Level.RED,
            rule="rf.ces",
            trigger_text="",
            now=raised_at,
        )
    now = MONDAY_9AM + 90 * MINUTE
    polled(session, now)
    report = check(session, clinic, now)
    assert report.healthy
    assert report.red_flags_unacknowledged.count == 2 and report.red_flags_past_target == 1
    assert report.as_json()["red_flags_unacknowledged_oldest_age_seconds"] == 90 * 60


def test_processing_restarts_are_reported_with_the_last_one_but_do_not_fail_the_check(
    session: Session, clinic: Clinic
) -> None:
    """The processing task started itself again; if it keeps dying, updates wait and that figure fails."""
    polled(session, NOW)
    note_processing_restart(session=session, bot_id=BOT, mode="polling", error="OperationalError", now=NOW)
    note_processing_restart(
        session=session, bot_id=BOT, mode="polling", error="RuntimeError", now=NOW + MINUTE
    )
    report = check(session, clinic, NOW + 2 * MINUTE)
    assert report.healthy and report.processing_restarts == 2
    assert report.as_json()["last_processing_restart_age_seconds"] == 60
    assert report.as_json()["last_processing_restart_error"] == "RuntimeError"


def test_every_figure_at_once_is_listed_in_a_fixed_order(session: Session, clinic: Clinic) -> None:
    received(session, 9, NOW)
    quarantine_inbound_update(
        session=session, row_id=received(session, 10, NOW), reason="KeyError", now=NOW + DAY
    )
    enqueue_message(
        session=session,
        chat_id=1,
        text="Hello",
        purpose=MessagePurpose.REPLY,
        priority=Priority.REPLY,
        now=NOW,
    )
    enrol_connected(session)
    report = check(session, clinic, NOW + DAY + 20 * MINUTE)
    assert figures(report) == list(Figure)
    assert report.as_json()["problems"][0] == {
        "figure": "receiving",
        "message": "no getUpdates call has succeeded (never)",
    }
