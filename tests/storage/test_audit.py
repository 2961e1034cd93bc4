"""The audit trail: events are recorded with their details, and can never be changed or removed."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from storage.audit import audit_trail, patient_actor, record_audit, staff_actor
from storage.db import session_scope
from tests.storage.factories import HOUR, NOW


def test_events_are_kept_with_their_details_newest_first(session: Session) -> None:
    record_audit(
        session=session, actor="cli", action="clinic.created", subject_type="clinic", subject_id=1, now=NOW
    )
    record_audit(
        session=session,
        actor=staff_actor(3),
        action="escalation.closed",
        subject_type="escalation",
        subject_id=7,
        detail={"outcome": "called_patient", "at": NOW},
        now=NOW + HOUR,
    )

    events = audit_trail(session=session)
    assert [event.action for event in events] == ["escalation.closed", "clinic.created"]
    assert events[0].actor == "staff:3"
    assert json.loads(events[0].detail_json or "") == {"outcome": "called_patient", "at": NOW.isoformat()}
    assert [e.action for e in audit_trail(session=session, subject_type="escalation", subject_id=7)] == [
        "escalation.closed"
    ]


def test_actor_names() -> None:
    assert staff_actor(3) == "staff:3"
    assert patient_actor("AC-7K3QXM") == "patient:AC-7K3QXM"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET action = 'rewritten'", "DELETE FROM audit_event"],
)
def test_audit_rows_cannot_be_updated_or_deleted(engine: Engine, statement: str) -> None:
    with session_scope(engine) as session:
        record_audit(
            session=session, actor="system", action="kept", subject_type=None, subject_id=None, now=NOW
        )

    with pytest.raises(DBAPIError, match="append-only"), session_scope(engine) as session:
        session.connection().execute(text(statement))

    with session_scope(engine) as session:
        assert [event.action for event in audit_trail(session=session)] == ["kept"]


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_audit_table_cannot_be_truncated_on_postgres(engine: Engine) -> None:
    """SQLite has no TRUNCATE (its DELETE is refused above)."""
    with session_scope(engine) as session:
        record_audit(
            session=session, actor="system", action="kept", subject_type=None, subject_id=None, now=NOW
        )
    with pytest.raises(DBAPIError, match="append-only"), session_scope(engine) as session:
        session.connection().execute(text("TRUNCATE audit_event"))
