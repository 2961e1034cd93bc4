"""Escalations: red and amber flags raised to clinic staff, and what staff did about them.

Every change writes an audit event; nothing is ever deleted. Acknowledging and closing are idempotent:
the first member of staff wins and a second attempt returns the escalation as it already is, so two
nurses pressing "I'll call" at once cannot overwrite each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import case
from sqlmodel import Session, col, or_, select

from flows.levels import Level
from storage._sql import locked
from storage.audit import record_audit, staff_actor
from storage.models import AckChannel, Escalation, EscalationNote, EscalationOutcome, EscalationStatus

LIVE_STATUSES = (EscalationStatus.OPEN, EscalationStatus.ACKNOWLEDGED)


def raise_escalation(
    *,
    session: Session,
    patient_id: int | None,
    level: Level,
    rule: str,
    trigger_text: str,
    now: datetime,
    advice_id: str | None = None,
    episode_id: int | None = None,
    checkin_id: int | None = None,
    answer_id: int | None = None,
    inbound_message_id: int | None = None,
) -> Escalation:
    """Open an escalation. A retried handler raising the same rule for the same answer or inbound
    message gets the existing escalation back instead of a duplicate. ``patient_id`` is None only for a
    system escalation about an update from nobody we know (a quarantined update, say)."""
    if answer_id is not None or inbound_message_id is not None:
        same_patient = (
            col(Escalation.patient_id).is_(None)
            if patient_id is None
            else Escalation.patient_id == patient_id
        )
        query = select(Escalation).where(same_patient, Escalation.rule == rule)
        if answer_id is not None:
            query = query.where(Escalation.answer_id == answer_id)
        if inbound_message_id is not None:
            query = query.where(Escalation.inbound_message_id == inbound_message_id)
        existing = session.exec(query).first()
        if existing is not None:
            return existing
    escalation = Escalation(
        patient_id=patient_id,
        episode_id=episode_id,
        checkin_id=checkin_id,
        answer_id=answer_id,
        inbound_message_id=inbound_message_id,
        level=level,
        rule=rule,
        advice_id=advice_id,
        trigger_text=trigger_text,
        status=EscalationStatus.OPEN,
        created_at=now,
    )
    session.add(escalation)
    session.flush()
    _audit(session, "system", "raised", escalation, now, {"level": level, "rule": rule})
    return escalation


def get_escalation(*, session: Session, escalation_id: int) -> Escalation | None:
    return session.get(Escalation, escalation_id)


def list_escalations(*, session: Session, open_only: bool, limit: int = 500) -> list[Escalation]:
    """With open_only, those not yet closed (open or acknowledged). Order: open before acknowledged,
    red before amber, then the longest waiting first; closed ones last."""
    status_rank = case(
        (col(Escalation.status) == EscalationStatus.OPEN, 0),
        (col(Escalation.status) == EscalationStatus.ACKNOWLEDGED, 1),
        else_=2,
    )
    level_rank = case(
        (col(Escalation.level) == Level.RED, 0), (col(Escalation.level) == Level.AMBER, 1), else_=2
    )
    query = select(Escalation)
    if open_only:
        query = query.where(col(Escalation.status).in_(LIVE_STATUSES))
    query = query.order_by(status_rank, level_rank, col(Escalation.created_at), col(Escalation.id))
    return list(session.exec(query.limit(limit)).all())


def escalations_for_patient(*, session: Session, patient_id: int) -> list[Escalation]:
    """Newest first."""
    query = select(Escalation).where(Escalation.patient_id == patient_id)
    return list(
        session.exec(query.order_by(col(Escalation.created_at).desc(), col(Escalation.id).desc())).all()
    )


def acknowledge_escalation(
    *,
    session: Session,
    escalation_id: int,
    staff_id: int | None,
    via: AckChannel,
    now: datetime,
    actor: str | None = None,
) -> Escalation:
    """A member of staff takes the escalation on. `staff_id` may be None from Telegram when the staff
    chat member has no console account; pass `actor` (e.g. "telegram:<user id>") for the audit trail."""
    escalation = locked(session, Escalation, escalation_id)
    if escalation.status != EscalationStatus.OPEN:
        return escalation
    escalation.status = EscalationStatus.ACKNOWLEDGED
    escalation.acknowledged_by = staff_id
    escalation.acknowledged_at = now
    escalation.acknowledged_via = via
    session.flush()
    who = actor or (staff_actor(staff_id) if staff_id is not None else via.value)
    _audit(session, who, "acknowledged", escalation, now, {"via": via})
    return escalation


def close_escalation(
    *,
    session: Session,
    escalation_id: int,
    staff_id: int,
    outcome: EscalationOutcome,
    now: datetime,
) -> Escalation:
    """Record what was done and close. Closing an escalation nobody acknowledged acknowledges it too."""
    escalation = locked(session, Escalation, escalation_id)
    if escalation.status == EscalationStatus.CLOSED:
        return escalation
    if escalation.acknowledged_at is None:
        escalation.acknowledged_by = staff_id
        escalation.acknowledged_at = now
        escalation.acknowledged_via = AckChannel.CONSOLE
    escalation.status = EscalationStatus.CLOSED
    escalation.closed_by = staff_id
    escalation.closed_at = now
    escalation.outcome = outcome
    session.flush()
    _audit(session, staff_actor(staff_id), "closed", escalation, now, {"outcome": outcome})
    return escalation


def add_escalation_note(
    *, session: Session, escalation_id: int, staff_id: int, text: str, now: datetime
) -> EscalationNote:
    escalation = locked(session, Escalation, escalation_id)
    if not text.strip():
        raise ValueError("a note needs some text")
    note = EscalationNote(escalation_id=escalation_id, staff_id=staff_id, text=text.strip(), created_at=now)
    session.add(note)
    session.flush()
    _audit(session, staff_actor(staff_id), "note_added", escalation, now, {"note_id": note.id})
    return note


def escalation_notes(*, session: Session, escalation_id: int) -> list[EscalationNote]:
    """Oldest first."""
    query = select(EscalationNote).where(EscalationNote.escalation_id == escalation_id)
    return list(session.exec(query.order_by(col(EscalationNote.created_at), col(EscalationNote.id))).all())


def escalations_needing_alert(
    *,
    session: Session,
    now: datetime,
    realert_after: timedelta,
    alert_levels: Sequence[Level] = (Level.RED, Level.AMBER),
    realert_levels: Sequence[Level] = (Level.RED,),
    limit: int = 50,
) -> list[Escalation]:
    """Open (unacknowledged) escalations of `alert_levels` staff have not been alerted to yet, and those
    of `realert_levels` last alerted to more than `realert_after` ago. Oldest first."""
    last_alert = col(Escalation.last_realerted_at)
    first_alert = col(Escalation.staff_alerted_at)
    level = col(Escalation.level)
    never_alerted = first_alert.is_(None) & level.in_(list(alert_levels))
    due_again = level.in_(list(realert_levels)) & or_(
        (last_alert.is_(None) & (first_alert <= now - realert_after)),
        last_alert <= now - realert_after,
    )
    query = (
        select(Escalation)
        .where(Escalation.status == EscalationStatus.OPEN, or_(never_alerted, due_again))
        .order_by(col(Escalation.created_at), col(Escalation.id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def mark_staff_alerted(*, session: Session, escalation_id: int, now: datetime) -> Escalation:
    """Staff have been sent an alert (the first, or a repeat) about this escalation."""
    escalation = locked(session, Escalation, escalation_id)
    repeat = escalation.staff_alerted_at is not None
    if repeat:
        escalation.last_realerted_at = now
    else:
        escalation.staff_alerted_at = now
    session.flush()
    _audit(session, "system", "realerted" if repeat else "alerted", escalation, now, None)
    return escalation


def _audit(
    session: Session,
    actor: str,
    verb: str,
    escalation: Escalation,
    now: datetime,
    detail: dict[str, object] | None,
) -> None:
    record_audit(
        session=session,
        actor=actor,
        action=f"escalation.{verb}",
        subject_type="escalation",
        subject_id=escalation.id,
        detail={"patient_id": escalation.patient_id, **(detail or {})},
        now=now,
    )
