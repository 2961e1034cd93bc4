"""enrol_on_protocol: what one enrolment writes, and that it stays a handful of statements."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from importlib.resources import files
from typing import Any

import pytest
from sqlalchemy import Engine, event, func
from sqlmodel import Session, col, select

from flows.catalogue import ResolvedProtocol, bundled_protocols
from flows.clinic import Clinic as ClinicSettings
from flows.clinic import load_clinic
from storage.audit import audit_row, audit_trail, record_audit_rows
from storage.enrolment import Enrolment
from storage.followup import enrol_on_protocol, pinned_protocol
from storage.models import AuditEvent, CheckIn, Clinic, Episode, Invite, Patient, ProtocolSnapshot
from storage.patients import ensure_clinic_id
from storage.protocols import pin_protocol, pin_resolved_protocol, snapshot_of
from tests.storage.factories import DAY, HOUR, NOW

PROCEDURE = "sacroiliac-joint-injection"


@pytest.fixture(scope="module")
def clinic() -> ClinicSettings:
    text = (files("flows") / "data" / "clinics" / "uhp-pain-clinic.yaml").read_text(encoding="utf-8")
    return load_clinic(text, source="uhp-pain-clinic.yaml")


def _enrol(session: Session, clinic: ClinicSettings, name: str = "Sam", **changes: Any) -> Enrolment:
    arguments: dict[str, Any] = {
        "session": session,
        "clinic": clinic,
        "protocol": bundled_protocols()[PROCEDURE],
        "display_name": name,
        "performed_at": NOW - HOUR,
        "diabetic": True,
        "invite_ttl": timedelta(hours=72),
        "now": NOW,
        "actor": "cli",
    }
    return enrol_on_protocol(**(arguments | changes))


@contextmanager
def _statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def _count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement.split()[0])

    event.listen(engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", _count)


def test_an_enrolment_writes_the_patient_episode_check_ins_invite_and_audit_events(
    session: Session, clinic: ClinicSettings
) -> None:
    enrolment = _enrol(session, clinic)

    patient, episode = enrolment.patient, enrolment.episode
    assert session.exec(select(Clinic.slug)).all() == [clinic.id]
    stored = session.exec(select(CheckIn).order_by(col(CheckIn.due_at))).all()
    assert [(c.id, c.key, c.due_at) for c in stored] == [(c.id, c.key, c.due_at) for c in enrolment.checkins]
    assert len(stored) == 10  # the diabetic plan of the sacroiliac joint protocol
    invite = session.exec(select(Invite)).one()
    assert (invite.patient_id, invite.episode_id) == (patient.id, episode.id)
    assert invite.expires_at == enrolment.invite_expires_at == NOW + timedelta(hours=72)
    events = list(reversed(audit_trail(session=session)))
    assert [(e.action, e.subject_id) for e in events[-3:]] == [
        ("patient.enrolled", str(patient.id)),
        ("episode.started", str(episode.id)),
        ("invite.issued", str(patient.id)),
    ]
    assert json.loads(events[-2].detail_json or "")["checkins"] == 10
    assert json.loads(events[-1].detail_json or "") == {
        "episode_id": episode.id,
        "expires_at": (NOW + timedelta(hours=72)).isoformat(),
        "invite_id": invite.id,
    }


def test_the_returned_rows_are_the_sessions_own_and_changes_to_them_are_saved(
    session: Session, clinic: ClinicSettings
) -> None:
    enrolment = _enrol(session, clinic)
    assert enrolment.patient.id is not None and enrolment.episode.id is not None
    assert not session.dirty and not session.new

    assert session.get(Patient, enrolment.patient.id) is enrolment.patient
    assert session.get(Episode, enrolment.episode.id) is enrolment.episode
    assert all(session.get(CheckIn, c.id) is c for c in enrolment.checkins)
    enrolment.patient.display_name = "Jo"
    session.flush()
    session.expire_all()
    assert session.get(Patient, enrolment.patient.id).display_name == "Jo"  # type: ignore[union-attr]


def test_the_protocol_is_pinned_once_and_read_back_exactly(session: Session, clinic: ClinicSettings) -> None:
    protocol = bundled_protocols()[PROCEDURE]
    first, second = _enrol(session, clinic), _enrol(session, clinic, name="Jo")

    digest = hashlib.sha256(protocol.model_dump_json().encode()).hexdigest()
    assert first.episode.protocol_digest == second.episode.protocol_digest == digest
    assert session.exec(select(func.count()).select_from(ProtocolSnapshot)).one() == 1
    assert pinned_protocol(session=session, digest=digest) == protocol


def test_an_enrolment_is_a_handful_of_statements(engine: Engine, clinic: ClinicSettings) -> None:
    """The bench/enrolment.py budget: read the clinic and the pin, then the patient, the episode, its
    check-ins (one INSERT for all ten, then read back as objects), the invite and the audit events (one
    INSERT for all three)."""
    with Session(engine) as session:
        _enrol(session, clinic)  # the first one creates the clinic and pins the protocol
        with _statements(engine) as seen:
            _enrol(session, clinic, name="Jo")
    assert seen == ["SELECT", "SELECT", "INSERT", "INSERT", "INSERT", "SELECT", "INSERT", "INSERT"]


def test_a_reference_already_taken_is_drawn_again(
    session: Session, clinic: ClinicSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = _enrol(session, clinic).patient.reference
    draws = iter([taken, taken, "AC-23456Z"])
    monkeypatch.setattr("storage.enrolment.new_reference", lambda: next(draws))

    assert _enrol(session, clinic, name="Jo").patient.reference == "AC-23456Z"
    assert session.exec(select(func.count()).select_from(Patient)).one() == 2


def test_a_snapshot_is_serialised_once_per_protocol_object(session: Session) -> None:
    protocol = bundled_protocols()[PROCEDURE]
    body, digest = snapshot_of(protocol)
    assert snapshot_of(protocol)[0] is body  # kept, not serialised again
    assert body == protocol.model_dump_json()
    copy = ResolvedProtocol.model_validate_json(body)
    assert snapshot_of(copy) == (body, digest) and snapshot_of(copy)[0] is not body

    pinned = pin_resolved_protocol(session=session, protocol=protocol, now=NOW)
    same = pin_protocol(
        session=session, protocol_id=protocol.id, version=protocol.version, body_json=body, now=NOW
    )
    assert pinned == same == digest


def test_ensure_clinic_id_creates_once_and_follows_renames(session: Session) -> None:
    first = ensure_clinic_id(session=session, slug="north", name="North", now=NOW)
    assert ensure_clinic_id(session=session, slug="north", name="North", now=NOW + DAY) == first
    assert ensure_clinic_id(session=session, slug="north", name="North Pain Service", now=NOW + DAY) == first
    assert session.exec(select(Clinic.name)).all() == ["North Pain Service"]
    assert [e.action for e in audit_trail(session=session)] == ["clinic.created"]


def test_audit_rows_are_recorded_in_order(session: Session) -> None:
    rows = [
        audit_row(actor="cli", action=f"step.{n}", subject_type="episode", subject_id=n, now=NOW)
        for n in range(3)
    ]
    record_audit_rows(session=session, rows=rows)
    record_audit_rows(session=session, rows=[])

    stored = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
    assert [(e.action, e.subject_id, e.detail_json) for e in stored] == [
        ("step.0", "0", None),
        ("step.1", "1", None),
        ("step.2", "2", None),
    ]
