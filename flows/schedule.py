"""When each check-in of a protocol falls for one patient: the clinic's wall clock, moved into contact hours.

"Day 1 at 10:00" means 10:00 on the clinic's wall clock the day after the procedure, whatever the UTC
offset that day (clock changes are handled by zoneinfo). A time outside the hours patients may be
messaged moves to the next opening, or is skipped where the protocol says so (an hourly pain diary is
no use the next morning). Check-ins with nothing that applies to this patient are left out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flows.catalogue import ResolvedProtocol
from flows.clinic import Clinic
from flows.protocol import CheckIn


@dataclass(frozen=True, kw_only=True)
class PlannedCheckIn:
    checkin_id: str
    day: int
    due_at: datetime  # aware, UTC
    moved: bool  # True when moved into contact hours


@dataclass(frozen=True, kw_only=True)
class Patient:
    """The facts about a patient that decide which questions apply to them."""

    diabetic: bool


def applies_questions(protocol: ResolvedProtocol, checkin: CheckIn, patient: Patient) -> list[str]:
    return [qid for qid in checkin.questions if applies(protocol, qid, patient)]


def applies(protocol: ResolvedProtocol, question_id: str, patient: Patient) -> bool:
    question = protocol.question(question_id)
    wanted = question.applies.diabetic
    if wanted is not None and wanted != patient.diabetic:
        return False
    return not (question.kind.value == "glucose" and not protocol.steroid)


def applies_education(protocol: ResolvedProtocol, checkin: CheckIn, patient: Patient) -> list[str]:
    kept = []
    for lesson_id in checkin.education:
        lesson = protocol.education[lesson_id]
        if lesson.steroid_only and not protocol.steroid:
            continue
        if lesson.applies.diabetic is not None and lesson.applies.diabetic != patient.diabetic:
            continue
        kept.append(lesson_id)
    return kept


def plan(
    protocol: ResolvedProtocol, *, performed_at: datetime, clinic: Clinic, patient: Patient
) -> list[PlannedCheckIn]:
    """Every check-in this patient will get, in time order."""
    if performed_at.tzinfo is None:
        raise ValueError("performed_at must be timezone-aware")
    local_day0 = clinic.local(performed_at).date()
    planned = []
    for checkin in protocol.checkins:
        if not applies_questions(protocol, checkin, patient) and not applies_education(
            protocol, checkin, patient
        ):
            continue
        wanted = _wanted_time(checkin, performed_at=performed_at, local_day0=local_day0, clinic=clinic)
        due: datetime | None = clinic.next_contact_time(wanted)
        moved = due != wanted
        if moved and checkin.outside_contact_hours == "skip":
            continue
        if moved and checkin.outside_contact_hours == "same_day":
            due = _same_evening(wanted, performed_at=performed_at, clinic=clinic)
            if due is None:
                continue
        assert due is not None
        planned.append(PlannedCheckIn(checkin_id=checkin.id, day=checkin.day, due_at=due, moved=moved))
    planned.sort(key=lambda p: p.due_at)
    return planned


def _wanted_time(checkin: CheckIn, *, performed_at: datetime, local_day0: date, clinic: Clinic) -> datetime:
    if checkin.after_hours is not None:
        return (performed_at + timedelta(hours=checkin.after_hours)).astimezone(UTC)
    assert checkin.at is not None
    hour, minute = (int(part) for part in checkin.at.split(":"))
    local = datetime.combine(local_day0 + timedelta(days=checkin.day), time(hour, minute), tzinfo=clinic.zone)
    return local.astimezone(UTC)


SAME_DAY_MARGIN = timedelta(minutes=30)
SAME_DAY_MINIMUM_AFTER_PROCEDURE = timedelta(hours=2)


def _same_evening(wanted: datetime, *, performed_at: datetime, clinic: Clinic) -> datetime | None:
    """The last half hour of contact hours on the wanted local day, if still worth asking, else None."""
    local = clinic.local(wanted)
    if local.time() < clinic.contact_hours.opens:
        return clinic.next_contact_time(wanted)
    closing = (
        datetime.combine(local.date(), clinic.contact_hours.closes, tzinfo=clinic.zone) - SAME_DAY_MARGIN
    )
    if closing - performed_at < SAME_DAY_MINIMUM_AFTER_PROCEDURE:
        return None
    return closing.astimezone(UTC)


def day_of(moment: datetime, *, performed_at: datetime, clinic: Clinic) -> int:
    """Days since the procedure on the clinic's calendar (0 = the day of the procedure)."""
    return (clinic.local(moment).date() - clinic.local(performed_at).date()).days
