"""The outbox: every message to Telegram is queued here first, then claimed, sent and recorded.

Queuing in the same transaction as the decision that caused it means a crash cannot lose a message
(or send one for a decision that was rolled back). Claims use a lease as in storage/checkins.py. Within
one chat, messages go out in the order they were queued: a message is not claimed while an earlier one
for the same chat is due, being sent or waiting to be retried (advice must not overtake its question).
A message queued for later (not_before in the future) does not hold the others back.

Errors stored here are exception descriptions, never message text.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, insert, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, and_, col, or_, select

from storage._sql import claim_under_lease, insert_unless_exists, locked, truncate_error
from storage.models import MessagePurpose, OutboundMessage, OutboundStatus

TELEGRAM_MAX_TEXT = 4096
UNFINISHED = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.FAILED)


# Built once: every reply a patient gets is queued through this statement.
_outbound = OutboundMessage.__table__  # type: ignore[attr-defined]
_QUEUE = insert(_outbound).returning(_outbound.c.id)


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
) -> int:
    """Queue a message, to go out at `not_before` (default: now); returns its id. With a `dedupe_key`
    already queued, nothing new is queued and the earlier message's id is returned."""
    if not text or len(text) > TELEGRAM_MAX_TEXT:
        raise ValueError(f"message text must be 1-{TELEGRAM_MAX_TEXT} characters (Telegram's limit)")
    values = {
        "patient_id": patient_id,
        "chat_id": chat_id,
        "purpose": purpose,
        "text": text,
        "reply_markup_json": reply_markup_json,
        "status": OutboundStatus.PENDING,
        "attempts": 0,
        "not_before": not_before or now,
        "lease_owner": None,
        "lease_until": None,
        "telegram_message_id": None,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
        "dedupe_key": dedupe_key,
    }
    session.flush()  # keep statement order: rows the ORM still holds go first
    if dedupe_key is None:
        # A prepared Core INSERT: no model object is built (every reply queues one or more messages).
        new_id: int = session.connection().execute(_QUEUE, values).scalar_one()
        session.info.setdefault(_QUEUED_KEY, []).append(new_id)
        return new_id
    inserted = insert_unless_exists(session, OutboundMessage, values, "dedupe_key")
    if inserted is not None:
        session.info.setdefault(_QUEUED_KEY, []).append(int(inserted))
        return int(inserted)
    existing = session.exec(select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key)).one()
    assert existing is not None
    return existing


_QUEUED_KEY = "aftercare.queued_message_ids"


def queued_in(session: Session) -> list[int]:
    """The ids of the messages this session has queued so far (kept in ``session.info``, which lives as
    long as the session: one transaction, with session_scope)."""
    return list(session.info.get(_QUEUED_KEY, ()))


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


@dataclass(frozen=True, kw_only=True)
class ClaimedMessage:
    """A message claimed for sending, as plain values (not a row of the session)."""

    id: int
    chat_id: int
    patient_id: int | None
    purpose: MessagePurpose
    text: str
    reply_markup_json: str | None
    attempts: int

    @classmethod
    def of(cls, row: Any) -> ClaimedMessage:
        """From an OutboundMessage, or a result row with the same columns."""
        return cls(
            id=row.id,
            chat_id=row.chat_id,
            patient_id=row.patient_id,
            purpose=row.purpose,
            text=row.text,
            reply_markup_json=row.reply_markup_json,
            attempts=row.attempts,
        )


def _claim_next_for_chats_statement() -> Any:
    """Built once. Each chat's oldest message that is sendable now and not held back by an earlier one (the
    same rule as `claim_outbound`: at most one per chat), oldest first, claimed in one `UPDATE ... WHERE id
    IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) RETURNING`."""
    table = _outbound
    earlier = table.alias("earlier")
    now: Any = bindparam("claim_now")
    sendable = or_(
        and_(
            table.c.status.in_([OutboundStatus.PENDING, OutboundStatus.FAILED]),
            table.c.not_before <= now,
        ),
        and_(table.c.status == OutboundStatus.SENDING, table.c.lease_until <= now),
    )
    held_back = exists().where(
        earlier.c.chat_id == table.c.chat_id,
        earlier.c.id < table.c.id,
        or_(
            earlier.c.status.in_([OutboundStatus.SENDING, OutboundStatus.FAILED]),
            and_(earlier.c.status == OutboundStatus.PENDING, earlier.c.not_before <= now),
        ),
    )
    oldest = (
        select(table.c.id)
        .where(table.c.chat_id.in_(bindparam("claim_chats", expanding=True)), sendable, ~held_back)
        .order_by(table.c.id)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
    )
    columns = ("id", "chat_id", "patient_id", "purpose", "text", "reply_markup_json", "attempts")
    return claim_under_lease(
        table, oldest, claimed_status=OutboundStatus.SENDING, returning=[table.c[name] for name in columns]
    )


_CLAIM_NEXT_FOR_CHATS = _claim_next_for_chats_statement()


def claim_next_for_chats(
    *, session: Session, chat_ids: Collection[int], now: datetime, owner: str, lease: timedelta, limit: int
) -> list[ClaimedMessage]:
    """`claim_outbound` for these chats only: each one's next message, if it may go now, at most `limit`,
    oldest first. For a worker that has just queued replies to these chats in this same transaction and
    will send them straight after commit, without a separate claim."""
    if not chat_ids or limit <= 0:
        return []
    session.flush()  # keep statement order: rows the ORM still holds go first
    rows = session.connection().execute(
        _CLAIM_NEXT_FOR_CHATS,
        {
            "claim_chats": list(chat_ids),
            "claim_limit": limit,
            "claim_now": now,
            "claim_owner": owner,
            "claim_until": now + lease,
        },
    )
    return sorted((ClaimedMessage.of(row) for row in rows), key=lambda message: message.id)


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
