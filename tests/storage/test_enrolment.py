"""Enrolment and invite links: one patient, one chat, each link usable once and only in time."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from storage.audit import audit_trail
from storage.db import session_scope
from storage.enrolment import (
    RedeemOutcome,
    RedeemResult,
    issue_invite,
    record_consent,
    redeem_invite,
    start_episode,
    token_digest,
)
from storage.models import CheckInStatus, EpisodeStatus, Invite, PatientStatus
from storage.patients import REFERENCE_PATTERN, end_episode, opt_out_patient, patient_for_chat
from tests.storage.factories import DAY, HOUR, NOW, enrol, enrol_connected, next_chat_id, run_together


def test_enrolment_creates_an_invited_patient_with_an_episode_check_ins_and_a_link(session: Session) -> None:
    enrolment = enrol(session, planned=[("day1", NOW + DAY), ("day3", NOW + 3 * DAY)])

    patient, episode = enrolment.patient, enrolment.episode
    assert patient.status == PatientStatus.INVITED and patient.telegram_chat_id is None
    assert REFERENCE_PATTERN.match(patient.reference)
    assert episode.status == EpisodeStatus.ACTIVE and episode.patient_id == patient.id
    assert episode.protocol_digest == "a" * 64
    assert [(c.key, c.due_at, c.status) for c in enrolment.checkins] == [
        ("day1", NOW + DAY, CheckInStatus.SCHEDULED),
        ("day3", NOW + 3 * DAY, CheckInStatus.SCHEDULED),
    ]
    assert enrolment.invite_expires_at == NOW + 7 * DAY
    assert "patient.enrolled" in [event.action for event in audit_trail(session=session)]


def test_the_token_fits_a_telegram_deep_link_and_only_its_digest_is_stored(session: Session) -> None:
    enrolment = enrol(session)

    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", enrolment.invite_token)
    invite = session.exec(select(Invite)).one()
    assert invite.token_digest == token_digest(enrolment.invite_token)
    assert enrolment.invite_token not in invite.token_digest


def test_enrolment_refuses_more_than_a_first_name(session: Session) -> None:
    with pytest.raises(ValueError, match="first name"):
        enrol(session, display_name="  ")
    with pytest.raises(ValueError, match="unique"):
        enrol(session, planned=[("day1", NOW + DAY), ("day1", NOW + 2 * DAY)])


def test_a_link_redeems_once_then_reports_used(session: Session) -> None:
    enrolment = enrol(session)
    chat = next_chat_id()

    first = redeem_invite(session=session, token=enrolment.invite_token, chat_id=chat, user_id=5, now=NOW)
    again = redeem_invite(session=session, token=enrolment.invite_token, chat_id=chat, user_id=5, now=NOW)
    stranger = redeem_invite(
        session=session, token=enrolment.invite_token, chat_id=next_chat_id(), user_id=6, now=NOW
    )

    assert first.outcome == RedeemOutcome.OK
    # opening the link links the chat; check-ins wait for the patient's explicit agreement
    assert first.patient is not None and first.patient.status == PatientStatus.INVITED
    assert first.patient.telegram_chat_id == chat and first.patient.consent_at is None
    assert patient_for_chat(session=session, chat_id=chat) == first.patient
    # the same chat tapping the link again is told who it is; another chat learns nothing
    assert again == RedeemResult(outcome=RedeemOutcome.USED, patient=first.patient, episode=first.episode)
    assert stranger == RedeemResult(outcome=RedeemOutcome.USED)


def test_an_expired_link_is_refused(session: Session) -> None:
    enrolment = enrol(session, invite_ttl=DAY)
    result = redeem_invite(
        session=session, token=enrolment.invite_token, chat_id=next_chat_id(), user_id=1, now=NOW + DAY
    )
    assert result == RedeemResult(outcome=RedeemOutcome.EXPIRED)
    assert enrolment.patient.status == PatientStatus.INVITED


@pytest.mark.parametrize("token", ["", "not-a-real-token-at-all-00000000", "x" * 200])
def test_an_unknown_link_is_refused(session: Session, token: str) -> None:
    enrol(session)
    result = redeem_invite(session=session, token=token, chat_id=next_chat_id(), user_id=1, now=NOW)
    assert result == RedeemResult(outcome=RedeemOutcome.UNKNOWN)


def test_a_chat_cannot_belong_to_two_patients(session: Session) -> None:
    _, sam = enrol_connected(session, display_name="Sam")
    other = enrol(session, display_name="Jo")
    assert sam.telegram_chat_id is not None

    result = redeem_invite(
        session=session, token=other.invite_token, chat_id=sam.telegram_chat_id, user_id=1, now=NOW
    )

    assert result == RedeemResult(outcome=RedeemOutcome.CHAT_ALREADY_ENROLLED)
    # the link was not used up: Jo can still open it from her own phone
    assert (
        redeem_invite(
            session=session, token=other.invite_token, chat_id=next_chat_id(), user_id=2, now=NOW
        ).outcome
        == RedeemOutcome.OK
    )


def test_a_link_for_a_stopped_episode_is_refused(session: Session) -> None:
    enrolment = enrol(session)
    assert enrolment.episode.id is not None
    end_episode(
        session=session, episode_id=enrolment.episode.id, status=EpisodeStatus.STOPPED, actor="cli", now=NOW
    )
    result = redeem_invite(
        session=session, token=enrolment.invite_token, chat_id=next_chat_id(), user_id=1, now=NOW
    )
    assert result == RedeemResult(outcome=RedeemOutcome.EPISODE_ENDED)


def test_a_new_link_replaces_the_old_one(session: Session) -> None:
    enrolment = enrol(session)
    assert enrolment.episode.id is not None
    fresh = issue_invite(session=session, episode_id=enrolment.episode.id, ttl=DAY, now=NOW + HOUR)

    old = redeem_invite(
        session=session, token=enrolment.invite_token, chat_id=next_chat_id(), user_id=1, now=NOW + 2 * HOUR
    )
    new = redeem_invite(
        session=session, token=fresh.token, chat_id=next_chat_id(), user_id=1, now=NOW + 2 * HOUR
    )
    assert (old.outcome, new.outcome) == (RedeemOutcome.EXPIRED, RedeemOutcome.OK)


def test_an_opted_out_patient_who_opens_a_new_link_is_active_again(session: Session) -> None:
    enrolment, patient = enrol_connected(session)
    assert patient.id is not None
    opt_out_patient(session=session, patient_id=patient.id, actor="patient", now=NOW + HOUR)
    second = start_episode(
        session=session,
        patient_id=patient.id,
        procedure_id="knee_injection",
        protocol_version=2,
        protocol_digest="b" * 64,
        performed_at=NOW + DAY,
        planned_checkins=[("day1", NOW + 2 * DAY)],
        invite_ttl=DAY,
        now=NOW + DAY,
    )
    assert second.patient.status == PatientStatus.OPTED_OUT  # not until they open the link themselves

    result = redeem_invite(
        session=session,
        token=second.invite_token,
        chat_id=patient.telegram_chat_id or 0,
        user_id=1,
        now=NOW + DAY + HOUR,
    )
    assert result.outcome == RedeemOutcome.OK
    assert (
        result.patient is not None and result.patient.status == PatientStatus.OPTED_OUT
    )  # asked again first
    assert result.episode == second.episode and second.episode.id != enrolment.episode.id
    assert patient.id is not None
    again = record_consent(session=session, patient_id=patient.id, agreed=True, now=NOW + DAY + HOUR)
    assert again.status == PatientStatus.ACTIVE


def test_two_chats_redeeming_one_link_at_the_same_moment_get_one_success(engine: Engine) -> None:
    with session_scope(engine) as session:
        token = enrol(session).invite_token

    outcomes = run_together([lambda: _redeem_in_own_session(engine, token, next_chat_id()) for _ in range(2)])
    assert sorted(outcomes) == sorted([RedeemOutcome.OK, RedeemOutcome.USED])


def _redeem_in_own_session(engine: Engine, token: str, chat_id: int) -> RedeemOutcome:
    with session_scope(engine) as session:
        return redeem_invite(session=session, token=token, chat_id=chat_id, user_id=1, now=NOW).outcome


def test_declining_consent_opts_out_and_cancels_check_ins(session: Session) -> None:
    enrolment = enrol(session)
    result = redeem_invite(
        session=session, token=enrolment.invite_token, chat_id=next_chat_id(), user_id=1, now=NOW
    )
    assert result.patient is not None and result.patient.id is not None
    patient = record_consent(session=session, patient_id=result.patient.id, agreed=False, now=NOW)
    assert patient.status == PatientStatus.OPTED_OUT
    assert all(c.status == CheckInStatus.CANCELLED for c in enrolment.checkins)
    actions = [e.action for e in audit_trail(session=session, subject_type="patient", subject_id=patient.id)]
    assert "consent.declined" in actions
