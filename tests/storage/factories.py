"""Test data for the storage tests: a fixed clock and ready-made enrolments."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import TypeVar

from sqlmodel import Session

from storage.enrolment import Enrolment, RedeemOutcome, enrol_patient, record_consent, redeem_invite
from storage.models import Clinic, Patient
from storage.patients import ensure_clinic

NOW = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
PROTOCOL_DIGEST = "a" * 64
T = TypeVar("T")
_chat_ids = count(7_000_000_001)  # beyond 32 bits, like real Telegram ids


def utcnow() -> datetime:
    """The real clock, for the rare test that needs it (storage itself never reads the clock)."""
    return datetime.now(UTC)


def next_chat_id() -> int:
    return next(_chat_ids) * 1000


def clinic(session: Session) -> Clinic:
    return ensure_clinic(session=session, slug="north-pain", name="North Pain Clinic", now=NOW)


def enrol(
    session: Session,
    *,
    planned: Sequence[tuple[str, datetime]] = (("day1", NOW + DAY), ("day3", NOW + 3 * DAY)),
    display_name: str = "Sam",
    invite_ttl: timedelta = 7 * DAY,
    now: datetime = NOW,
) -> Enrolment:
    the_clinic = clinic(session)
    assert the_clinic.id is not None
    return enrol_patient(
        session=session,
        clinic_id=the_clinic.id,
        display_name=display_name,
        procedure_id="lumbar_epidural",
        protocol_version=1,
        protocol_digest=PROTOCOL_DIGEST,
        performed_at=now - HOUR,
        diabetic=False,
        planned_checkins=planned,
        invite_ttl=invite_ttl,
        now=now,
    )


def enrol_connected(
    session: Session, *, display_name: str = "Sam", now: datetime = NOW
) -> tuple[Enrolment, Patient]:
    """An enrolled patient who has opened their invite link and agreed to messages (active, with a chat)."""
    enrolment = enrol(session, display_name=display_name, now=now)
    result = redeem_invite(
        session=session, token=enrolment.invite_token, chat_id=next_chat_id(), user_id=42, now=NOW
    )
    assert result.outcome == RedeemOutcome.OK and result.patient is not None
    assert result.patient.id is not None
    patient = record_consent(session=session, patient_id=result.patient.id, agreed=True, now=NOW)
    return enrolment, patient


def run_together(calls: list[Callable[[], T]]) -> list[T]:
    """Run the calls in threads released at the same instant; return their results (any order)."""
    barrier = threading.Barrier(len(calls))
    results: list[T] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], T]) -> None:
        barrier.wait()
        try:
            results.append(call())
        except BaseException as error:  # re-raised below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results
