"""Check-ins: claimed when due under a lease, never by two workers at once, and tracked to the end."""

from __future__ import annotations

import threading
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session

from storage.audit import audit_trail
from storage.checkins import (
    awaiting_checkin_context,
    awaiting_checkin_for_patient,
    bring_next_checkin_forward,
    checkin_context,
    checkins_awaiting_reply,
    claim_due_checkins,
    complete_checkin,
    get_checkin,
    mark_checkin_awaiting_reply,
    mark_missed,
    mark_reminder_sent,
    mark_unanswered,
    overdue_checkins,
    postpone_checkin,
    save_checkin_state,
    schedule_checkin,
    take_back_checkin_claims,
)
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import CheckInStatus, PatientStatus
from storage.patients import set_patient_status
from tests.storage.factories import DAY, HOUR, NOW, enrol, enrol_connected, run_together

LEASE = timedelta(minutes=5)


def _claim(session: Session, *, at: timedelta, owner: str = "worker-a", limit: int = 10) -> list[int]:
    claimed = claim_due_checkins(session=session, now=NOW + at, owner=owner, lease=LEASE, limit=limit)
    return [checkin.id or 0 for checkin in claimed]


def test_only_due_check_ins_are_claimed_and_they_carry_a_lease(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    day1, day3 = enrolment.checkins

    assert _claim(session, at=DAY - HOUR) == []
    assert _claim(session, at=DAY) == [day1.id]

    claimed = get_checkin(session=session, checkin_id=day1.id or 0)
    assert claimed is not None and claimed.status == CheckInStatus.SENDING
    assert (claimed.lease_owner, claimed.lease_until, claimed.attempts) == ("worker-a", NOW + DAY + LEASE, 1)
    assert day3.status == CheckInStatus.SCHEDULED


def test_a_second_claimer_gets_nothing_until_the_lease_expires_then_takes_over(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    day1 = enrolment.checkins[0]
    assert day1.id is not None
    assert _claim(session, at=DAY, owner="worker-a") == [day1.id]

    assert _claim(session, at=DAY + LEASE - timedelta(seconds=1), owner="worker-b") == []
    assert _claim(session, at=DAY + LEASE, owner="worker-b") == [day1.id]
    assert (day1.lease_owner, day1.attempts) == ("worker-b", 2)

    # the first worker, back from the dead, must not record the send over the new owner
    assert not mark_checkin_awaiting_reply(
        session=session, checkin_id=day1.id, owner="worker-a", state_json="{}", now=NOW + DAY + LEASE
    )
    assert mark_checkin_awaiting_reply(
        session=session, checkin_id=day1.id, owner="worker-b", state_json='{"q": 1}', now=NOW + DAY + LEASE
    )
    assert day1.status == CheckInStatus.AWAITING_REPLY and day1.lease_owner is None
    assert day1.sent_at == NOW + DAY + LEASE and day1.state_json == '{"q": 1}'


def test_a_restarted_worker_takes_its_check_ins_back_at_once_and_no_one_elses(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    other, _ = enrol_connected(session, display_name="Other")
    mine, theirs = enrolment.checkins[0], other.checkins[0]
    assert mine.id is not None and theirs.id is not None
    assert _claim(session, at=DAY, owner="worker-a", limit=1) == [mine.id]
    assert _claim(session, at=DAY, owner="worker-b", limit=1) == [theirs.id]

    assert take_back_checkin_claims(session=session, owner="worker-a") == [mine.id]  # killed, started again

    session.refresh(mine)
    session.refresh(theirs)
    assert (mine.status, mine.lease_owner) == (CheckInStatus.SCHEDULED, None)
    assert (theirs.status, theirs.lease_owner) == (CheckInStatus.SENDING, "worker-b")
    assert _claim(session, at=DAY, owner="worker-a") == [mine.id]  # due at once, not after the lease


def test_check_ins_of_patients_who_cannot_be_messaged_are_not_claimed(session: Session) -> None:
    enrol(session, display_name="Never connected")
    _, paused = enrol_connected(session, display_name="Paused")
    assert paused.id is not None
    set_patient_status(
        session=session, patient_id=paused.id, status=PatientStatus.PAUSED, actor="staff:1", now=NOW
    )

    assert _claim(session, at=4 * DAY) == []


def test_claimers_running_at_the_same_moment_never_share_a_check_in(engine: Engine) -> None:
    with session_scope(engine) as session:
        for index in range(6):
            enrol_connected(session, display_name=f"P{index}")  # 2 check-ins each: 12 in all

    def claim(owner: str) -> list[int]:
        with session_scope(engine) as session:
            return _claim(session, at=4 * DAY, owner=owner, limit=5)

    batches = run_together([partial(claim, f"worker-{n}") for n in range(4)])
    claimed = [checkin_id for batch in batches for checkin_id in batch]
    assert len(claimed) == len(set(claimed)) == 12


def test_an_open_conversation_is_found_for_the_patient_and_reminded(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    day1 = enrolment.checkins[0]
    assert day1.id is not None and patient.id is not None
    _claim(session, at=DAY)
    mark_checkin_awaiting_reply(
        session=session, checkin_id=day1.id, owner="worker-a", state_json="{}", now=NOW + DAY
    )

    assert awaiting_checkin_for_patient(session=session, patient_id=patient.id) == day1
    assert checkins_awaiting_reply(session=session, sent_before=NOW + DAY) == []
    assert checkins_awaiting_reply(session=session, sent_before=NOW + DAY + HOUR) == [day1]

    mark_reminder_sent(session=session, checkin_id=day1.id, now=NOW + DAY + 4 * HOUR)
    assert day1.reminder_sent_at == NOW + DAY + 4 * HOUR


def test_unanswered_then_late_answers_still_complete_the_check_in(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    day1 = enrolment.checkins[0]
    assert day1.id is not None and patient.id is not None
    _claim(session, at=DAY)
    mark_checkin_awaiting_reply(
        session=session, checkin_id=day1.id, owner="worker-a", state_json="{}", now=NOW + DAY
    )

    assert mark_unanswered(session=session, checkin_id=day1.id, now=NOW + 2 * DAY)
    assert not mark_unanswered(session=session, checkin_id=day1.id, now=NOW + 2 * DAY)
    assert awaiting_checkin_for_patient(session=session, patient_id=patient.id) is None

    save_checkin_state(session=session, checkin_id=day1.id, state_json='{"step": 2}')
    complete_checkin(
        session=session, checkin_id=day1.id, state_json='{"done": true}', now=NOW + 2 * DAY + HOUR
    )
    assert day1.status == CheckInStatus.COMPLETED and day1.completed_at == NOW + 2 * DAY + HOUR
    assert day1.state_json == '{"done": true}'
    assert "checkin.unanswered" in [event.action for event in audit_trail(session=session)]


def test_overdue_check_ins_of_unconnected_patients_are_marked_missed(session: Session) -> None:
    enrolment = enrol(session)
    day1, day3 = enrolment.checkins
    assert day1.id is not None

    assert overdue_checkins(session=session, due_before=NOW + 2 * DAY, now=NOW + 2 * DAY) == [day1]
    assert mark_missed(session=session, checkin_id=day1.id, reason="patient_not_connected", now=NOW + 2 * DAY)
    assert not mark_missed(session=session, checkin_id=day1.id, reason="again", now=NOW + 2 * DAY)

    assert day1.status == CheckInStatus.MISSED and day3.status == CheckInStatus.SCHEDULED
    missed = [event for event in audit_trail(session=session) if event.action == "checkin.missed"]
    assert len(missed) == 1 and "patient_not_connected" in (missed[0].detail_json or "")


def test_scheduling_the_same_key_twice_keeps_the_first(session: Session) -> None:
    enrolment = enrol(session, planned=[])
    episode_id = enrolment.episode.id
    assert episode_id is not None

    first = schedule_checkin(session=session, episode_id=episode_id, key="glucose_day2", due_at=NOW + 2 * DAY)
    again = schedule_checkin(session=session, episode_id=episode_id, key="glucose_day2", due_at=NOW + 5 * DAY)
    assert again == first and again.due_at == NOW + 2 * DAY


def test_a_check_in_comes_with_its_episode_and_patient(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    context = checkin_context(session=session, checkin_id=enrolment.checkins[0].id or 0)
    assert context is not None
    assert (context.episode, context.patient) == (enrolment.episode, patient)
    assert checkin_context(session=session, checkin_id=12345) is None


def test_an_open_conversation_comes_with_its_episode_and_patient(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    day1 = enrolment.checkins[0]
    chat_id = patient.telegram_chat_id
    assert day1.id is not None and chat_id is not None
    assert awaiting_checkin_context(session=session, chat_id=chat_id) is None  # nothing asked yet
    _claim(session, at=DAY)
    mark_checkin_awaiting_reply(
        session=session, checkin_id=day1.id, owner="worker-a", state_json="{}", now=NOW + DAY
    )
    context = awaiting_checkin_context(session=session, chat_id=chat_id)
    assert context is not None
    assert (context.checkin, context.episode, context.patient) == (day1, enrolment.episode, patient)


def test_two_workers_answering_one_patient_take_turns(engine: Engine) -> None:
    """The second reads the open check-in only once the first has committed its new state."""
    with session_scope(engine) as session:
        enrolment, patient = enrol_connected(session)
        checkin_id, chat_id = enrolment.checkins[0].id or 0, patient.telegram_chat_id or 0
        _claim(session, at=DAY)
        mark_checkin_awaiting_reply(
            session=session, checkin_id=checkin_id, owner="worker-a", state_json="{}", now=NOW + DAY
        )
    seen: list[str | None] = []

    def second_worker() -> None:
        with session_scope(engine) as session:
            context = awaiting_checkin_context(session=session, chat_id=chat_id)
            seen.append(context.checkin.state_json if context else None)

    with session_scope(engine) as first:
        assert awaiting_checkin_context(session=first, chat_id=chat_id) is not None
        worker = threading.Thread(target=second_worker)
        worker.start()
        worker.join(timeout=0.3)
        assert worker.is_alive() and seen == []  # waiting for the first worker's lock
        save_checkin_state(session=first, checkin_id=checkin_id, state_json='{"answered": 1}')
    worker.join(timeout=10)
    assert seen == ['{"answered": 1}']


def test_staff_can_bring_the_next_check_in_forward_and_it_is_claimed_at_once(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    day1, day3 = enrolment.checkins
    forward = partial(
        bring_next_checkin_forward, session=session, episode_id=enrolment.episode.id or 0, actor="staff:1"
    )
    assert _claim(session, at=HOUR) == []

    assert forward(now=NOW + HOUR) == day1
    assert day1.due_at == NOW + HOUR and day3.due_at == NOW + 3 * DAY
    assert _claim(session, at=HOUR) == [day1.id]
    events = [event for event in audit_trail(session=session) if event.action == "checkin.brought_forward"]
    assert [(event.actor, event.subject_id) for event in events] == [("staff:1", str(day1.id))]

    # day1 is being sent: the next one is day3; once nothing is scheduled there is nothing to bring forward.
    assert forward(now=NOW + HOUR) == day3
    complete_checkin(session=session, checkin_id=day3.id or 0, state_json="{}", now=NOW + HOUR)
    assert forward(now=NOW + HOUR) is None


def test_a_claimed_check_in_can_be_postponed_only_by_its_claimer(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    claimed = claim_due_checkins(session=session, now=NOW + 2 * DAY, owner="w1", lease=HOUR, limit=10)
    assert claimed
    first = claimed[0]
    assert first.id is not None
    assert not postpone_checkin(session=session, checkin_id=first.id, owner="w2", due_at=NOW + 3 * DAY)
    assert postpone_checkin(session=session, checkin_id=first.id, owner="w1", due_at=NOW + 3 * DAY)
    assert first.status == CheckInStatus.SCHEDULED and first.due_at == NOW + 3 * DAY
    assert enrolment.episode.id is not None


def test_one_patients_lookups_never_walk_every_patients_check_ins(tmp_path: Path) -> None:
    """SQLite plans without statistics: given "this patient's check-ins with status X" it may walk every
    check-in with status X through the (status, due_at) index. Each lookup a patient's message or a staff
    action makes must reach the patient's own rows only. (SQLite's query plans; PostgreSQL plans from
    statistics.)"""
    url = f"sqlite:///{tmp_path / 'plans.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        _check_plans(session)
    engine.dispose()


def _check_plans(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    chat_id, patient_id = patient.telegram_chat_id or 0, patient.id or 0
    statements: list[tuple[str, Any]] = []

    def note(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(Engine, "before_cursor_execute", note)
    try:
        awaiting_checkin_context(session=session, chat_id=chat_id)
        awaiting_checkin_for_patient(session=session, patient_id=patient_id)
        bring_next_checkin_forward(session=session, episode_id=enrolment.episode.id or 0, actor="t", now=NOW)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert len(statements) >= 3
    connection = session.connection()
    for statement, parameters in statements:
        plan = " ".join(
            row[3] for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
        )
        assert "ix_checkin_status_due_at" not in plan, (statement, plan)
