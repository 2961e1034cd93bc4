"""Scheduled check-ins: planning them, claiming the due ones under a lease, and recording progress.

How a claim works: one transaction selects due rows and marks them SENDING with a lease (owner and
expiry), then commits at once; the caller sends outside the transaction and records the result. A worker
that dies leaves its rows SENDING; they are claimed again once the lease expires, so a question may be
sent twice but is never lost (a repeated question beats a missed red flag). PostgreSQL: several workers
claim disjoint rows with FOR UPDATE SKIP LOCKED. SQLite: BEGIN IMMEDIATE (storage/db.py) serializes
claimers, which is atomic with a single writer.

The engine's state is opaque text here; this module never interprets it or reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, bindparam, update
from sqlmodel import Session, and_, col, select

from storage._sql import claim_under_lease, locked, update_by_id, without_index
from storage.audit import record_audit
from storage.errors import NotFound
from storage.models import CheckIn, CheckInStatus, Episode, EpisodeStatus, Patient, PatientStatus

OPEN_STATUSES = (CheckInStatus.SCHEDULED, CheckInStatus.SENDING, CheckInStatus.AWAITING_REPLY)


@dataclass(frozen=True, kw_only=True)
class CheckInContext:
    """A check-in with the episode (protocol pin) and patient (chat) needed to act on it."""

    checkin: CheckIn
    episode: Episode
    patient: Patient


def schedule_checkin(*, session: Session, episode_id: int, key: str, due_at: datetime) -> CheckIn:
    """Plan a check-in. Idempotent: if the episode already has one with this key, that one is returned
    unchanged (so a retried handler cannot plan it twice)."""
    existing = session.exec(
        select(CheckIn).where(CheckIn.episode_id == episode_id, CheckIn.key == key)
    ).first()
    if existing is not None:
        return existing
    checkin = CheckIn(episode_id=episode_id, key=key, due_at=due_at)
    session.add(checkin)
    session.flush()
    return checkin


def get_checkin(*, session: Session, checkin_id: int) -> CheckIn | None:
    return session.get(CheckIn, checkin_id)


def checkin_context(*, session: Session, checkin_id: int) -> CheckInContext | None:
    row = session.exec(
        select(CheckIn, Episode, Patient)
        .join(Episode, col(Episode.id) == CheckIn.episode_id)
        .join(Patient, col(Patient.id) == Episode.patient_id)
        .where(CheckIn.id == checkin_id)
    ).first()
    if row is None:
        return None
    checkin, episode, patient = row
    return CheckInContext(checkin=checkin, episode=episode, patient=patient)


def checkins_for_episode(*, session: Session, episode_id: int) -> list[CheckIn]:
    """In the order they fall due."""
    query = select(CheckIn).where(CheckIn.episode_id == episode_id)
    return list(session.exec(query.order_by(col(CheckIn.due_at), col(CheckIn.id))).all())


def claim_due_checkins(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[CheckIn]:
    """`claim_due_checkin_ids`, with the claimed check-ins loaded (for callers that need more than ids)."""
    ids = claim_due_checkin_ids(session=session, now=now, owner=owner, lease=lease, limit=limit)
    if not ids:
        return []
    query = select(CheckIn).where(col(CheckIn.id).in_(ids)).execution_options(populate_existing=True)
    loaded = {checkin.id: checkin for checkin in session.exec(query)}
    return [loaded[checkin_id] for checkin_id in ids]


def claim_due_checkin_ids(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[int]:
    """Take up to `limit` check-ins whose previous claimer's lease has expired, then those that are due,
    each oldest first, that belong to an active episode of an active patient with a Telegram chat; returns
    their ids in that order. Commit soon after.

    Each group is one `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) RETURNING`: one
    round trip, nothing loaded into the session (the scheduler needs only the ids). Two statements rather
    than one with `OR`: each is then a range of the (status, due_at) index read in order and stopped at the
    limit. With the OR, PostgreSQL cannot read the index in order and, misjudging how many scheduled rows
    are due (nearly all are in the future), walks every active episode instead: 370 ms instead of 1 ms with
    1M check-ins (bench/size.py)."""
    claimed: list[int] = []
    values = {"claim_now": now, "claim_owner": owner, "claim_until": now + lease}
    for statement in (_CLAIM_ABANDONED, _CLAIM_DUE):
        if len(claimed) >= limit:
            break
        rows = session.connection().execute(statement, {**values, "claim_limit": limit - len(claimed)})
        claimed += [row.id for row in sorted(rows, key=lambda row: (row.due_at, row.id))]
    return claimed


def _claim_statement(due: ColumnElement[bool]) -> Any:
    """Built once per group (building it costs more than running it); `now`, owner, lease end and limit are
    bound when it runs."""
    # Correlated (EXISTS, not IN): checked for each due row only. With IN, SQLite builds the list of every
    # active episode first (25 ms with 100,000 patients, bench/size.py).
    sendable = (
        select(Episode.id)
        .join(Patient, col(Patient.id) == Episode.patient_id)
        .where(
            col(Episode.id) == CheckIn.episode_id,
            Episode.status == EpisodeStatus.ACTIVE,
            Patient.status == PatientStatus.ACTIVE,
            col(Patient.telegram_chat_id).is_not(None),
        )
        .exists()
    )
    table = CheckIn.__table__  # type: ignore[attr-defined]
    oldest = (
        select(table.c.id)
        .where(due, sendable)
        .order_by(table.c.due_at, table.c.id)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
    )
    return claim_under_lease(
        table, oldest, claimed_status=CheckInStatus.SENDING, returning=(table.c.id, table.c.due_at)
    )


def overdue_checkins(
    *, session: Session, due_before: datetime, now: datetime, limit: int = 100
) -> list[CheckIn]:
    """Check-ins still not sent although due before `due_before`, whoever the patient: for marking them
    missed (patient never opened their link, paused, unreachable) so staff can see the gap."""
    # One ordered index range per status, merged here (an OR makes PostgreSQL bitmap-scan and sort
    # everything it guesses might match: 7-9 ms with 1M check-ins, bench/size.py).
    found: list[CheckIn] = []
    for due in (_scheduled_due(now), _abandoned(now)):
        query = (
            select(CheckIn)
            .where(due, CheckIn.due_at < due_before)
            .order_by(col(CheckIn.due_at), col(CheckIn.id))
            .limit(limit)
        )
        found += session.exec(query).all()
    found.sort(key=lambda checkin: (checkin.due_at, checkin.id or 0))
    return found[:limit]


def mark_checkin_awaiting_reply(
    *, session: Session, checkin_id: int, owner: str, state_json: str, now: datetime
) -> bool:
    """The first question is queued: the conversation is open. False (and nothing changed) if this
    worker no longer holds the lease, because another worker has taken the check-in over."""
    checkin = locked(session, CheckIn, checkin_id)
    if checkin.status != CheckInStatus.SENDING or checkin.lease_owner != owner:
        return False
    checkin.status = CheckInStatus.AWAITING_REPLY
    checkin.state_json = state_json
    checkin.sent_at = now
    checkin.lease_owner = None
    checkin.lease_until = None
    session.flush()
    return True


def save_checkin_state(*, session: Session, checkin_id: int, state_json: str) -> None:
    """Store the engine's state after an answer. Allowed in any status: a late answer must still be
    recorded and triaged. (Runs for every reply: one UPDATE, no read; the row was locked when the
    conversation read it, see `awaiting_checkin_context`.)"""
    _update(session, checkin_id, state_json=state_json)


def complete_checkin(*, session: Session, checkin_id: int, state_json: str, now: datetime) -> None:
    """The patient answered everything (also after the check-in was marked unanswered)."""
    _update(
        session,
        checkin_id,
        status=CheckInStatus.COMPLETED,
        state_json=state_json,
        completed_at=now,
        lease_owner=None,
        lease_until=None,
    )


def _update(session: Session, checkin_id: int, **values: object) -> None:
    if not update_by_id(session, CheckIn, checkin_id, **values):
        raise NotFound(f"CheckIn {checkin_id} does not exist")


def mark_reminder_sent(*, session: Session, checkin_id: int, now: datetime) -> CheckIn:
    checkin = locked(session, CheckIn, checkin_id)
    checkin.reminder_sent_at = now
    session.flush()
    return checkin


def checkins_awaiting_reply(
    *, session: Session, sent_before: datetime | None = None, limit: int = 100
) -> list[CheckIn]:
    """Open conversations, oldest first; with `sent_before`, only those sent before then (for
    reminders and for giving up)."""
    query = select(CheckIn).where(CheckIn.status == CheckInStatus.AWAITING_REPLY)
    if sent_before is not None:
        query = query.where(col(CheckIn.sent_at) < sent_before)
    return list(session.exec(query.order_by(col(CheckIn.sent_at), col(CheckIn.id)).limit(limit)).all())


def awaiting_checkin_for_patient(*, session: Session, patient_id: int) -> CheckIn | None:
    """The patient's open conversation a message should go to: the most recently sent one."""
    query = (
        select(CheckIn)
        .join(Episode, col(Episode.id) == CheckIn.episode_id)
        .where(
            Episode.patient_id == patient_id,
            without_index(CheckIn.status) == CheckInStatus.AWAITING_REPLY.value,
        )
        .order_by(col(CheckIn.sent_at).desc(), col(CheckIn.id).desc())
    )
    return session.exec(query).first()


# Built once: every message a patient types runs it (building the joins costs more than running them).
# The status may not drive the query (without_index): SQLite otherwise walked every open check-in of every
# patient to find this one patient's (0.15 ms with 200 open conversations, growing with each). This way it
# goes chat -> patient -> episodes -> their check-ins (unique (episode_id, key)): a few rows, however big
# the clinic.
_AWAITING_CONTEXT = (
    select(CheckIn, Episode, Patient)
    .join(Episode, col(Episode.id) == CheckIn.episode_id)
    .join(Patient, col(Patient.id) == Episode.patient_id)
    .where(
        Patient.telegram_chat_id == bindparam("of_chat"),
        without_index(CheckIn.status) == CheckInStatus.AWAITING_REPLY.value,
    )
    .order_by(col(CheckIn.sent_at).desc(), col(CheckIn.id).desc())
    .limit(1)
    .with_for_update(of=CheckIn)
    .execution_options(populate_existing=True)
)


def awaiting_checkin_context(*, session: Session, chat_id: int) -> CheckInContext | None:
    """The open conversation of the patient on this Telegram chat (as `awaiting_checkin_for_patient`), with
    its episode and patient, in one query: a patient's message needs nothing more to be answered. The
    check-in row is locked until commit (FOR UPDATE on PostgreSQL; SQLite's write lock is already held),
    so two messages from one patient handled at once by two workers take turns: the second reads the
    state the first saved, and no answer is lost."""
    row = session.exec(_AWAITING_CONTEXT, params={"of_chat": chat_id}).first()
    if row is None:
        return None
    checkin, episode, patient = row
    return CheckInContext(checkin=checkin, episode=episode, patient=patient)


def mark_missed(*, session: Session, checkin_id: int, reason: str, now: datetime) -> bool:
    """A check-in that was never sent (scheduled, or abandoned while sending) will not be. `reason` is
    a short code for the audit trail, e.g. "patient_not_connected". False if it had moved on."""
    checkin = locked(session, CheckIn, checkin_id)
    if checkin.status not in (CheckInStatus.SCHEDULED, CheckInStatus.SENDING):
        return False
    checkin.status = CheckInStatus.MISSED
    checkin.lease_owner = None
    checkin.lease_until = None
    session.flush()
    record_audit(
        session=session,
        actor="system",
        action="checkin.missed",
        subject_type="checkin",
        subject_id=checkin_id,
        detail={"reason": reason, "key": checkin.key},
        now=now,
    )
    return True


def mark_unanswered(*, session: Session, checkin_id: int, now: datetime) -> bool:
    """The patient did not finish answering in time. False if it was not awaiting a reply."""
    checkin = locked(session, CheckIn, checkin_id)
    if checkin.status != CheckInStatus.AWAITING_REPLY:
        return False
    checkin.status = CheckInStatus.UNANSWERED
    session.flush()
    record_audit(
        session=session,
        actor="system",
        action="checkin.unanswered",
        subject_type="checkin",
        subject_id=checkin_id,
        detail={"key": checkin.key},
        now=now,
    )
    return True


def cancel_open_checkins(*, session: Session, episode_id: int, now: datetime) -> int:
    """Cancel the episode's check-ins that are not finished; returns how many."""
    query = (
        select(CheckIn)
        .where(CheckIn.episode_id == episode_id, col(CheckIn.status).in_(OPEN_STATUSES))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    open_checkins = list(session.exec(query).all())
    for checkin in open_checkins:
        checkin.status = CheckInStatus.CANCELLED
        checkin.lease_owner = None
        checkin.lease_until = None
    session.flush()
    return len(open_checkins)


def _scheduled_due(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    return and_(CheckIn.status == CheckInStatus.SCHEDULED, CheckIn.due_at <= now)


def _abandoned(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """Claimed by a worker whose lease has run out (it died or stalled)."""
    return and_(CheckIn.status == CheckInStatus.SENDING, col(CheckIn.lease_until) <= now)


_CLAIM_NOW: BindParameter[datetime] = bindparam("claim_now")
_CLAIM_ABANDONED = _claim_statement(_abandoned(_CLAIM_NOW))
_CLAIM_DUE = _claim_statement(_scheduled_due(_CLAIM_NOW))


def bring_next_checkin_forward(
    *, session: Session, episode_id: int, actor: str, now: datetime
) -> CheckIn | None:
    """Staff asked for the episode's next check-in to go out now: the earliest still-scheduled check-in
    becomes due at `now`, and the scheduler sends it at its next tick (only to an active patient with a
    chat, as always). Later check-ins keep their times. None if nothing is left to send."""
    query = (
        select(CheckIn)
        # without_index: else SQLite walks every scheduled check-in in due order to reach this episode's.
        .where(
            CheckIn.episode_id == episode_id, without_index(CheckIn.status) == CheckInStatus.SCHEDULED.value
        )
        .order_by(col(CheckIn.due_at), col(CheckIn.id))
        .limit(1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    checkin = session.exec(query).first()
    if checkin is None:
        return None
    if checkin.due_at > now:
        was_due_at = checkin.due_at
        checkin.due_at = now
        session.flush()
        record_audit(
            session=session,
            actor=actor,
            action="checkin.brought_forward",
            subject_type="checkin",
            subject_id=checkin.id,
            detail={"episode_id": episode_id, "key": checkin.key, "was_due_at": was_due_at},
            now=now,
        )
    return checkin


def postpone_checkin(*, session: Session, checkin_id: int, owner: str, due_at: datetime) -> bool:
    """Give a claimed check-in back to the schedule at a later time (e.g. the next contact hours).
    False if this worker no longer holds it."""
    checkin = locked(session, CheckIn, checkin_id)
    if checkin.status != CheckInStatus.SENDING or checkin.lease_owner != owner:
        return False
    checkin.status = CheckInStatus.SCHEDULED
    checkin.due_at = due_at
    checkin.lease_owner = None
    checkin.lease_until = None
    session.flush()
    return True


def take_back_checkin_claims(*, session: Session, owner: str) -> list[int]:
    """The check-ins still claimed by ``owner`` go back to the schedule, due as they were, so the next
    tick starts them at once rather than when their leases run out. Only for a worker starting again under
    its own name (no one else is starting them: storage/worker_names.py). None of them was begun: a
    check-in's first question is queued in the transaction that marks it begun. Returns their ids."""
    session.flush()
    rows = session.connection().execute(_TAKE_BACK, {"owner": owner})
    return sorted(row.id for row in rows)


_checkin = CheckIn.__table__  # type: ignore[attr-defined]
_TAKE_BACK = (
    update(_checkin)
    .where(_checkin.c.status == CheckInStatus.SENDING, _checkin.c.lease_owner == bindparam("owner"))
    .values(status=CheckInStatus.SCHEDULED, lease_owner=None, lease_until=None)
    .returning(_checkin.c.id)
)
