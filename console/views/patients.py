"""The patients list: search by reference or name, filter by procedure, status, unanswered check-ins and
reachability. Read-only queries; the page shows at most LIMIT patients, newest enrolment first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_
from sqlmodel import Session, col, select

from console.views.common import current_episodes, procedure_title
from flows.clinic import Clinic
from flows.schedule import day_of
from storage.escalations import LIVE_STATUSES
from storage.models import CheckIn, CheckInStatus, Episode, Escalation, Patient, PatientStatus

LIMIT = 200
NOT_REACHABLE = (PatientStatus.UNREACHABLE, PatientStatus.OPTED_OUT)


@dataclass(frozen=True, kw_only=True)
class PatientFilter:
    search: str = ""
    procedure: str = ""
    status: PatientStatus | None = None
    unanswered: bool = False
    unreachable: bool = False

    @property
    def active(self) -> bool:
        return bool(self.search or self.procedure or self.status or self.unanswered or self.unreachable)


@dataclass(frozen=True, kw_only=True)
class PatientRow:
    patient: Patient
    episode: Episode | None
    procedure: str
    day: int | None
    open_escalations: int
    unanswered: int


def find_patients(db: Session, wanted: PatientFilter, *, clinic: Clinic, now: datetime) -> list[PatientRow]:
    query = select(Patient)
    for condition in _conditions(wanted):
        query = query.where(condition)
    query = query.order_by(col(Patient.created_at).desc(), col(Patient.id).desc()).limit(LIMIT)
    patients = list(db.exec(query).all())
    ids = [p.id for p in patients if p.id is not None]
    episodes = current_episodes(db, ids)
    escalations = _counts(
        db,
        select(Escalation.patient_id, func.count())
        .where(col(Escalation.patient_id).in_(ids), col(Escalation.status).in_(LIVE_STATUSES))
        .group_by(col(Escalation.patient_id)),
    )
    unanswered = _counts(
        db,
        select(Episode.patient_id, func.count())
        .join(CheckIn, col(CheckIn.episode_id) == Episode.id)
        .where(col(Episode.patient_id).in_(ids), CheckIn.status == CheckInStatus.UNANSWERED)
        .group_by(col(Episode.patient_id)),
    )
    rows = []
    for patient in patients:
        assert patient.id is not None
        episode = episodes.get(patient.id)
        rows.append(
            PatientRow(
                patient=patient,
                episode=episode,
                procedure=procedure_title(episode.procedure_id) if episode else "",
                day=day_of(now, performed_at=episode.performed_at, clinic=clinic) if episode else None,
                open_escalations=escalations.get(patient.id, 0),
                unanswered=unanswered.get(patient.id, 0),
            )
        )
    return rows


def _conditions(wanted: PatientFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    search = wanted.search.strip()
    if search:
        pattern = "%" + search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(
            or_(
                func.lower(col(Patient.reference)).like(pattern, escape="\\"),
                func.lower(col(Patient.display_name)).like(pattern, escape="\\"),
            )
        )
    if wanted.procedure:
        conditions.append(
            col(Patient.id).in_(select(Episode.patient_id).where(Episode.procedure_id == wanted.procedure))
        )
    if wanted.status is not None:
        conditions.append(col(Patient.status) == wanted.status)
    if wanted.unanswered:
        conditions.append(
            col(Patient.id).in_(
                select(Episode.patient_id)
                .join(CheckIn, col(CheckIn.episode_id) == Episode.id)
                .where(CheckIn.status == CheckInStatus.UNANSWERED)
            )
        )
    if wanted.unreachable:
        conditions.append(
            or_(col(Patient.status).in_(NOT_REACHABLE), col(Patient.telegram_chat_id).is_(None))
        )
    return conditions


def _counts(db: Session, query: object) -> dict[int, int]:
    return {patient_id: count for patient_id, count in db.exec(query).all()}  # type: ignore[call-overload]
