"""Writing and reading the audit trail (who did what, when, to which record).

Details hold ids and codes only, never names, answers or message text: the audit trail is read by
people who do not need clinical content. Rows are never updated or deleted (the database refuses).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert
from sqlmodel import Session, col, select

from storage.models import AuditEvent

_EVENTS: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_NEW_EVENTS = insert(_EVENTS)  # built once: building it per call cost more than running it

SYSTEM = "system"
CLI = "cli"
ANONYMOUS = "anonymous"  # a request by someone not signed in (a sign-in attempt, a refused form)


def staff_actor(staff_id: int) -> str:
    return f"staff:{staff_id}"


def patient_actor(reference: str) -> str:
    return f"patient:{reference}"


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    subject_type: str | None,
    subject_id: str | int | None,
    detail: Mapping[str, Any] | None = None,
    now: datetime,
) -> AuditEvent:
    event = AuditEvent(
        **audit_row(
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            detail=detail,
            now=now,
        )
    )
    session.add(event)
    session.flush()
    return event


def audit_row(
    *,
    actor: str,
    action: str,
    subject_type: str | None,
    subject_id: str | int | None,
    detail: Mapping[str, Any] | None = None,
    now: datetime,
) -> dict[str, Any]:
    """One event's column values, for record_audit_rows."""
    return {
        "at": now,
        "actor": actor,
        "action": action,
        "subject_type": subject_type,
        "subject_id": None if subject_id is None else str(subject_id),
        "detail_json": None if detail is None else json.dumps(detail, sort_keys=True, default=_json_default),
    }


def record_audit_rows(*, session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Several events in one INSERT, in order, for a step that records more than one (enrolment does
    three): one ORM flush per event was a fifth of enrolling a patient."""
    if rows:
        session.exec(_NEW_EVENTS, params=list(rows))


def audit_trail(
    *,
    session: Session,
    subject_type: str | None = None,
    subject_id: str | int | None = None,
    limit: int = 200,
) -> list[AuditEvent]:
    """Newest first, optionally only the events about one subject."""
    query = select(AuditEvent)
    if subject_type is not None:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id is not None:
        query = query.where(AuditEvent.subject_id == str(subject_id))
    query = query.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(query).all())


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"audit detail values must be JSON types or datetimes, not {type(value).__name__}")
