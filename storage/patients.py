"""Clinics, patients and episodes: lookups and the status changes staff or patients make.

Enrolment and invites are in storage/enrolment.py. Nothing here sends messages or reads the clock.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import Table, bindparam
from sqlmodel import Session, col, select

from storage._sql import locked
from storage.audit import record_audit
from storage.checkins import cancel_open_checkins
from storage.models import Clinic, Episode, EpisodeStatus, Patient, PatientStatus

# References are read aloud over the phone: no 0/O, 1/I/L or U. 30**6 is about 7 x 10**8.
REFERENCE_PREFIX = "AC-"
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6
REFERENCE_PATTERN = re.compile(rf"^AC-[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}$")

_CLINICS: Table = Clinic.__table__  # type: ignore[attr-defined]
_CLINIC_BY_SLUG = select(_CLINICS.c.id, _CLINICS.c.name).where(_CLINICS.c.slug == bindparam("slug"))


def new_reference() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def ensure_clinic(*, session: Session, slug: str, name: str, now: datetime) -> Clinic:
    """The clinic with this slug, created (or renamed to `name`) as needed."""
    clinic = session.exec(select(Clinic).where(Clinic.slug == slug)).first()
    if clinic is None:
        clinic = Clinic(slug=slug, name=name, created_at=now)
        session.add(clinic)
        session.flush()
        record_audit(
            session=session,
            actor="system",
            action="clinic.created",
            subject_type="clinic",
            subject_id=clinic.id,
            detail={"slug": slug},
            now=now,
        )
    elif clinic.name != name:
        clinic.name = name
        session.flush()
    return clinic


def ensure_clinic_id(*, session: Session, slug: str, name: str, now: datetime) -> int:
    """ensure_clinic's id alone, for every enrolment: when the clinic is there as configured (all but the
    first time) that is one two-column read, not the loading of a Clinic row into the session."""
    session.flush()  # what the ORM query it stands for did first (autoflush); nearly free when clean
    known = session.exec(_CLINIC_BY_SLUG, params={"slug": slug}).first()
    if known is not None and known[1] == name:
        clinic_id: int = known[0]
        return clinic_id
    clinic = ensure_clinic(session=session, slug=slug, name=name, now=now)
    assert clinic.id is not None
    return clinic.id


def get_clinic(*, session: Session, clinic_id: int) -> Clinic | None:
    return session.get(Clinic, clinic_id)


def get_patient(*, session: Session, patient_id: int) -> Patient | None:
    return session.get(Patient, patient_id)


# Built once: every update from Telegram looks its chat up (building the query costs more than running it).
_PATIENT_FOR_CHAT = select(Patient).where(Patient.telegram_chat_id == bindparam("chat"))


def patient_for_chat(*, session: Session, chat_id: int) -> Patient | None:
    return session.exec(_PATIENT_FOR_CHAT, params={"chat": chat_id}).first()


def patient_by_reference(*, session: Session, reference: str) -> Patient | None:
    normalized = reference.strip().upper()
    return session.exec(select(Patient).where(Patient.reference == normalized)).first()


def list_patients(
    *,
    session: Session,
    clinic_id: int | None = None,
    statuses: Collection[PatientStatus] | None = None,
) -> list[Patient]:
    """Newest enrolment first."""
    query = select(Patient)
    if clinic_id is not None:
        query = query.where(Patient.clinic_id == clinic_id)
    if statuses is not None:
        query = query.where(col(Patient.status).in_(list(statuses)))
    return list(session.exec(query.order_by(col(Patient.created_at).desc(), col(Patient.id).desc())).all())


def get_episode(*, session: Session, episode_id: int) -> Episode | None:
    return session.get(Episode, episode_id)


def episodes_for_patient(*, session: Session, patient_id: int, active_only: bool = False) -> list[Episode]:
    """Oldest first."""
    query = select(Episode).where(Episode.patient_id == patient_id)
    if active_only:
        query = query.where(Episode.status == EpisodeStatus.ACTIVE)
    return list(session.exec(query.order_by(col(Episode.performed_at), col(Episode.id))).all())


def set_patient_status(
    *, session: Session, patient_id: int, status: PatientStatus, actor: str, now: datetime
) -> Patient:
    """Pause, resume, mark unreachable or completed. Opting out goes through `opt_out_patient`."""
    if status == PatientStatus.OPTED_OUT:
        return opt_out_patient(session=session, patient_id=patient_id, actor=actor, now=now)
    patient = locked(session, Patient, patient_id)
    previous = patient.status
    if previous != status:
        patient.status = status
        session.flush()
        record_audit(
            session=session,
            actor=actor,
            action="patient.status_changed",
            subject_type="patient",
            subject_id=patient.id,
            detail={"from": previous, "to": status},
            now=now,
        )
    return patient


def opt_out_patient(*, session: Session, patient_id: int, actor: str, now: datetime) -> Patient:
    """The patient asked us to stop: stop every active episode and cancel their open check-ins.

    Open escalations stay open: staff still need to see and close them.
    """
    patient = locked(session, Patient, patient_id)
    if patient.status == PatientStatus.OPTED_OUT:
        return patient
    previous = patient.status
    patient.status = PatientStatus.OPTED_OUT
    patient.opted_out_at = now
    for episode in episodes_for_patient(session=session, patient_id=patient_id, active_only=True):
        _end_episode(session, episode, EpisodeStatus.STOPPED, actor=actor, now=now)
    session.flush()
    record_audit(
        session=session,
        actor=actor,
        action="patient.opted_out",
        subject_type="patient",
        subject_id=patient.id,
        detail={"from": previous},
        now=now,
    )
    return patient


def end_episode(
    *, session: Session, episode_id: int, status: EpisodeStatus, actor: str, now: datetime
) -> Episode:
    """Complete or stop an episode; its check-ins not yet answered are cancelled. When it was the
    patient's last active episode, an active or invited patient becomes completed."""
    if status == EpisodeStatus.ACTIVE:
        raise ValueError("end_episode needs COMPLETED or STOPPED")
    episode = locked(session, Episode, episode_id)
    if episode.status != EpisodeStatus.ACTIVE:
        return episode
    _end_episode(session, episode, status, actor=actor, now=now)
    patient = locked(session, Patient, episode.patient_id)
    still_active = episodes_for_patient(session=session, patient_id=episode.patient_id, active_only=True)
    if not still_active and patient.status in (PatientStatus.ACTIVE, PatientStatus.INVITED):
        set_patient_status(
            session=session,
            patient_id=episode.patient_id,
            status=PatientStatus.COMPLETED,
            actor=actor,
            now=now,
        )
    return episode


def _end_episode(
    session: Session, episode: Episode, status: EpisodeStatus, *, actor: str, now: datetime
) -> None:
    assert episode.id is not None
    episode.status = status
    cancelled = cancel_open_checkins(session=session, episode_id=episode.id, now=now)
    session.flush()
    record_audit(
        session=session,
        actor=actor,
        action=f"episode.{status.value}",
        subject_type="episode",
        subject_id=episode.id,
        detail={"cancelled_checkins": cancelled},
        now=now,
    )
