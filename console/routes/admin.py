"""Administration (admins only): staff accounts (list, add, deactivate, reactivate), the audit trail and the
clinic's settings (read-only: the clinic file is changed by whoever deploys Aftercare, not from the web).

Accounts are never deleted; deactivating ends the account's sessions at once. Admins cannot deactivate
themselves (a clinic must never lock out its last admin by accident).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response

from console.views.common import staff_names
from console.web import AdminAction, AdminPage, RowId, Staff
from storage.audit import audit_trail, record_audit
from storage.errors import Conflict
from storage.models import StaffRole
from storage.passwords import hash_password, password_problem
from storage.staff import create_staff_user, get_staff_user, list_staff_users, set_staff_active

router = APIRouter(prefix="/admin")
AUDIT_LIMIT = 300


@router.get("/staff")
def staff_page(staff: AdminPage, done: str | None = None) -> Response:
    return _staff_page(staff, done=done)


@router.post("/staff")
def add_staff(
    staff: AdminAction,
    username: Annotated[str, Form(max_length=64)] = "",
    display_name: Annotated[str, Form(max_length=100)] = "",
    role: Annotated[str, Form()] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    values = {"username": username, "display_name": display_name, "role": role}
    errors: dict[str, str] = {}
    if not username.strip() or not all(c.isalnum() or c in "._-" for c in username.strip()):
        errors["username"] = "Use letters, digits, dots, dashes or underscores."
    if role not in {choice.value for choice in StaffRole}:
        errors["role"] = "Choose a role."
    problem = password_problem(password)
    if problem is not None:
        errors["password"] = problem
    elif password != password_again:
        errors["password_again"] = "The two passwords are not the same."  # noqa: S105 (a message)
    if not errors:
        try:
            create_staff_user(
                session=staff.db,
                username=username,
                password_hash=hash_password(password),
                role=StaffRole(role),
                display_name=display_name.strip() or username.strip(),
                now=staff.now,
                actor=staff.actor,
            )
        except Conflict:
            errors["username"] = "That username is taken."
    if errors:
        return _staff_page(staff, values=values, errors=errors, status_code=400)
    return RedirectResponse("/admin/staff?done=added", status_code=303)


@router.post("/staff/{staff_id}/deactivate")
def deactivate(staff_id: RowId, staff: AdminAction) -> Response:
    if staff_id == staff.id:
        raise HTTPException(status_code=409, detail="You cannot deactivate your own account.")
    return _set_active(staff, staff_id, active=False)


@router.post("/staff/{staff_id}/activate")
def activate(staff_id: RowId, staff: AdminAction) -> Response:
    return _set_active(staff, staff_id, active=True)


@router.get("/audit")
def audit_page(staff: AdminPage, subject_type: str = "", subject_id: str = "") -> Response:
    events = audit_trail(
        session=staff.db,
        subject_type=subject_type[:32] or None,
        subject_id=subject_id[:64] or None,
        limit=AUDIT_LIMIT,
    )
    ids = [
        int(e.actor.split(":", 1)[1])
        for e in events
        if e.actor.startswith("staff:") and e.actor[6:].isdigit()
    ]
    record_audit(
        session=staff.db,
        actor=staff.actor,
        action="audit.viewed",
        subject_type=None,
        subject_id=None,
        now=staff.now,
    )
    return staff.render(
        "audit.html",
        events=events,
        names=staff_names(staff.db, ids),
        subject_type=subject_type,
        subject_id=subject_id,
        limit=AUDIT_LIMIT,
    )


@router.get("/clinic")
def clinic_page(staff: AdminPage) -> Response:
    return staff.render("clinic.html")


def _set_active(staff: Staff, staff_id: RowId, *, active: bool) -> Response:
    if get_staff_user(session=staff.db, staff_id=staff_id) is None:
        raise HTTPException(status_code=404, detail="There is no such account.")
    set_staff_active(session=staff.db, staff_id=staff_id, active=active, actor=staff.actor, now=staff.now)
    return RedirectResponse(f"/admin/staff?done={'activated' if active else 'deactivated'}", status_code=303)


def _staff_page(
    staff: Staff,
    *,
    done: str | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    return staff.render(
        "staff.html",
        status_code=status_code,
        users=list_staff_users(session=staff.db),
        done=done,
        values=values or {"username": "", "display_name": "", "role": StaffRole.NURSE.value},
        errors=errors or {},
        roles=list(StaffRole),
    )
