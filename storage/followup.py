"""Enrolling a patient on a protocol: pin the protocol snapshot, plan the check-ins, create the invite.

The one way in for the CLI, the console and the demo, so each enrols patients identically.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from flows.catalogue import ResolvedProtocol
from flows.clinic import Clinic
from flows.schedule import Patient as PatientFacts
from flows.schedule import plan
from storage.enrolment import Enrolment, enrol_patient
from storage.patients import ensure_clinic_id
from storage.protocols import pin_resolved_protocol, pinned_protocol_json


def enrol_on_protocol(
    *,
    session: Session,
    clinic: Clinic,
    protocol: ResolvedProtocol,
    display_name: str,
    performed_at: datetime,
    diabetic: bool,
    invite_ttl: timedelta,
    now: datetime,
    actor: str,
) -> Enrolment:
    clinic_id = ensure_clinic_id(session=session, slug=clinic.id, name=clinic.name, now=now)
    digest = pin_resolved_protocol(session=session, protocol=protocol, now=now)
    planned = plan(
        protocol, performed_at=performed_at, clinic=clinic, patient=PatientFacts(diabetic=diabetic)
    )
    return enrol_patient(
        session=session,
        clinic_id=clinic_id,
        display_name=display_name,
        procedure_id=protocol.id,
        protocol_version=protocol.version,
        protocol_digest=digest,
        performed_at=performed_at,
        diabetic=diabetic,
        planned_checkins=[(p.checkin_id, p.due_at) for p in planned],
        invite_ttl=invite_ttl,
        now=now,
        actor=actor,
    )


def pinned_protocol(*, session: Session, digest: str) -> ResolvedProtocol:
    """The exact protocol an episode was enrolled on."""
    body = pinned_protocol_json(session=session, digest=digest)
    if body is None:
        raise LookupError(f"no protocol snapshot {digest}")
    return ResolvedProtocol.model_validate_json(body)
