"""Enrolling a patient: a form (name or initials, procedure, date and time on the clinic's clock, diabetic)
whose answer is the printable discharge slip with the invite link and its QR code.

The slip is the POST's own response (not a redirect): the invite token exists only in that response and
is never stored, so it cannot be shown again. Reloading asks the browser to post again, which would make
a second patient; the page says so. A lost slip is replaced from the patient's page (new link).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import Response

from console.views.slip import build_slip
from console.web import Staff, StaffAction, StaffPage
from flows.catalogue import bundled_protocols
from storage.enrolment import MAX_DISPLAY_NAME
from storage.followup import enrol_on_protocol

router = APIRouter()
WINDOW = timedelta(days=14)  # a procedure more than two weeks away either side is a typing mistake


@router.get("/enrol")
def enrol_form(staff: StaffPage) -> Response:
    today = staff.clinic.local(staff.now).date()
    return _form(
        staff, values={"name": "", "procedure": "", "date": today.isoformat(), "time": "", "diabetic": False}
    )


@router.post("/enrol")
def enrol(
    staff: StaffAction,
    name: Annotated[str, Form(max_length=200)] = "",
    procedure: Annotated[str, Form(max_length=100)] = "",
    performed_date: Annotated[str, Form(alias="date", max_length=20)] = "",
    performed_time: Annotated[str, Form(alias="time", max_length=20)] = "",
    diabetic: Annotated[bool, Form()] = False,
) -> Response:
    values = {
        "name": name,
        "procedure": procedure,
        "date": performed_date,
        "time": performed_time,
        "diabetic": diabetic,
    }
    errors: dict[str, str] = {}
    display_name = " ".join(name.split())
    if not display_name or len(display_name) > MAX_DISPLAY_NAME:
        errors["name"] = f"Enter a first name or initials (up to {MAX_DISPLAY_NAME} characters)."
    protocol = bundled_protocols().get(procedure)
    if protocol is None:
        errors["procedure"] = "Choose the procedure."
    performed_at = _moment(staff, performed_date, performed_time)
    if performed_at is None:
        errors["when"] = "Enter the date and time of the procedure."
    elif abs(performed_at - staff.now) > WINDOW:
        errors["when"] = "The procedure must be within two weeks of today."
    if errors or protocol is None or performed_at is None:
        return _form(staff, values=values, errors=errors, status_code=400)
    enrolment = enrol_on_protocol(
        session=staff.db,
        clinic=staff.clinic,
        protocol=protocol,
        display_name=display_name,
        performed_at=performed_at,
        diabetic=diabetic,
        invite_ttl=staff.settings.invite_ttl,
        now=staff.now,
        actor=staff.actor,
    )
    slip = build_slip(
        clinic=staff.clinic,
        protocol=protocol,
        reference=enrolment.patient.reference,
        display_name=enrolment.patient.display_name,
        performed_at=performed_at,
        diabetic=diabetic,
        bot_username=staff.settings.invite_bot_username,
        token=enrolment.invite_token,
        expires_at=enrolment.invite_expires_at,
    )
    return staff.render("slip.html", slip=slip, patient=enrolment.patient, just_enrolled=True)


def _moment(staff: Staff, day: str, clock: str) -> datetime | None:
    """The procedure's date and time, read on the clinic's wall clock, as UTC."""
    try:
        local = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), tzinfo=staff.clinic.zone)
    except ValueError:
        return None
    return local.astimezone(UTC)


def _form(
    staff: Staff, *, values: dict[str, object], errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    return staff.render(
        "enrol.html",
        status_code=status_code,
        values=values,
        errors=errors or {},
        protocols=bundled_protocols(),
    )
