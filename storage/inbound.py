"""The log of Telegram updates received: each update is processed once even if delivered twice.

Record the update first (its own short transaction), then process it and mark it processed. Updates
still RECEIVED after a crash are found again with `unprocessed_updates`. The payload holds what the
patient wrote: never log it.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from storage._sql import column_values, insert_unless_exists, truncate_error
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
    update = InboundUpdate(
        update_id=update_id,
        chat_id=chat_id,
        kind=kind,
        payload_json=payload_json,
        received_at=now,
        status=InboundStatus.RECEIVED,
    )
    session.flush()
    return insert_unless_exists(session, InboundUpdate, column_values(update), "update_id") is not None


def inbound_update(*, session: Session, update_id: int) -> InboundUpdate | None:
    """By Telegram's update_id (the row's `id` is what escalations refer to)."""
    return session.exec(select(InboundUpdate).where(InboundUpdate.update_id == update_id)).first()


def claim_inbound_update(*, session: Session, update_id: int) -> InboundUpdate | None:
    """Lock a recorded update for processing in this transaction, if nobody has processed or locked it.

    On PostgreSQL, FOR UPDATE SKIP LOCKED: two workers starting at once (webhook mode on several workers)
    cannot both process the same left-over update. On SQLite the transaction already holds the write lock."""
    query = (
        select(InboundUpdate)
        .where(InboundUpdate.update_id == update_id, InboundUpdate.status == InboundStatus.RECEIVED)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.exec(query).first()


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


def mark_inbound_processed(*, session: Session, update_id: int, now: datetime) -> InboundUpdate:
    update = _by_update_id(session, update_id)
    update.status = InboundStatus.PROCESSED
    update.processed_at = now
    update.error = None
    session.flush()
    return update


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
