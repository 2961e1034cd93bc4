"""The health check's figures (storage/health.py), on SQLite and PostgreSQL: what waits, and since when.
Receiving's figures (updates waiting and quarantined) are storage.inbound.inbound_health's, tested with it."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session

from flows.levels import Level
from storage.checkins import claim_due_checkin_ids
from storage.escalations import acknowledge_escalation, raise_escalation
from storage.health import Backlog, checkins_due_not_begun, outbox_unsent, unacknowledged_red_flags
from storage.messages import (
    claim_outbound,
    enqueue_message,
    mark_attempts_started,
    mark_dead,
    mark_retry,
    mark_sent,
    take_back_claims,
)
from storage.models import AckChannel, MessagePurpose, PatientStatus, Priority
from storage.patients import set_patient_status
from tests.storage.factories import DAY, HOUR, NOW, enrol, enrol_connected

MINUTE = timedelta(minutes=1)


def _queue(session: Session, chat_id: int, *, at: timedelta) -> int:
    return enqueue_message(
        session=session,
        chat_id=chat_id,
        text="How is your pain?",
        purpose=MessagePurpose.REPLY,
        priority=Priority.REPLY,
        now=NOW + at,
    )


def test_outbox_unsent_counts_what_is_due_sending_or_retrying_but_not_sent_dead_or_for_later(
    session: Session,
) -> None:
    sent = _queue(session, 1, at=timedelta(0))
    dead = _queue(session, 2, at=timedelta(0))
    retrying = _queue(session, 3, at=MINUTE)
    claimed = claim_outbound(session=session, now=NOW + 2 * MINUTE, owner="a", lease=HOUR, limit=10)
    assert {m.id for m in claimed} == {sent, dead, retrying}
    mark_sent(session=session, message_id=sent, telegram_message_id=1, now=NOW + 2 * MINUTE)
    mark_dead(session=session, message_id=dead, owner="a", error="Forbidden", now=NOW + 2 * MINUTE)
    mark_retry(
        session=session, message_id=retrying, owner="a", not_before=NOW + HOUR, error="NetworkError", now=NOW
    )
    sending = _queue(session, 4, at=3 * MINUTE)
    claimed = claim_outbound(session=session, now=NOW + 3 * MINUTE, owner="b", lease=HOUR, limit=10)
    assert [m.id for m in claimed] == [sending]
    _queue(session, 5, at=4 * MINUTE)  # pending, due
    enqueue_message(
        session=session,
        chat_id=6,
        text="Later",
        purpose=MessagePurpose.REMINDER,
        priority=Priority.ROUTINE,
        now=NOW,
        not_before=NOW + DAY,  # queued for later: not late yet
    )
    session.commit()
    unsent = outbox_unsent(session=session, now=NOW + 10 * MINUTE)
    assert unsent == Backlog(count=3, oldest=NOW + MINUTE)  # retrying, being sent, due


def test_check_ins_due_but_not_begun_count_only_patients_who_can_be_messaged(session: Session) -> None:
    connected, _ = enrol_connected(session)  # day1 due at NOW + DAY, day3 at NOW + 3 DAY
    enrol(session, display_name="Ann")  # never opened the link: her check-ins wait, rightly
    _, paused_patient = enrol_connected(session, display_name="Bo")
    assert paused_patient.id is not None
    set_patient_status(
        session=session, patient_id=paused_patient.id, status=PatientStatus.PAUSED, actor="test", now=NOW
    )
    session.commit()
    assert checkins_due_not_begun(session=session, now=NOW + DAY - MINUTE) == Backlog(count=0, oldest=None)
    late = checkins_due_not_begun(session=session, now=NOW + DAY + 20 * MINUTE)
    assert late == Backlog(count=1, oldest=connected.checkins[0].due_at)
    assert checkins_due_not_begun(session=session, now=NOW + 4 * DAY).count == 2


def test_a_check_in_claimed_by_a_worker_that_died_counts_once_its_lease_runs_out(session: Session) -> None:
    connected, _ = enrol_connected(session)
    due = connected.checkins[0].due_at
    claimed = claim_due_checkin_ids(session=session, now=due, owner="host-a:1", lease=5 * MINUTE, limit=10)
    assert claimed == [connected.checkins[0].id]
    session.commit()
    assert checkins_due_not_begun(session=session, now=due + 4 * MINUTE).count == 0  # being begun
    assert checkins_due_not_begun(session=session, now=due + 6 * MINUTE) == Backlog(count=1, oldest=due)


def test_red_flags_not_yet_acknowledged_oldest_first(session: Session) -> None:
    _, patient = enrol_connected(session)
    assert patient.id is not None
    first = raise_escalation(
        session=session, patient_id=patient.id, level=Level.RED, rule="rf.ces", trigger_text="", now=NOW
    )
    raise_escalation(
        session=session,
        patient_id=patient.id,
        level=Level.RED,
        rule="rf.fever",
        trigger_text="",
        now=NOW + HOUR,
    )
    raise_escalation(
        session=session,
        patient_id=patient.id,
        level=Level.AMBER,
        rule="pain",
        trigger_text="",
        now=NOW - HOUR,
    )
    acknowledged = raise_escalation(
        session=session, patient_id=patient.id, level=Level.RED, rule="rf.leg", trigger_text="", now=NOW - DAY
    )
    assert acknowledged.id is not None and first.id is not None
    acknowledge_escalation(
        session=session, escalation_id=acknowledged.id, staff_id=None, via=AckChannel.TELEGRAM, now=NOW
    )
    session.commit()
    assert unacknowledged_red_flags(session=session) == [NOW, NOW + HOUR]


def test_outbox_unsent_counts_every_attempt_state_and_what_a_stopped_worker_left(session: Session) -> None:
    """The outbox's attempt states (claimed and waiting its turn, its request gone, taken back from a worker
    that stopped) are all unsent; whatever the priority, each message counts once until it is sent."""
    started = _queue(session, 1, at=timedelta(0))
    waiting = _queue(session, 2, at=MINUTE)
    urgent = enqueue_message(
        session=session,
        chat_id=3,
        text="Call 999",
        purpose=MessagePurpose.ADVICE,
        priority=Priority.URGENT,
        now=NOW + 2 * MINUTE,
    )
    claim_outbound(session=session, now=NOW + 2 * MINUTE, owner="w1", lease=HOUR, limit=10)
    mark_attempts_started(
        session=session, message_ids=[started], owner="w1", now=NOW + 2 * MINUTE, lease_until=NOW + HOUR
    )
    session.commit()
    assert outbox_unsent(session=session, now=NOW + 3 * MINUTE) == Backlog(count=3, oldest=NOW)

    taken = take_back_claims(session=session, owner="w1", now=NOW + 4 * MINUTE)  # restarted under its name
    session.commit()
    assert (taken.may_have_arrived, sorted(taken.never_sent)) == ([started], sorted([waiting, urgent]))
    assert outbox_unsent(session=session, now=NOW + 4 * MINUTE) == Backlog(count=3, oldest=NOW)

    for message_id in (started, waiting, urgent):
        mark_sent(
            session=session, message_id=message_id, telegram_message_id=message_id, now=NOW + 5 * MINUTE
        )
    session.commit()
    assert outbox_unsent(session=session, now=NOW + 5 * MINUTE) == Backlog(count=0, oldest=None)
