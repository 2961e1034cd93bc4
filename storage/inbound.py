"""The log of Telegram updates received: each kept as sent, processed once, and none blocking another.

Record the update first (its own short transaction), then take it (`take_inbound_updates`, which marks it
processed in the same transaction as the handlers' work). An update that cannot be read or processed is
quarantined (`quarantine_inbound_update`): kept, marked failed with the reason. Updates still RECEIVED after
a crash are found again with `waiting_updates`.

An update is the same one only when the bot, Telegram's update_id and the content all match (see
InboundUpdate): a reused update_id with new content is a new update. The payload holds what the patient
wrote: never log it.

`inbound_health` and the listener rows are what `aftercare health` reads: how many updates wait, how many
are quarantined, when Telegram last gave us updates, and whether processing had to be restarted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage._sql import insert_unless_exists, truncate_error
from storage.errors import NotFound
from storage.models import InboundListener, InboundStatus, InboundUpdate

DEDUPE_KEY = ("bot_id", "update_id", "content_sha256")


def canonical_json(payload: Any) -> str:
    """The one text of a JSON value: sorted keys, no spaces, ASCII only (so U+0000 is stored as \\u0000)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def content_digest(payload_json: str) -> str:
    return hashlib.sha256(payload_json.encode("ascii")).hexdigest()


def record_inbound_update(
    *,
    session: Session,
    bot_id: int,
    update_id: int,
    chat_id: int | None,
    kind: str,
    payload_json: str,
    now: datetime,
) -> int | None:
    """Keep an update (``payload_json`` as ``canonical_json`` wrote it). Its row id if it is new and should
    be processed; None if this bot recorded this update_id with this content before (Telegram sending it
    again)."""
    values = {
        "bot_id": bot_id,
        "update_id": update_id,
        "content_sha256": content_digest(payload_json),
        "chat_id": chat_id,
        "kind": kind,
        "payload_json": payload_json,
        "received_at": now,
        "status": InboundStatus.RECEIVED,
        "processed_at": None,
        "error": None,
    }
    row_id: int | None = insert_unless_exists(session, InboundUpdate, values, DEDUPE_KEY)
    return row_id


def adopt_unowned_updates(*, session: Session, bot_id: int) -> int:
    """Rows recorded before the bot's id was kept become this bot's, so that Telegram sending one of them
    again after the upgrade is still seen as a repeat. A database serves one clinic's bot; run at start.
    A row this bot has recorded again since (same id and content) stays as it is: it is the same update."""
    other = _TABLE.alias("other")
    recorded_again = (
        select(other.c.id)
        .where(
            other.c.bot_id == bot_id,
            other.c.update_id == _TABLE.c.update_id,
            other.c.content_sha256 == _TABLE.c.content_sha256,
        )
        .exists()
    )
    result = session.connection().execute(
        update(_TABLE).where(_TABLE.c.bot_id.is_(None), ~recorded_again).values(bot_id=bot_id)
    )
    return int(result.rowcount or 0)


def inbound_update(*, session: Session, row_id: int) -> InboundUpdate | None:
    """By the row's id (what escalations refer to), not Telegram's update_id, which can repeat."""
    return session.get(InboundUpdate, row_id)


@dataclass(frozen=True, kw_only=True)
class TakenUpdate:
    id: int  # the row's id (what escalations refer to), not Telegram's update_id
    update_id: int
    chat_id: int | None
    kind: str
    payload_json: str


_TABLE = InboundUpdate.__table__  # type: ignore[attr-defined]
_TAKE = (
    update(_TABLE)
    .where(
        _TABLE.c.id.in_(bindparam("row_ids", expanding=True)),
        _TABLE.c.status == InboundStatus.RECEIVED,
    )
    .values(status=InboundStatus.PROCESSED, processed_at=bindparam("taken_at"), error=None)
    .returning(_TABLE.c.id, _TABLE.c.update_id, _TABLE.c.chat_id, _TABLE.c.kind, _TABLE.c.payload_json)
)


def take_inbound_updates(
    *, session: Session, row_ids: Sequence[int], now: datetime
) -> dict[int, TakenUpdate]:
    """Take recorded updates for processing in this transaction, those that nobody has processed; keyed by
    row id.

    They are marked processed at once, so the mark commits together with the handlers' work, or rolls back
    with it (and the update is still there to be processed, or quarantined). One statement for all of them,
    because it runs for every message patients send. Two workers cannot both take one: on PostgreSQL the
    second waits for the first's row lock, then finds it processed; on SQLite the transaction already holds
    the write lock. An update processed (or quarantined) already, or never recorded, is not in the result."""
    if not row_ids:
        return {}
    rows = session.connection().execute(_TAKE, {"row_ids": list(row_ids), "taken_at": now})
    return {
        row.id: TakenUpdate(
            id=row.id,
            update_id=row.update_id,
            chat_id=row.chat_id,
            kind=row.kind,
            payload_json=row.payload_json,
        )
        for row in rows
    }


def take_inbound_update(*, session: Session, row_id: int, now: datetime) -> TakenUpdate | None:
    """``take_inbound_updates`` for one update: None if it was processed already or never recorded."""
    return take_inbound_updates(session=session, row_ids=[row_id], now=now).get(row_id)


def waiting_updates(*, session: Session, limit: int = 100) -> list[int]:
    """Row ids of updates recorded but not yet processed or quarantined, in the order they arrived."""
    query = (
        select(InboundUpdate.id)
        .where(InboundUpdate.status == InboundStatus.RECEIVED)
        .order_by(col(InboundUpdate.id))
        .limit(limit)
    )
    return [row_id for row_id in session.exec(query).all() if row_id is not None]


def quarantine_inbound_update(*, session: Session, row_id: int, reason: str, now: datetime) -> InboundUpdate:
    """The update could not be read or processed: kept as it is, marked failed with ``reason`` (the
    exception's type and description, never the payload), and never taken again."""
    row = session.get(InboundUpdate, row_id, with_for_update=True, populate_existing=True)
    if row is None:
        raise NotFound(f"inbound update row {row_id} was never recorded")
    row.status = InboundStatus.FAILED
    row.processed_at = now
    row.error = truncate_error(reason)
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------- health


def note_delivery(*, session: Session, bot_id: int, mode: str, now: datetime) -> None:
    """Telegram answered a getUpdates, or a webhook POST was recorded: receiving works at ``now``."""
    _upsert_listener(session, bot_id=bot_id, values={"mode": mode, "last_delivery_at": now})


def note_processing_restart(*, session: Session, bot_id: int, mode: str, error: str, now: datetime) -> None:
    """The task processing updates died (``error``: the exception's type) and is being started again."""
    _upsert_listener(
        session,
        bot_id=bot_id,
        values={"mode": mode, "last_restart_at": now, "last_restart_error": truncate_error(error)},
        restarted=True,
    )


def _upsert_listener(
    session: Session, *, bot_id: int, values: dict[str, Any], restarted: bool = False
) -> None:
    table = InboundListener.__table__  # type: ignore[attr-defined]
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).values(bot_id=bot_id, processing_restarts=1 if restarted else 0, **values)
    changes: dict[str, Any] = dict(values)
    if restarted:
        changes["processing_restarts"] = table.c.processing_restarts + 1
    session.flush()
    session.connection().execute(statement.on_conflict_do_update(index_elements=["bot_id"], set_=changes))


@dataclass(frozen=True, kw_only=True)
class InboundHealth:
    """How receiving stands, for `aftercare health`."""

    waiting: int  # recorded, not yet processed (normally 0, or a handful for a moment)
    oldest_waiting_since: datetime | None  # when the longest-waiting of them arrived
    quarantined: int  # could not be read or processed (since ``quarantined_since`` when given)
    last_quarantined_at: datetime | None
    mode: str | None  # "polling" or "webhook", as the receiving process last said
    last_delivery_at: datetime | None  # the last getUpdates answered or webhook POST recorded
    processing_restarts: int  # times the processing task died and was restarted (ever)
    last_processing_restart_at: datetime | None
    last_processing_restart_error: str | None


def inbound_health(*, session: Session, quarantined_since: datetime | None = None) -> InboundHealth:
    """Counts and times for health: updates waiting and quarantined, from the log; the last delivery and
    processing restarts, from the listener of the bot that received most recently."""
    waiting, oldest = session.exec(
        select(func.count(), func.min(InboundUpdate.received_at)).where(
            InboundUpdate.status == InboundStatus.RECEIVED
        )
    ).one()
    failed = select(func.count(), func.max(InboundUpdate.processed_at)).where(
        InboundUpdate.status == InboundStatus.FAILED
    )
    if quarantined_since is not None:
        failed = failed.where(col(InboundUpdate.processed_at) >= quarantined_since)
    quarantined, last_quarantined = session.exec(failed).one()
    listener = session.exec(
        select(InboundListener).order_by(
            col(InboundListener.last_delivery_at).desc().nulls_last(), col(InboundListener.bot_id)
        )
    ).first()
    return InboundHealth(
        waiting=int(waiting),
        oldest_waiting_since=oldest,
        quarantined=int(quarantined),
        last_quarantined_at=last_quarantined,
        mode=listener.mode if listener else None,
        last_delivery_at=listener.last_delivery_at if listener else None,
        processing_restarts=listener.processing_restarts if listener else 0,
        last_processing_restart_at=listener.last_restart_at if listener else None,
        last_processing_restart_error=listener.last_restart_error if listener else None,
    )
