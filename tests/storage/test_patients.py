"""Clinics, patient lookups and status changes (pause, opt out, end of follow-up)."""

from __future__ import annotations

from sqlmodel import Session

from storage.audit import audit_trail
from storage.checkins import checkins_for_episode
from storage.models import CheckInStatus, EpisodeStatus, PatientStatus
from storage.patients import (
    REFERENCE_PATTERN,
    end_episode,
    ensure_clinic,
    episodes_for_patient,
    get_episode,
    get_patient,
    list_patients,
    new_reference,
    opt_out_patient,
    patient_by_reference,
    patient_for_chat,
    set_patient_status,
)
from tests.storage.factories import DAY, HOUR, NOW, enrol, enrol_connected


def test_ensure_clinic_creates_once_and_follows_renames(session: Session) -> None:
    first = ensure_clinic(session=session, slug="north", name="North", now=NOW)
    again = ensure_clinic(session=session, slug="north", name="North Pain Service", now=NOW + DAY)
    assert again.id == first.id and again.name == "North Pain Service"


def test_references_are_short_random_and_easy_to_read_aloud() -> None:
    references = {new_reference() for _ in range(200)}
    assert len(references) == 200
    assert all(REFERENCE_PATTERN.match(reference) for reference in references)
    assert not any(set(reference[3:]) & set("01OILU") for reference in references)


def test_patients_are_found_by_reference_chat_and_id(session: Session) -> None:
    _, patient = enrol_connected(session)
    assert patient.id is not None and patient.telegram_chat_id is not None

    assert patient_by_reference(session=session, reference=f" {patient.reference.lower()} ") == patient
    assert patient_for_chat(session=session, chat_id=patient.telegram_chat_id) == patient
    assert get_patient(session=session, patient_id=patient.id) == patient
    assert patient_by_reference(session=session, reference="AC-XXXXXX") is None
    assert patient_for_chat(session=session, chat_id=1) is None


def test_list_patients_filters_by_status_newest_first(session: Session) -> None:
    invited = enrol(session, display_name="Jo").patient
    _, active = enrol_connected(session, display_name="Sam", now=NOW + HOUR)

    assert list_patients(session=session) == [active, invited]
    assert list_patients(session=session, statuses=[PatientStatus.INVITED]) == [invited]


def test_pausing_is_recorded_and_repeating_it_changes_nothing(session: Session) -> None:
    _, patient = enrol_connected(session)
    assert patient.id is not None

    set_patient_status(
        session=session, patient_id=patient.id, status=PatientStatus.PAUSED, actor="staff:1", now=NOW
    )
    set_patient_status(
        session=session, patient_id=patient.id, status=PatientStatus.PAUSED, actor="staff:1", now=NOW
    )

    assert patient.status == PatientStatus.PAUSED
    changes = [e for e in audit_trail(session=session) if e.action == "patient.status_changed"]
    assert len(changes) == 1 and changes[0].actor == "staff:1"


def test_opting_out_stops_episodes_and_cancels_unsent_check_ins(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    assert patient.id is not None and enrolment.episode.id is not None

    opt_out_patient(
        session=session, patient_id=patient.id, actor=f"patient:{patient.reference}", now=NOW + HOUR
    )

    assert patient.status == PatientStatus.OPTED_OUT and patient.opted_out_at == NOW + HOUR
    assert enrolment.episode.status == EpisodeStatus.STOPPED
    statuses = {c.status for c in checkins_for_episode(session=session, episode_id=enrolment.episode.id)}
    assert statuses == {CheckInStatus.CANCELLED}
    assert "patient.opted_out" in [e.action for e in audit_trail(session=session)]


def test_set_status_to_opted_out_takes_the_opt_out_path(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    assert patient.id is not None
    set_patient_status(
        session=session, patient_id=patient.id, status=PatientStatus.OPTED_OUT, actor="cli", now=NOW
    )
    assert enrolment.episode.status == EpisodeStatus.STOPPED and patient.opted_out_at == NOW


def test_completing_the_last_episode_completes_the_patient(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    assert patient.id is not None and enrolment.episode.id is not None

    end_episode(
        session=session,
        episode_id=enrolment.episode.id,
        status=EpisodeStatus.COMPLETED,
        actor="system",
        now=NOW + 7 * DAY,
    )

    assert get_episode(session=session, episode_id=enrolment.episode.id) == enrolment.episode
    assert enrolment.episode.status == EpisodeStatus.COMPLETED
    assert patient.status == PatientStatus.COMPLETED
    assert episodes_for_patient(session=session, patient_id=patient.id, active_only=True) == []
