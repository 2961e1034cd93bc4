"""The escalation queue (the landing page) and one escalation: acknowledge, add a note, close with an outcome.

Three clicks from arrival to closed: open it from the queue, pick the outcome, press Close (closing also
acknowledges). Every action is written to the audit trail by storage.escalations; views are audited here.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from console.views.escalations import escalation_row, notes_with_authors, queue
from console.web import RowId, StaffAction, StaffPage
from storage.audit import record_audit
from storage.escalations import (
    acknowledge_escalation,
    add_escalation_note,
    close_escalation,
    get_escalation,
)
from storage.models import AckChannel, EscalationOutcome

router = APIRouter()
MAX_NOTE = 4000
QUEUE_REFRESH_SECONDS = 60


@router.get("/")
def queue_page(staff: StaffPage, closed: int | None = None) -> Response:
    return staff.render(
        "queue.html",
        queue=queue(staff.db, clinic=staff.clinic, now=staff.now),
        closed=closed,
        refresh=QUEUE_REFRESH_SECONDS,
    )


@router.get("/escalations/{escalation_id}")
def escalation_page(escalation_id: RowId, staff: StaffPage, error: str | None = None) -> Response:
    row = escalation_row(staff.db, escalation_id, clinic=staff.clinic, now=staff.now)
    if row is None:
        raise HTTPException(status_code=404, detail="There is no such escalation.")
    record_audit(
        session=staff.db,
        actor=staff.actor,
        action="escalation.viewed",
        subject_type="escalation",
        subject_id=escalation_id,
        detail={"patient_id": row.patient.id if row.patient else None},
        now=staff.now,
    )
    return staff.render(
        "escalation.html",
        row=row,
        notes=notes_with_authors(staff.db, escalation_id),
        outcomes=list(EscalationOutcome),
        error="Choose what was done before closing." if error == "outcome" else None,
    )


@router.post("/escalations/{escalation_id}/acknowledge")
def acknowledge(escalation_id: RowId, staff: StaffAction, back: Annotated[str, Form()] = "") -> Response:
    _exists(staff, escalation_id)
    acknowledge_escalation(
        session=staff.db,
        escalation_id=escalation_id,
        staff_id=staff.id,
        via=AckChannel.CONSOLE,
        now=staff.now,
    )
    return RedirectResponse("/" if back == "queue" else f"/escalations/{escalation_id}", status_code=303)


@router.post("/escalations/{escalation_id}/notes")
def add_note(
    escalation_id: RowId, staff: StaffAction, note: Annotated[str, Form(max_length=MAX_NOTE)] = ""
) -> Response:
    _exists(staff, escalation_id)
    if note.strip():
        add_escalation_note(
            session=staff.db, escalation_id=escalation_id, staff_id=staff.id, text=note, now=staff.now
        )
    return RedirectResponse(f"/escalations/{escalation_id}#notes", status_code=303)


@router.post("/escalations/{escalation_id}/close")
def close(
    escalation_id: RowId,
    staff: StaffAction,
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE)] = "",
) -> Response:
    _exists(staff, escalation_id)
    if outcome not in {choice.value for choice in EscalationOutcome}:
        return RedirectResponse(f"/escalations/{escalation_id}?error=outcome#close", status_code=303)
    if note.strip():
        add_escalation_note(
            session=staff.db, escalation_id=escalation_id, staff_id=staff.id, text=note, now=staff.now
        )
    close_escalation(
        session=staff.db,
        escalation_id=escalation_id,
        staff_id=staff.id,
        outcome=EscalationOutcome(outcome),
        now=staff.now,
    )
    return RedirectResponse(f"/?closed={escalation_id}", status_code=303)


def _exists(staff: StaffPage, escalation_id: RowId) -> None:
    if get_escalation(session=staff.db, escalation_id=escalation_id) is None:
        raise HTTPException(status_code=404, detail="There is no such escalation.")
