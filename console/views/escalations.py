"""The escalation queue and an escalation's page: who, what, how long it has waited, time left on target.

Waiting time is wall-clock; the target clock counts working time (flows.targets) and stops at
acknowledgement. Order: not yet acknowledged first, red before amber, oldest first (storage's order).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from console.views.common import advice_heading, current_episodes, procedure_title, staff_names
from flows.clinic import Clinic
from flows.schedule import day_of
from flows.targets import TargetClock, acknowledgement_clock
from storage.escalations import escalation_notes, get_escalation, list_escalations
from storage.models import Episode, Escalation, EscalationNote, EscalationStatus, Patient
from storage.patients import get_episode


@dataclass(frozen=True, kw_only=True)
class EscalationRow:
    escalation: Escalation
    patient: Patient | None  # None: a system escalation about an update from nobody we know
    episode: Episode | None
    procedure: str
    day: int | None  # days since the procedure, on the clinic's calendar, today
    waited: timedelta  # since it was raised (or until it was closed)
    clock: TargetClock | None
    acknowledged_by: str | None
    closed_by: str | None
    advice: str | None

    @property
    def reference(self) -> str:
        return self.patient.reference if self.patient is not None else "System"

    @property
    def name(self) -> str:
        return self.patient.display_name if self.patient is not None else "no patient known"

    @property
    def waiting(self) -> bool:
        return self.escalation.status is EscalationStatus.OPEN

    @property
    def overdue(self) -> bool:
        return self.waiting and self.clock is not None and self.clock.overdue


@dataclass(frozen=True, kw_only=True)
class Queue:
    waiting: list[EscalationRow]
    acknowledged: list[EscalationRow]

    @property
    def overdue_count(self) -> int:
        return sum(1 for row in self.waiting if row.overdue)


def queue(db: Session, *, clinic: Clinic, now: datetime) -> Queue:
    rows = rows_for(db, list_escalations(session=db, open_only=True), clinic=clinic, now=now)
    return Queue(
        waiting=[row for row in rows if row.escalation.status is EscalationStatus.OPEN],
        acknowledged=[row for row in rows if row.escalation.status is EscalationStatus.ACKNOWLEDGED],
    )


def escalation_row(db: Session, escalation_id: int, *, clinic: Clinic, now: datetime) -> EscalationRow | None:
    escalation = get_escalation(session=db, escalation_id=escalation_id)
    if escalation is None:
        return None
    return rows_for(db, [escalation], clinic=clinic, now=now)[0]


def notes_with_authors(db: Session, escalation_id: int) -> list[tuple[EscalationNote, str]]:
    notes = escalation_notes(session=db, escalation_id=escalation_id)
    names = staff_names(db, [note.staff_id for note in notes])
    return [(note, names.get(note.staff_id, f"staff {note.staff_id}")) for note in notes]


def rows_for(
    db: Session, escalations: Sequence[Escalation], *, clinic: Clinic, now: datetime
) -> list[EscalationRow]:
    patient_ids = {escalation.patient_id for escalation in escalations if escalation.patient_id is not None}
    patients = {
        patient.id: patient
        for patient in db.exec(select(Patient).where(col(Patient.id).in_(sorted(patient_ids)))).all()
    }
    fallback_episodes = current_episodes(db, patient_ids)
    names = staff_names(db, [e.acknowledged_by for e in escalations] + [e.closed_by for e in escalations])
    rows = []
    for escalation in escalations:
        episode = (
            get_episode(session=db, episode_id=escalation.episode_id)
            if escalation.episode_id is not None
            else fallback_episodes.get(escalation.patient_id)
            if escalation.patient_id is not None
            else None
        )
        rows.append(
            EscalationRow(
                escalation=escalation,
                patient=patients[escalation.patient_id] if escalation.patient_id is not None else None,
                episode=episode,
                procedure=procedure_title(episode.procedure_id) if episode else "no procedure on record",
                day=day_of(now, performed_at=episode.performed_at, clinic=clinic) if episode else None,
                waited=(escalation.closed_at or now) - escalation.created_at,
                clock=acknowledgement_clock(
                    clinic,
                    level=escalation.level,
                    raised_at=escalation.created_at,
                    now=now,
                    acknowledged_at=escalation.acknowledged_at,
                ),
                acknowledged_by=_who(names, escalation.acknowledged_by, escalation.acknowledged_via),
                closed_by=_who(names, escalation.closed_by, None),
                advice=advice_heading(escalation.advice_id),
            )
        )
    return rows


def _who(names: dict[int, str], staff_id: int | None, via: object) -> str | None:
    if staff_id is not None:
        return names.get(staff_id, f"staff {staff_id}")
    if via is not None:
        return f"a member of staff on {via}"
    return None
