"""Tables for Telegram traffic: the outbox of messages to send and the log of updates received."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, SmallInteger, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from storage.models.base import enum_type
from storage.models.enums import InboundStatus, MessagePurpose, OutboundStatus, Priority

# The messages not yet sent or given up: what the outbox's claim reads. Written out as literal SQL because an
# index limited to these rows (below) serves a query only when the query says the same words.
UNFINISHED_SQL = "status NOT IN ('sent', 'dead')"


class OutboundMessage(SQLModel, table=True):
    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_status_not_before", "status", "not_before"),
        # The claim's order (most urgent first, then oldest) over the unfinished rows only: it stays small
        # however many sent messages the table keeps.
        Index(
            "ix_outbound_message_unfinished_priority",
            "priority",
            "id",
            sqlite_where=text(UNFINISHED_SQL),
            postgresql_where=text(UNFINISHED_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    patient_id: int | None = Field(default=None, foreign_key="patient.id", index=True)
    chat_id: int = Field(sa_type=BigInteger, index=True)
    purpose: MessagePurpose = Field(sa_type=enum_type(MessagePurpose))
    text: str = Field(sa_type=Text)
    reply_markup_json: str | None = Field(default=None, sa_type=Text)
    status: OutboundStatus = Field(default=OutboundStatus.PENDING, sa_type=enum_type(OutboundStatus))
    attempts: int = 0
    not_before: datetime
    lease_owner: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    last_error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime
    sent_at: datetime | None = None
    # Set by handlers that may be retried, so the same message is never queued twice.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    # storage.models.Priority: the claim takes the smallest first (urgent advice before routine check-ins).
    priority: int = Field(default=int(Priority.ROUTINE), sa_type=SmallInteger)
    # When the current attempt's request may have gone to Telegram (written before it goes); None while
    # a claimed message still waits for its turn. A worker restarting after kill -9 reads it to know which
    # of its claims may have reached the patient.
    attempt_started_at: datetime | None = None
    # Attempts that went out and got no answer (Telegram may have delivered them): each may have left one
    # copy more with the patient. The bound on repeats, message by message (docs/operations.md).
    unanswered_attempts: int = 0


class InboundUpdate(SQLModel, table=True):
    """One update as Telegram sent it, kept whatever becomes of it (storage/inbound.py).

    Telegram's update_id alone does not name an update: after a week without updates Telegram picks the next
    id at random, and a new bot token on the same database numbers from its own start. An update is the same
    one only if the bot, the id and the content (a digest of its canonical JSON) all match."""

    __tablename__ = "inbound_update"
    __table_args__ = (
        UniqueConstraint(
            "bot_id", "update_id", "content_sha256", name="uq_inbound_update_bot_update_content"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    # The bot's own Telegram id (getMe). None only on rows recorded before it was kept, until the service
    # next starts and adopts them (storage.inbound.adopt_unowned_updates).
    bot_id: int | None = Field(default=None, sa_type=BigInteger)
    update_id: int = Field(sa_type=BigInteger, index=True)  # Telegram's
    content_sha256: str = Field(max_length=64)  # of payload_json (canonical JSON: sorted keys, ASCII only)
    chat_id: int | None = Field(default=None, sa_type=BigInteger)
    kind: str = Field(max_length=32)  # "message", "callback_query", "my_chat_member", ...
    # The update exactly as received, as canonical JSON: every character kept, NUL escaped as \u0000 (legal
    # in any text column). Handlers read a cleaned copy (storage/safe_text.py).
    payload_json: str = Field(sa_type=Text)
    received_at: datetime
    status: InboundStatus = Field(
        default=InboundStatus.RECEIVED, sa_type=enum_type(InboundStatus), index=True
    )
    processed_at: datetime | None = None
    error: str | None = Field(default=None, sa_type=Text)  # why it is quarantined (never message text)


class InboundListener(SQLModel, table=True):
    """How receiving is going, one row per bot: what `aftercare health` reads (storage.inbound_health).

    Kept in the database because health is asked from another process."""

    __tablename__ = "inbound_listener"

    bot_id: int = Field(sa_type=BigInteger, primary_key=True)
    mode: str = Field(max_length=16)  # "polling" or "webhook"
    last_delivery_at: datetime | None = None  # the last getUpdates answered, or webhook POST recorded
    processing_restarts: int = 0  # times the processing task died and was started again
    last_restart_at: datetime | None = None
    last_restart_error: str | None = Field(default=None, sa_type=Text)  # the exception's type, never text
