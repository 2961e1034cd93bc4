"""The outbox: every message to Telegram is queued here first, then claimed, sent and recorded.

Queuing in the same transaction as the decision that caused it means a crash cannot lose a message
(or send one for a decision that was rolled back). Claims use a lease as in storage/checkins.py. Within
one chat, messages go out in the order they were queued: a message is not claimed while an earlier one
for the same chat is due, being sent or waiting to be retried (advice must not overtake its question).
A message queued for later (not_before in the future) does not hold the others back.

Across chats, the most urgent go first (``Priority``: urgent advice, then replies, then routine check-ins),
oldest first within a priority. An urgent message lifts the earlier unsent messages to its chat to urgent
too, so a routine question queued before it cannot hold it at the back of the queue.

Each attempt's state is kept: ``attempt_started_at`` is written before a request may go to Telegram, and
``unanswered_attempts`` counts the attempts that went out and got no answer (the message may have
arrived). A worker that restarts under the same name takes its claims back at once (``take_back_claims``).

Errors stored here are exception descriptions, never message text.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, bindparam, exists, func, insert, text, update
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import identity_key
from sqlmodel import Session, and_, col, or_, select

from storage._sql import claim_under_lease, insert_unless_exists, locked, truncate_error, without_index
from storage.models import MessagePurpose, OutboundMessage, OutboundStatus, Priority
from storage.models.messages import UNFINISHED_SQL

TELEGRAM_MAX_TEXT = 4096
UNFINISHED = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.FAILED)
# The same rows, in the words of the index on them (see storage/models/messages.py).
_UNFINISHED_ROWS = text(f"outbound_message.{UNFINISHED_SQL}")


# Built once: every reply a patient gets is queued through this statement.
_outbound = OutboundMessage.__table__  # type: ignore[attr-defined]
_QUEUE = insert(_outbound).returning(_outbound.c.id)
# An urgent message lifts the earlier unsent messages to its chat, which would otherwise hold it back.
_LIFT_EARLIER = (
    update(_outbound)
    .where(
        _outbound.c.chat_id == bindparam("lift_chat"),
        _outbound.c.id < bindparam("lift_before"),
        _outbound.c.status.in_(UNFINISHED),
        _outbound.c.priority > bindparam("lift_to"),
    )
    .values(priority=bindparam("lift_to"))
)


def enqueue_message(
    *,
    session: Session,
    chat_id: int,
    text: str,
    purpose: MessagePurpose,
    priority: Priority,
    now: datetime,
    patient_id: int | None = None,
    reply_markup_json: str | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> int:
    """Queue a message, to go out at `not_before` (default: now), ahead of any less urgent ones (`priority`:
    from the level of what it says, chosen by the caller); returns its id. With a `dedupe_key` already
    queued, nothing new is queued and the earlier message's id is returned."""
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
        "priority": int(priority),
        "attempt_started_at": None,
        "unanswered_attempts": 0,
    }
    session.flush()  # keep statement order: rows the ORM still holds go first
    if dedupe_key is None:
        # A prepared Core INSERT: no model object is built (every reply queues one or more messages).
        new_id: int = session.connection().execute(_QUEUE, values).scalar_one()
    else:
        inserted = insert_unless_exists(session, OutboundMessage, values, "dedupe_key")
        if inserted is None:
            query = select(OutboundMessage.id).where(OutboundMessage.dedupe_key == dedupe_key)
            existing = session.exec(query).one()
            assert existing is not None
            return existing
        new_id = int(inserted)
    session.info.setdefault(_QUEUED_KEY, []).append(new_id)
    if priority is Priority.URGENT:
        session.connection().execute(
            _LIFT_EARLIER, {"lift_chat": chat_id, "lift_before": new_id, "lift_to": int(priority)}
        )
    return new_id


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
    """Take up to `limit` messages to send now, at most one per chat, most urgent first, then oldest.
    Commit soon after. Their attempts have not started (``mark_attempts_started`` says when they do)."""
    earlier = aliased(OutboundMessage)
    held_back = exists().where(
        col(earlier.chat_id) == col(OutboundMessage.chat_id),
        col(earlier.id) < col(OutboundMessage.id),
        unsent(now, message=earlier),
    )
    query = (
        select(OutboundMessage)
        # In that order from the index on the unfinished rows, stopping at the limit. The status index is kept
        # out of it (without_index): SQLite (no statistics) would read every due row through it and sort
        # them all, 3 to 25 ms with 3,000 due against 0.1 ms.
        .where(_UNFINISHED_ROWS, _sendable(now, status=without_index(OutboundMessage.status)), ~held_back)
        .order_by(col(OutboundMessage.priority), col(OutboundMessage.id))
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
        message.attempt_started_at = None
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
    priority: Priority = Priority.ROUTINE
    # Claimed as started (a reply, claimed in the transaction that answers and sent straight after it
    # commits); otherwise the sender marks the attempt started just before the request goes.
    started: bool = False

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
            priority=Priority(row.priority),
            started=row.attempt_started_at is not None,
        )


def _claim_next_for_chats_statement() -> Any:
    """Built once. Each chat's oldest message that is sendable now and not held back by an earlier one (the
    same rule as `claim_outbound`: at most one per chat), most urgent first, then oldest, claimed in one
    `UPDATE ... WHERE id IN (SELECT ... LIMIT n FOR UPDATE SKIP LOCKED) RETURNING`. The attempt counts as
    started at the claim: the message goes straight after commit."""
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
        .order_by(table.c.priority, table.c.id)
        .limit(bindparam("claim_limit"))
        .with_for_update(skip_locked=True)
    )
    columns = (
        "id",
        "chat_id",
        "patient_id",
        "purpose",
        "text",
        "reply_markup_json",
        "attempts",
        "priority",
        "attempt_started_at",
    )
    return claim_under_lease(
        table,
        oldest,
        claimed_status=OutboundStatus.SENDING,
        returning=[table.c[name] for name in columns],
        attempt_started_at=now,
    )


_CLAIM_NEXT_FOR_CHATS = _claim_next_for_chats_statement()


def claim_next_for_chats(
    *, session: Session, chat_ids: Collection[int], now: datetime, owner: str, lease: timedelta, limit: int
) -> list[ClaimedMessage]:
    """`claim_outbound` for these chats only: each one's next message, if it may go now, at most `limit`,
    most urgent first, then oldest. For a worker that has just queued replies to these chats in this same
    transaction and will send them straight after commit, without a separate claim: their attempts are
    recorded as started with the claim."""
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
    return sorted(
        (ClaimedMessage.of(row) for row in rows), key=lambda message: (message.priority, message.id)
    )


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


def mark_attempts_started(
    *, session: Session, message_ids: Collection[int], owner: str, now: datetime, lease_until: datetime
) -> set[int]:
    """Write down, before their requests go, that these messages' attempts start now (they may reach
    Telegram from here on), and renew their leases to ``lease_until`` so that no one takes them over while
    the attempt may still succeed. Returns the ids ``owner`` still holds: only those may be sent (another
    worker took the rest over when their leases ran out)."""
    if not message_ids:
        return set()
    session.flush()  # keep statement order: rows the ORM still holds go first
    rows = session.connection().execute(
        _MARK_STARTED,
        {"ids": list(message_ids), "owner": owner, "started": now, "until": lease_until},
    )
    return {row.id for row in rows}


_MARK_STARTED = (
    update(_outbound)
    .where(
        _outbound.c.id.in_(bindparam("ids", expanding=True)),
        _outbound.c.status == OutboundStatus.SENDING,
        _outbound.c.lease_owner == bindparam("owner"),
    )
    .values(attempt_started_at=bindparam("started"), lease_until=bindparam("until"))
    .returning(_outbound.c.id)
)


def mark_retry(
    *,
    session: Session,
    message_id: int,
    owner: str,
    not_before: datetime,
    error: str,
    now: datetime,
    unanswered: bool = False,
) -> bool:
    """Sending failed for a reason that may pass (network, 429 retry_after): try again at not_before.
    ``unanswered``: the request went out and no answer came, so the message may have arrived; counted in
    ``unanswered_attempts``. False (nothing changed) if this worker no longer holds the lease."""
    message = locked(session, OutboundMessage, message_id)
    if message.status != OutboundStatus.SENDING or message.lease_owner != owner:
        return False
    message.status = OutboundStatus.FAILED
    message.not_before = max(not_before, now)
    message.last_error = truncate_error(error)
    message.lease_owner = None
    message.lease_until = None
    message.attempt_started_at = None
    message.unanswered_attempts += int(unanswered)
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
    message.attempt_started_at = None
    session.flush()
    return True


@dataclass(frozen=True, kw_only=True)
class TakenBack:
    """What a restarted worker found still claimed under its name."""

    may_have_arrived: list[int]  # its attempt had started: sent again, so it may arrive twice
    never_sent: list[int]  # still waiting for its turn: sent as if never claimed


def take_back_claims(*, session: Session, owner: str, now: datetime) -> TakenBack:
    """The messages still claimed by ``owner`` become sendable now rather than when their leases run out.
    Only for a worker starting again under its own name, which knows no one else is sending them (the
    previous process holding that name is gone: storage/worker_names.py).

    Which are sent again: all of them, at once. A message whose attempt had started may have reached the
    patient (Telegram has no way to ask): it counts one unanswered attempt and is sent again, since a
    repeated message beats a lost one. One whose attempt had not started cannot have: it goes back to the
    queue as if never claimed."""
    session.flush()
    started = session.connection().execute(
        _TAKE_BACK_STARTED,
        {"owner": owner, "now": now, "error": "the worker stopped mid-send: it may have been delivered"},
    )
    may_have_arrived = sorted(row.id for row in started)
    waiting = session.connection().execute(_TAKE_BACK_WAITING, {"owner": owner})
    return TakenBack(may_have_arrived=may_have_arrived, never_sent=sorted(row.id for row in waiting))


def _owned_by(owner: Any) -> ColumnElement[bool]:
    return and_(_outbound.c.status == OutboundStatus.SENDING, _outbound.c.lease_owner == owner)


_TAKE_BACK_STARTED = (
    update(_outbound)
    .where(_owned_by(bindparam("owner")), _outbound.c.attempt_started_at.is_not(None))
    .values(
        status=OutboundStatus.FAILED,
        not_before=bindparam("now"),
        lease_owner=None,
        lease_until=None,
        attempt_started_at=None,
        unanswered_attempts=_outbound.c.unanswered_attempts + 1,
        last_error=bindparam("error"),
    )
    .returning(_outbound.c.id)
)
# The claim counted an attempt that never happened: take it back too.
_TAKE_BACK_WAITING = (
    update(_outbound)
    .where(_owned_by(bindparam("owner")), _outbound.c.attempt_started_at.is_(None))
    .values(
        status=OutboundStatus.PENDING,
        lease_owner=None,
        lease_until=None,
        attempts=_outbound.c.attempts - 1,
    )
    .returning(_outbound.c.id)
)


def unsent(now: datetime, *, message: Any = OutboundMessage) -> ColumnElement[bool]:
    """Not yet sent and due by `now`: queued, claimed (its attempt started or not), or failed and waiting to
    be tried again (taken back from a stopped worker included). What holds a chat's later messages back, and
    what the health check counts (storage/health.py). ``message``: the table or an alias of it."""
    return or_(
        col(message.status).in_([OutboundStatus.SENDING, OutboundStatus.FAILED]),
        and_(message.status == OutboundStatus.PENDING, message.not_before <= now),
    )


def outbox_backlog(*, session: Session, now: datetime) -> int:
    """How many messages are due but not yet sent (for health checks and metrics)."""
    query = select(func.count()).select_from(OutboundMessage).where(_sendable(now))
    return session.exec(query).one()


def _sendable(now: datetime, *, status: Any = OutboundMessage.status) -> ColumnElement[bool]:
    return or_(
        and_(status.in_([OutboundStatus.PENDING, OutboundStatus.FAILED]), OutboundMessage.not_before <= now),
        and_(status == OutboundStatus.SENDING, col(OutboundMessage.lease_until) <= now),
    )
