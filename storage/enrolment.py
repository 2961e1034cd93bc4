"""Enrolling patients, issuing single-use Telegram invite links and redeeming them.

The invite token is returned once, to be put in the deep link `https://t.me/<bot>?start=<token>`; only
its SHA-256 is stored, and redeeming looks the digest up (no comparison of secrets in Python, so nothing
to time). A token is redeemed at most once, even by two chats at the same moment: the invite row is
locked (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) before it is checked and marked used.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Table, bindparam, insert
from sqlmodel import Session, col, select

from storage._sql import column_values, insert_row, insert_unless_exists, keep_as_loaded, locked
from storage.audit import audit_row, patient_actor, record_audit, record_audit_rows
from storage.checkins import cancel_open_checkins
from storage.models import CheckIn, Episode, EpisodeStatus, Invite, Patient, PatientStatus
from storage.patients import new_reference, patient_for_chat

MAX_DISPLAY_NAME = 64

# The statements of an enrolment, built once: building `insert(...).values(...)` afresh for every row
# cost several times what running it does.
_INVITES: Table = Invite.__table__  # type: ignore[attr-defined]
_CHECKINS: Table = CheckIn.__table__  # type: ignore[attr-defined]
_NEW_INVITE = insert(_INVITES).returning(_INVITES.c.id)
_NEW_CHECKINS = insert(_CHECKINS)
_CHECKINS_OF_EPISODE = select(CheckIn).where(CheckIn.episode_id == bindparam("episode_id"))


@dataclass(frozen=True, kw_only=True)
class Enrolment:
    patient: Patient
    episode: Episode
    checkins: tuple[CheckIn, ...]
    invite_token: str  # plain token, shown once; never stored
    invite_expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class IssuedInvite:
    invite: Invite
    token: str  # plain token, shown once; never stored
    expires_at: datetime


class RedeemOutcome(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # no such token (mistyped, or made up)
    USED = "used"  # already redeemed; patient/episode are given if it was redeemed from this chat
    EXPIRED = "expired"  # past expires_at, or replaced by a newer invite
    EPISODE_ENDED = "episode_ended"  # the episode was stopped or completed before the link was opened
    CHAT_ALREADY_ENROLLED = "chat_already_enrolled"  # this chat belongs to another patient record


@dataclass(frozen=True, kw_only=True)
class RedeemResult:
    outcome: RedeemOutcome
    patient: Patient | None = None
    episode: Episode | None = None


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def enrol_patient(
    *,
    session: Session,
    clinic_id: int,
    display_name: str,
    procedure_id: str,
    protocol_version: int,
    protocol_digest: str,
    performed_at: datetime,
    diabetic: bool,
    planned_checkins: Sequence[tuple[str, datetime]],
    invite_ttl: timedelta,
    now: datetime,
    actor: str = "system",
) -> Enrolment:
    """A new patient with their first episode, its planned check-ins (key, due_at) and an invite."""
    name = display_name.strip()
    if not name or len(name) > MAX_DISPLAY_NAME:
        raise ValueError(f"display_name must be 1-{MAX_DISPLAY_NAME} characters (a first name or initials)")
    patient = Patient(
        clinic_id=clinic_id,
        reference=new_reference(),
        display_name=name,
        diabetic=diabetic,
        status=PatientStatus.INVITED,
        created_at=now,
    )
    _insert_patient(session, patient)
    enrolled = audit_row(
        actor=actor,
        action="patient.enrolled",
        subject_type="patient",
        subject_id=patient.id,
        detail={"reference": patient.reference, "clinic_id": clinic_id},
        now=now,
    )
    return _start_episode(
        session,
        patient,
        procedure_id=procedure_id,
        protocol_version=protocol_version,
        protocol_digest=protocol_digest,
        performed_at=performed_at,
        planned_checkins=planned_checkins,
        invite_ttl=invite_ttl,
        actor=actor,
        now=now,
        audit_first=[enrolled],
    )


def start_episode(
    *,
    session: Session,
    patient_id: int,
    procedure_id: str,
    protocol_version: int,
    protocol_digest: str,
    performed_at: datetime,
    planned_checkins: Sequence[tuple[str, datetime]],
    invite_ttl: timedelta,
    now: datetime,
    actor: str = "system",
) -> Enrolment:
    """A further procedure for a known patient. A patient without a chat, or who had completed, is
    invited again; an opted-out patient stays opted out until they open the new link themselves."""
    patient = locked(session, Patient, patient_id)
    if patient.telegram_chat_id is None:
        patient.status = PatientStatus.INVITED
    elif patient.status == PatientStatus.COMPLETED:
        patient.status = PatientStatus.ACTIVE
    return _start_episode(
        session,
        patient,
        procedure_id=procedure_id,
        protocol_version=protocol_version,
        protocol_digest=protocol_digest,
        performed_at=performed_at,
        planned_checkins=planned_checkins,
        invite_ttl=invite_ttl,
        actor=actor,
        now=now,
    )


def issue_invite(
    *, session: Session, episode_id: int, ttl: timedelta, now: datetime, actor: str = "system"
) -> IssuedInvite:
    """A fresh link for the episode (e.g. the first was lost). Earlier unused links stop working."""
    episode = locked(session, Episode, episode_id)
    earlier = select(Invite).where(Invite.episode_id == episode_id, col(Invite.used_at).is_(None))
    for old in session.exec(earlier.where(Invite.expires_at > now)).all():
        old.expires_at = now
    token = _new_token()
    invite = Invite(
        patient_id=episode.patient_id,
        episode_id=episode_id,
        token_digest=token_digest(token),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(invite)
    session.flush()
    record_audit(
        session=session,
        actor=actor,
        action="invite.issued",
        subject_type="patient",
        subject_id=episode.patient_id,
        detail={"invite_id": invite.id, "episode_id": episode_id, "expires_at": invite.expires_at},
        now=now,
    )
    return IssuedInvite(invite=invite, token=token, expires_at=invite.expires_at)


def redeem_invite(
    *, session: Session, token: str, chat_id: int, user_id: int | None, now: datetime
) -> RedeemResult:
    """Link the chat that opened the invite link to the patient. The patient is not messaged with check-ins
    until they agree (record_consent): opening a link is not consent."""
    if not token or len(token) > 64:
        return RedeemResult(outcome=RedeemOutcome.UNKNOWN)
    query = (
        select(Invite)
        .where(Invite.token_digest == token_digest(token))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    invite = session.exec(query).first()
    if invite is None:
        return RedeemResult(outcome=RedeemOutcome.UNKNOWN)
    patient = locked(session, Patient, invite.patient_id)
    episode = locked(session, Episode, invite.episode_id)
    if invite.used_at is not None:
        if invite.used_by_chat_id == chat_id:
            return RedeemResult(outcome=RedeemOutcome.USED, patient=patient, episode=episode)
        return RedeemResult(outcome=RedeemOutcome.USED)
    if invite.expires_at <= now:
        return RedeemResult(outcome=RedeemOutcome.EXPIRED)
    if episode.status != EpisodeStatus.ACTIVE:
        return RedeemResult(outcome=RedeemOutcome.EPISODE_ENDED)
    owner = patient_for_chat(session=session, chat_id=chat_id)
    if owner is not None and owner.id != patient.id:
        return RedeemResult(outcome=RedeemOutcome.CHAT_ALREADY_ENROLLED)

    previous_chat = patient.telegram_chat_id
    invite.used_at = now
    invite.used_by_chat_id = chat_id
    patient.telegram_chat_id = chat_id
    patient.telegram_user_id = user_id
    if patient.consent_at is not None and patient.status == PatientStatus.INVITED:
        patient.status = PatientStatus.ACTIVE  # agreed before (a new phone): carry on
    session.flush()
    record_audit(
        session=session,
        actor=patient_actor(patient.reference),
        action="invite.redeemed",
        subject_type="patient",
        subject_id=patient.id,
        detail={
            "invite_id": invite.id,
            "episode_id": episode.id,
            "changed_chat": previous_chat is not None and previous_chat != chat_id,
        },
        now=now,
    )
    return RedeemResult(outcome=RedeemOutcome.OK, patient=patient, episode=episode)


def _start_episode(
    session: Session,
    patient: Patient,
    *,
    procedure_id: str,
    protocol_version: int,
    protocol_digest: str,
    performed_at: datetime,
    planned_checkins: Sequence[tuple[str, datetime]],
    invite_ttl: timedelta,
    actor: str,
    now: datetime,
    audit_first: Sequence[dict[str, Any]] = (),
) -> Enrolment:
    """The episode, its check-ins, its invite and the audit events (`audit_first`, then this step's), each
    kind written with one Core INSERT, however many rows: an ORM flush per row was most of the time it took
    to enrol a patient (bench/enrolment.py)."""
    assert patient.id is not None
    keys = [key for key, _ in planned_checkins]
    if len(set(keys)) != len(keys):
        raise ValueError(f"planned check-in keys must be unique, got {keys}")
    episode = Episode(
        patient_id=patient.id,
        procedure_id=procedure_id,
        protocol_version=protocol_version,
        protocol_digest=protocol_digest,
        performed_at=performed_at,
        status=EpisodeStatus.ACTIVE,
        created_at=now,
    )
    insert_row(session, episode)
    assert episode.id is not None
    # A new episode has no check-ins yet, so the "already planned?" query of schedule_checkin is not needed,
    # nor has it an invite to expire, as issue_invite does before issuing a new one.
    checkins = _insert_checkins(session, episode.id, planned_checkins)
    token, expires_at = _new_token(), now + invite_ttl
    invite = {
        "patient_id": patient.id,
        "episode_id": episode.id,
        "token_digest": token_digest(token),
        "created_at": now,
        "expires_at": expires_at,
    }
    invite_id = session.exec(_NEW_INVITE, params=invite).scalar_one()
    started = audit_row(
        actor=actor,
        action="episode.started",
        subject_type="episode",
        subject_id=episode.id,
        detail={
            "patient_id": patient.id,
            "procedure_id": procedure_id,
            "protocol_version": protocol_version,
            "protocol_digest": protocol_digest,
            "checkins": len(checkins),
        },
        now=now,
    )
    issued = audit_row(
        actor=actor,
        action="invite.issued",
        subject_type="patient",
        subject_id=patient.id,
        detail={"invite_id": invite_id, "episode_id": episode.id, "expires_at": expires_at},
        now=now,
    )
    record_audit_rows(session=session, rows=[*audit_first, started, issued])
    return Enrolment(
        patient=patient,
        episode=episode,
        checkins=checkins,
        invite_token=token,
        invite_expires_at=expires_at,
    )


def record_consent(*, session: Session, patient_id: int, agreed: bool, now: datetime) -> Patient:
    """The patient's answer to "may we message you here?". Yes: active (a staff pause stays). No: opted out,
    with every open check-in cancelled."""
    patient = locked(session, Patient, patient_id)
    if agreed:
        patient.consent_at = now
        patient.opted_out_at = None
        if patient.status in (PatientStatus.INVITED, PatientStatus.OPTED_OUT, PatientStatus.UNREACHABLE):
            patient.status = PatientStatus.ACTIVE
    else:
        patient.status = PatientStatus.OPTED_OUT
        patient.opted_out_at = now
        for episode in session.exec(select(Episode).where(Episode.patient_id == patient_id)).all():
            assert episode.id is not None
            cancel_open_checkins(session=session, episode_id=episode.id, now=now)
    session.flush()
    record_audit(
        session=session,
        actor=patient_actor(patient.reference),
        action="consent.given" if agreed else "consent.declined",
        subject_type="patient",
        subject_id=patient.id,
        now=now,
    )
    return patient


def _new_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters of A-Z a-z 0-9 _ -: valid in a deep link


def _insert_patient(session: Session, patient: Patient) -> None:
    """INSERT the patient, drawing a new reference while the drawn one is taken, and keep it in the session.
    The INSERT itself skips a taken reference (ON CONFLICT DO NOTHING), so no lookup comes first and two
    enrolments drawing the same one at once cannot fail."""
    for _ in range(20):
        patient.id = insert_unless_exists(session, Patient, column_values(patient), "reference")
        if patient.id is not None:
            keep_as_loaded(session, patient)
            return
        patient.reference = new_reference()
    raise RuntimeError("could not find an unused patient reference")  # 20 collisions: not by chance


def _insert_checkins(
    session: Session, episode_id: int, planned: Sequence[tuple[str, datetime]]
) -> tuple[CheckIn, ...]:
    """One INSERT for them all, then one query to load them into the session, in the planned order:
    cheaper than building each CheckIn by hand (SQLModel's constructor was a quarter of enrolling)."""
    if not planned:
        return ()
    rows = [{"episode_id": episode_id, "key": key, "due_at": due_at} for key, due_at in planned]
    session.exec(_NEW_CHECKINS, params=rows)
    stored = {c.key: c for c in session.exec(_CHECKINS_OF_EPISODE, params={"episode_id": episode_id})}
    return tuple(stored[key] for key, _ in planned)
