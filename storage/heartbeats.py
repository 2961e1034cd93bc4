"""Heartbeats: the receiving loop notes when it last succeeded; the health check reads it.

`record_heartbeat` keeps one row per name and only ever moves its time forward, so two workers (or a late
write) cannot make the service look older than it is. Names are `Heartbeat` members; `detail` is for a worker
name or a count, never message text.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from storage.models import ServiceHeartbeat


class Heartbeat(StrEnum):
    GET_UPDATES = (
        "telegram.getUpdates"  # a getUpdates call answered (an empty answer counts: Telegram is heard)
    )
    WEBHOOK = "telegram.webhook"  # a webhook POST with the right secret, recorded


_TABLE = ServiceHeartbeat.__table__  # type: ignore[attr-defined]
_UPSERTS: dict[str, Any] = {}


def record_heartbeat(session: Session, *, name: str, at: datetime, detail: str | None = None) -> None:
    """`name` succeeded at `at`. An earlier `at` than the one stored changes nothing."""
    dialect = session.get_bind().dialect.name
    statement = _UPSERTS.get(dialect)
    if statement is None:
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        new = insert(_TABLE).values(
            name=bindparam("beat_name"), last_ok_at=bindparam("beat_at"), detail=bindparam("beat_detail")
        )
        statement = _UPSERTS[dialect] = new.on_conflict_do_update(
            index_elements=[_TABLE.c.name],
            set_={"last_ok_at": new.excluded.last_ok_at, "detail": new.excluded.detail},
            where=new.excluded.last_ok_at > _TABLE.c.last_ok_at,
        )
    session.flush()  # keep statement order: rows the ORM still holds go first
    session.connection().execute(statement, {"beat_name": name, "beat_at": at, "beat_detail": detail})


def last_heartbeats(*, session: Session) -> dict[str, datetime]:
    """Each name's last success."""
    rows = session.exec(select(ServiceHeartbeat.name, ServiceHeartbeat.last_ok_at)).all()
    return {name: at for name, at in rows}
