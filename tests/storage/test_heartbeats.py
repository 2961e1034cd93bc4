"""Heartbeats: one row per name, whose time only moves forward."""

from __future__ import annotations

from sqlmodel import Session

from storage.heartbeats import Heartbeat, last_heartbeats, record_heartbeat
from tests.storage.factories import HOUR, NOW


def test_a_heartbeat_is_kept_per_name_and_moves_only_forward(session: Session) -> None:
    assert last_heartbeats(session=session) == {}
    record_heartbeat(session, name=Heartbeat.GET_UPDATES, at=NOW)
    record_heartbeat(session, name=Heartbeat.WEBHOOK, at=NOW - HOUR, detail="host-a:1")
    record_heartbeat(session, name=Heartbeat.GET_UPDATES, at=NOW + HOUR)
    record_heartbeat(session, name=Heartbeat.GET_UPDATES, at=NOW)  # a late write from a slower worker
    session.commit()
    assert last_heartbeats(session=session) == {
        Heartbeat.GET_UPDATES: NOW + HOUR,
        Heartbeat.WEBHOOK: NOW - HOUR,
    }
