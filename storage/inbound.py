"""The log of Telegram updates received: each update is processed once even if delivered twice.

Record the update first (its own short transaction), then take it (`take_inbound_update`, which marks it
processed in the same transaction as the handlers' work). Updates still RECEIVED after a crash are found
again with `unprocessed_updates`. The payload holds what the patient wrote: never log it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlmodel import Session, col, select

from storage._sql import insert_unless_exists, truncate_error
from storage.errors import NotFound
from storage.models import InboundStatus, InboundUpdate


def record_inbound_update(
    *,
    session: Session,
    update_id: int,
    chat_id: int | None,
    kind: str,
    payload_json: str,
    now: datetime,
) -> bool:
    """True if this update is new and should be processed; False if the update_id was already recorded."""
    values = {
        "update_id": update_id,
        "chat_id": chat_id,
        "kind": kind,
        "payload_json": payload_json,
        "received_at": now,
        "status": InboundStatus.RECEIVED,
        "processed_at": None,
        "error": None,
    }
    return insert_unless_exists(session, InboundUpdate, values, "update_id") is not None


def inbound_update(*, session: Session, update_id: int) -> InboundUpdate | None:
    """By Telegram's update_id (the row's `id` is what escalations refer to)."""
    return session.exec(select(InboundUpdate).where(InboundUpdate.update_id == update_id)).first()


@dataclass(frozen=True, kw_only=True)
class TakenUpdate:
    id: int  # the row's id (what escalations refer to), not Telegram's update_id
    update_id: int
    chat_id: int | None
    payload_json: str


_TABLE = InboundUpdate.__table__  # type: ignore[attr-defined]
_TAKE = (
    update(_TABLE)
    .where(
        _TABLE.c.update_id.in_(bindparam("telegram_update_ids", expanding=True)),
        _TABLE.c.status == InboundStatus.RECEIVED,
    )
    .values(status=InboundStatus.PROCESSED, processed_at=bindparam("taken_at"), error=None)
    .returning(_TABLE.c.id, _TABLE.c.update_id, _TABLE.c.chat_id, _TABLE.c.payload_json)
)


def take_inbound_updates(
    *, session: Session, update_ids: Sequence[int], now: datetime
) -> dict[int, TakenUpdate]:
    """Take recorded updates for processing in this transaction, those that nobody has processed; keyed by
    Telegram's update_id.

    They are marked processed at once, so the mark commits together with the handlers' work, or rolls back
    with it (and the update is still there to be processed, or marked failed). One statement for all of
    them, because it runs for every message patients send. Two workers cannot both take one: on PostgreSQL
    the second waits for the first's row lock, then finds it processed; on SQLite the transaction already
    holds the write lock. An update processed (or failed) already, or never recorded, is not in the result."""
    if not update_ids:
        return {}
    rows = session.connection().execute(_TAKE, {"telegram_update_ids": list(update_ids), "taken_at": now})
    return {
        row.update_id: TakenUpdate(
            id=row.id, update_id=row.update_id, chat_id=row.chat_id, payload_json=row.payload_json
        )
        for row in rows
    }


def take_inbound_update(*, session: Session, update_id: int, now: datetime) -> TakenUpdate | None:
    """``take_inbound_updates`` for one update: None if it was processed already or never recorded."""
    return take_inbound_updates(session=session, update_ids=[update_id], now=now).get(update_id)


def unprocessed_updates(
    *, session: Session, received_before: datetime, limit: int = 100
) -> list[InboundUpdate]:
    """Updates recorded before `received_before` but never processed (a crash mid-way), oldest first."""
    query = (
        select(InboundUpdate)
        .where(InboundUpdate.status == InboundStatus.RECEIVED, InboundUpdate.received_at < received_before)
        .order_by(col(InboundUpdate.update_id))
        .limit(limit)
    )
    return list(session.exec(query).all())


def mark_inbound_failed(*, session: Session, update_id: int, error: str, now: datetime) -> InboundUpdate:
    """Processing raised. `error` is the exception's type and description, never the payload."""
    update = _by_update_id(session, update_id)
    update.status = InboundStatus.FAILED
    update.processed_at = now
    update.error = truncate_error(error)
    session.flush()
    return update


def _by_update_id(session: Session, update_id: int) -> InboundUpdate:
    query = (
        select(InboundUpdate)
        .where(InboundUpdate.update_id == update_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    update = session.exec(query).first()
    if update is None:
        raise NotFound(f"inbound update {update_id} was never recorded")
    return update
