"""The outbox: every message to Telegram is queued here first, then claimed, sent and recorded.

Queuing in the same transaction as the decision that caused it means a crash cannot lose a message
(or send one for a decision that was rolled back). Claims use a lease as in storage/checkins.py. Within
one chat, messages go out in the order they were queued: a message is not claimed while an earlier one
for the same chat is due, being sent or waiting to be retried (advice must not overtake its question).
A message queued for later (not_before in the future) does not hold the others back.

Errors stored here are exception descriptions, never message text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, bindparam, exists, func, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, and_, col, or_, select

from storage._sql import column_values, insert_row, insert_unless_exists, locked, truncate_error
from storage.models import MessagePurpose, OutboundMessage, OutboundStatus

TELEGRAM_MAX_TEXT = 4096
UNFINISHED = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.FAILED)


def enqueue_message(
    *,
    session: Session,
    chat_id: int,
    text: str,
    purpose: MessagePurpose,
    now: datetime,
    patient_id: int | None = None,
    reply_markup_json: str | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboundMessage:
    """Queue a message, to go out at `not_before` (default: now). With a `dedupe_key` already queued,
    the earlier message is returned and nothing new is queued."""
    if not text or len(text) > TELEGRAM_MAX_TEXT:
        raise ValueError(f"message text must be 1-{TELEGRAM_MAX_TEXT} characters (Telegram's limit)")
    message = OutboundMessage(
        patient_id=patient_id,
        chat_id=chat_id,
        purpose=purpose,
        text=text,
        reply_markup_json=reply_markup_json,
        status=OutboundStatus.PENDING,
        not_before=not_before or now,
        created_at=now,
        dedupe_key=dedupe_key,
    )
    if dedupe_key is None:
        return insert_row(session, message)  # Core: every reply queues one or more
    session.flush()  # so the insert below sees rows this session added
    new_id = insert_unless_exists(session, OutboundMessage, column_values(message), "dedupe_key")
    if new_id is not None:
        return locked(session, OutboundMessage, new_id)
    existing = session.exec(select(OutboundMessage).where(OutboundMessage.dedupe_key == dedupe_key)).one()
    return existing


def get_outbound(*, session: Session, message_id: int) -> OutboundMessage | None:
    return session.get(OutboundMessage, message_id)


def claim_outbound(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[OutboundMessage]:
    """Take up to `limit` messages to send now, at most one per chat, oldest first. Commit soon after."""
    earlier = aliased(OutboundMessage)
    held_back = exists().where(
        col(earlier.chat_id) == col(OutboundMessage.chat_id),
        col(earlier.id) < col(OutboundMessage.id),
        or_(
            col(earlier.status).in_([OutboundStatus.SENDING, OutboundStatus.FAILED]),
            and_(earlier.status == OutboundStatus.PENDING, earlier.not_before <= now),
        ),
    )
    query = (
        select(OutboundMessage)
        .where(_sendable(now), ~held_back)
        .order_by(col(OutboundMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    claimed = list(session.exec(query).all())
    for message in claimed:
        message.status = OutboundStatus.SENDING
        message.lease_owner = owner
        message.lease_until = now + lease
        message.attempts += 1
    session.flush()
    return claimed


def mark_sent(*, session: Session, message_id: int, telegram_message_id: int | None, now: datetime) -> bool:
    """Telegram accepted the message. Recorded even if the lease had passed to another worker (it was
    delivered either way). False if it was already recorded as sent."""
    message = locked(session, OutboundMessage, message_id)
    if message.status == OutboundStatus.SENT:
        return False
    message.status = OutboundStatus.SENT
    message.telegram_message_id = telegram_message_id
    message.sent_at = now
    message.lease_owner = None
    message.lease_until = None
    session.flush()
    return True


# Built once: the outbox records every message it sends through this statement.
_outbound = OutboundMessage.__table__  # type: ignore[attr-defined]
_RECORD_SENT = (
    update(_outbound)
    .where(_outbound.c.id == bindparam("message_id"), _outbound.c.status != OutboundStatus.SENT)
    .values(
        status=OutboundStatus.SENT,
        telegram_message_id=bindparam("telegram_message_id"),
        sent_at=bindparam("sent_at"),
        lease_owner=None,
        lease_until=None,
    )
)


def mark_sent_many(*, session: Session, sent: Sequence[tuple[int, int | None]], now: datetime) -> int:
    """``mark_sent`` for several messages at once: ``sent`` holds (message id, Telegram's message id) pairs.
    One statement, run for every pair, so the outbox records a burst of sends in one short transaction.
    Returns how many were newly recorded (a message already recorded as sent is left as it was)."""
    if not sent:
        return 0
    session.flush()  # keep statement order: anything the ORM still holds for these rows goes first
    result = session.connection().execute(
        _RECORD_SENT,
        [{"message_id": m, "telegram_message_id": t, "sent_at": now} for m, t in sent],
    )
    for message_id, _ in sent:  # a copy this session already loaded is re-read when next used
        loaded = session.identity_map.get(identity_key(OutboundMessage, message_id))
        if loaded is not None:
            session.expire(loaded)
    return result.rowcount


def mark_retry(
    *, session: Session, message_id: int, owner: str, not_before: datetime, error: str, now: datetime
) -> bool:
    """Sending failed for a reason that may pass (network, 429 retry_after): try again at not_before.
    False (nothing changed) if this worker no longer holds the lease."""
    message = locked(session, OutboundMessage, message_id)
    if message.status != OutboundStatus.SENDING or message.lease_owner != owner:
        return False
    message.status = OutboundStatus.FAILED
    message.not_before = max(not_before, now)
    message.last_error = truncate_error(error)
    message.lease_owner = None
    message.lease_until = None
    session.flush()
    return True


def mark_dead(*, session: Session, message_id: int, owner: str, error: str, now: datetime) -> bool:
    """Give up on the message (e.g. 403: the patient blocked the bot). False if the lease was lost."""
    message = locked(session, OutboundMessage, message_id)
    if message.status != OutboundStatus.SENDING or message.lease_owner != owner:
        return False
    message.status = OutboundStatus.DEAD
    message.last_error = truncate_error(error)
    message.lease_owner = None
    message.lease_until = None
    session.flush()
    return True


def outbox_backlog(*, session: Session, now: datetime) -> int:
    """How many messages are due but not yet sent (for health checks and metrics)."""
    query = select(func.count()).select_from(OutboundMessage).where(_sendable(now))
    return session.exec(query).one()


def _sendable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(
            col(OutboundMessage.status).in_([OutboundStatus.PENDING, OutboundStatus.FAILED]),
            OutboundMessage.not_before <= now,
        ),
        and_(OutboundMessage.status == OutboundStatus.SENDING, col(OutboundMessage.lease_until) <= now),
    )
