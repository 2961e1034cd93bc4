"""The patients list and a patient's page, with what staff can do there: send the next check-in now, pause
or resume follow-up, send a message (queued in the outbox; the bot delivers it), print a new invite slip.

Every view of a patient is written to the audit trail (who looked, when); so is every action.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from console.formatting import telegram_text
from console.views.common import episode_protocol
from console.views.patient import patient_view
from console.views.patients import PatientFilter, find_patients
from console.views.slip import build_slip
from console.web import RowId, Staff, StaffAction, StaffPage
from flows.catalogue import bundled_protocols
from storage.audit import record_audit
from storage.checkins import bring_next_checkin_forward
from storage.enrolment import issue_invite
from storage.messages import TELEGRAM_MAX_TEXT, enqueue_message
from storage.models import MessagePurpose, Patient, PatientStatus, Priority
from storage.patients import get_patient, set_patient_status

router = APIRouter()


@router.get("/patients")
def patients_page(
    staff: StaffPage,
    q: str = "",
    procedure: str = "",
    status: str = "",
    unanswered: bool = False,
    unreachable: bool = False,
) -> Response:
    wanted = PatientFilter(
        search=_printable(q)[:100],  # NUL and other control characters: PostgreSQL refuses them
        procedure=procedure if procedure in bundled_protocols() else "",
        status=PatientStatus(status) if status in set(PatientStatus) else None,
        unanswered=unanswered,
        unreachable=unreachable,
    )
    rows = find_patients(staff.db, wanted, clinic=staff.clinic, now=staff.now)
    # Ids and filter codes only: a search may be a patient's name.
    record_audit(
        session=staff.db,
        actor=staff.actor,
        action="patients.listed",
        subject_type=None,
        subject_id=None,
        detail={
            "shown": len(rows),
            "searched": bool(wanted.search),
            "procedure": wanted.procedure or None,
            "status": wanted.status,
            "unanswered": unanswered,
            "unreachable": unreachable,
        },
        now=staff.now,
    )
    return staff.render(
        "patients.html", rows=rows, wanted=wanted, protocols=bundled_protocols(), statuses=list(PatientStatus)
    )


@router.get("/patients/{patient_id}")
def patient_page(patient_id: RowId, staff: StaffPage, done: str | None = None) -> Response:
    patient = _patient(staff, patient_id)
    record_audit(
        session=staff.db,
        actor=staff.actor,
        action="patient.viewed",
        subject_type="patient",
        subject_id=patient_id,
        now=staff.now,
    )
    view = patient_view(staff.db, patient, clinic=staff.clinic, now=staff.now)
    return staff.render("patient.html", view=view, done=done, max_message=TELEGRAM_MAX_TEXT)


@router.post("/patients/{patient_id}/send-next-checkin")
def send_next_checkin(patient_id: RowId, staff: StaffAction) -> Response:
    view = patient_view(staff.db, _patient(staff, patient_id), clinic=staff.clinic, now=staff.now)
    current = view.current
    if not view.can_send_next or current is None or current.episode.id is None:
        raise HTTPException(status_code=409, detail="This patient has no check-in that can be sent now.")
    bring_next_checkin_forward(
        session=staff.db, episode_id=current.episode.id, actor=staff.actor, now=staff.now
    )
    return _back(patient_id, "checkin")


@router.post("/patients/{patient_id}/pause")
def pause(patient_id: RowId, staff: StaffAction) -> Response:
    patient = _patient(staff, patient_id)
    if patient.status in (PatientStatus.ACTIVE, PatientStatus.INVITED):
        set_patient_status(
            session=staff.db,
            patient_id=patient_id,
            status=PatientStatus.PAUSED,
            actor=staff.actor,
            now=staff.now,
        )
    return _back(patient_id, "paused")


@router.post("/patients/{patient_id}/resume")
def resume(patient_id: RowId, staff: StaffAction) -> Response:
    patient = _patient(staff, patient_id)
    if patient.status is PatientStatus.PAUSED:
        # Back to where they were: active if they had opened their link, else still invited.
        status = PatientStatus.ACTIVE if patient.telegram_chat_id is not None else PatientStatus.INVITED
        set_patient_status(
            session=staff.db, patient_id=patient_id, status=status, actor=staff.actor, now=staff.now
        )
    return _back(patient_id, "resumed")


@router.post("/patients/{patient_id}/message")
def send_message(
    patient_id: RowId, staff: StaffAction, text: Annotated[str, Form(max_length=TELEGRAM_MAX_TEXT)] = ""
) -> Response:
    patient = _patient(staff, patient_id)
    view = patient_view(staff.db, patient, clinic=staff.clinic, now=staff.now)
    if not text.strip():
        return _back(patient_id, "empty")
    if not view.can_message or patient.telegram_chat_id is None:
        raise HTTPException(status_code=409, detail="This patient cannot be messaged on Telegram.")
    body = telegram_text(text.strip())
    if len(body) > TELEGRAM_MAX_TEXT:  # escaping '<' and '&' makes the text longer
        return _back(patient_id, "too_long")
    message_id = enqueue_message(
        session=staff.db,
        chat_id=patient.telegram_chat_id,
        text=body,
        purpose=MessagePurpose.STAFF_MESSAGE,
        priority=Priority.REPLY,  # a nurse is waiting on it
        patient_id=patient_id,
        now=staff.now,
    )
    record_audit(
        session=staff.db,
        actor=staff.actor,
        action="patient.message_queued",
        subject_type="patient",
        subject_id=patient_id,
        detail={"outbound_message_id": message_id},
        now=staff.now,
    )
    return _back(patient_id, "message")


@router.post("/patients/{patient_id}/invite")
def new_invite(patient_id: RowId, staff: StaffAction) -> Response:
    """A fresh invite slip (the first was lost); earlier links stop working."""
    patient = _patient(staff, patient_id)
    view = patient_view(staff.db, patient, clinic=staff.clinic, now=staff.now)
    current = view.current
    if not view.can_reinvite or current is None or current.episode.id is None:
        raise HTTPException(
            status_code=409, detail="Only an invited patient with an active episode needs a link."
        )
    protocol = episode_protocol(staff.db, current.episode)
    if protocol is None:
        raise HTTPException(status_code=409, detail="The protocol of this episode is not available.")
    issued = issue_invite(
        session=staff.db,
        episode_id=current.episode.id,
        ttl=staff.settings.invite_ttl,
        now=staff.now,
        actor=staff.actor,
    )
    slip = build_slip(
        clinic=staff.clinic,
        protocol=protocol,
        reference=patient.reference,
        display_name=patient.display_name,
        performed_at=current.episode.performed_at,
        diabetic=patient.diabetic,
        bot_username=staff.settings.invite_bot_username,
        token=issued.token,
        expires_at=issued.expires_at,
    )
    return staff.render("slip.html", slip=slip, patient=patient)


def _patient(staff: Staff, patient_id: RowId) -> Patient:
    patient = get_patient(session=staff.db, patient_id=patient_id)
    if patient is None:
        raise HTTPException(status_code=404, detail="There is no such patient.")
    return patient


def _back(patient_id: RowId, done: str) -> Response:
    return RedirectResponse(f"/patients/{patient_id}?done={done}", status_code=303)


def _printable(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())
