"""The outbox sender: claims queued messages, sends them within Telegram's limits, records what happened.

Nothing is dropped silently:
- 429: wait ``retry_after`` (everyone pauses), then retry.
- network errors, time-outs and 5xx: retry with back-off.
- 403 (blocked) or "chat not found": the patient is marked unreachable and staff are told.
- any other refusal (a bad message), or still failing after ``MAX_ATTEMPTS``: the message is marked dead and
  staff are told (red if it carried urgent advice).
Claim and commit fast, send outside any transaction, record the result. A crash between sending and
recording can repeat one message per chat in flight: a repeated message beats a lost one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from telegram import Bot, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.limits import SendLimits
from flows.levels import Level
from storage.db import session_scope
from storage.escalations import raise_escalation
from storage.messages import claim_outbound, mark_dead, mark_retry, mark_sent
from storage.models import MessagePurpose, OutboundMessage, PatientStatus
from storage.patients import get_patient, set_patient_status

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12
BATCH = 60  # also the most messages a worker killed mid-batch can leave to be sent twice
RECORD_ATTEMPTS = 5


@dataclass(frozen=True, kw_only=True)
class Queued:
    """A claimed message, detached from the session that claimed it."""

    id: int
    chat_id: int
    patient_id: int | None
    purpose: MessagePurpose
    text: str
    markup: str | None
    attempts: int

    @classmethod
    def of(cls, row: OutboundMessage) -> Queued:
        assert row.id is not None
        return cls(
            id=row.id,
            chat_id=row.chat_id,
            patient_id=row.patient_id,
            purpose=row.purpose,
            text=row.text,
            markup=row.reply_markup_json,
            attempts=row.attempts,
        )


@dataclass(kw_only=True)
class Outbox:
    engine: Engine
    bot: Bot
    owner: str
    now: Callable[[], datetime]
    limits: SendLimits = field(default_factory=SendLimits)
    lease: timedelta = LEASE
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; sleeps until woken (a message was queued) or a second has passed."""
        while not stop.is_set():
            try:
                handled = await self.drain_once()
            except Exception:
                log.exception("outbox pass failed; retrying")
                handled = 0
            if handled == 0:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=1.0)

    async def drain_once(self) -> int:
        # Database work runs in a worker thread: waiting for SQLite's write lock (the scheduler's tick holds
        # it in its own thread) must never stall the event loop, or sends bunch up behind the stall.
        batch = await asyncio.to_thread(self._claim)
        # one message per chat per batch (the outbox keeps each chat in order), so these may go in parallel.
        # The whole batch finishes before the next claim, even if recording one result failed (that message
        # stays leased and is sent again when the lease runs out: at most one batch is ever repeated).
        results = await asyncio.gather(*(self._send(message) for message in batch), return_exceptions=True)
        for message, result in zip(batch, results, strict=True):
            if isinstance(result, Exception):
                log.error("outbound message %s: %s", message.id, type(result).__name__, exc_info=result)
        return len(batch)

    def _claim(self) -> list[Queued]:
        with session_scope(self.engine) as session:
            rows = claim_outbound(
                session=session, now=self.now(), owner=self.owner, lease=self.lease, limit=BATCH
            )
            return [Queued.of(row) for row in rows]

    async def _send(self, message: Queued) -> None:
        await self.limits.wait_turn(message.chat_id)
        markup = (
            InlineKeyboardMarkup.de_json(json.loads(message.markup), self.bot) if message.markup else None
        )
        try:
            sent = await self.bot.send_message(
                chat_id=message.chat_id,
                text=message.text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=None,
            )
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            self.limits.pause(wait)
            self._retry(message, after=wait, error="429 retry_after")
        except Forbidden as exc:
            self._unreachable(message, reason=f"Forbidden: {exc.message}")
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                self._unreachable(message, reason="chat not found")
            else:
                self._give_up(message, error=f"BadRequest: {exc.message}")
        except (TimedOut, NetworkError) as exc:
            self._retry(
                message, after=_backoff(message.attempts), error=f"{type(exc).__name__}: {exc.message}"
            )
        except TelegramError as exc:
            self._retry(
                message, after=_backoff(message.attempts), error=f"{type(exc).__name__}: {exc.message}"
            )
        else:
            await self._record_sent(message, telegram_message_id=sent.message_id)
            self.sent += 1

    async def _record_sent(self, message: Queued, *, telegram_message_id: int) -> None:
        """Telegram has it: record that, retrying a lost database connection for a few seconds, because
        a message not recorded as sent is sent again once its lease runs out."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await asyncio.to_thread(self._mark_sent, message.id, telegram_message_id)
                return
            except DBAPIError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.25 * 2**attempt)

    def _mark_sent(self, message_id: int, telegram_message_id: int) -> None:
        with session_scope(self.engine) as session:
            mark_sent(
                session=session,
                message_id=message_id,
                telegram_message_id=telegram_message_id,
                now=self.now(),
            )

    def _retry(self, message: Queued, *, after: float, error: str) -> None:
        if message.attempts >= MAX_ATTEMPTS:
            self._give_up(message, error=f"still failing after {message.attempts} attempts: {error}")
            return
        now = self.now()
        with session_scope(self.engine) as session:
            mark_retry(
                session=session,
                message_id=message.id,
                owner=self.owner,
                not_before=now + timedelta(seconds=after),
                error=error,
                now=now,
            )

    def _give_up(self, message: Queued, *, error: str) -> None:
        log.error("outbound message %s given up: %s", message.id, error)
        now = self.now()
        with session_scope(self.engine) as session:
            mark_dead(session=session, message_id=message.id, owner=self.owner, error=error, now=now)
            if message.patient_id is not None:
                level = Level.RED if message.purpose == MessagePurpose.ADVICE else Level.AMBER
                raise_escalation(
                    session=session,
                    patient_id=message.patient_id,
                    level=level,
                    rule=f"{level.value}.system.message_not_delivered",
                    trigger_text=f"(message {message.id} could not be delivered)",
                    now=now,
                )

    def _unreachable(self, message: Queued, *, reason: str) -> None:
        now = self.now()
        with session_scope(self.engine) as session:
            mark_dead(session=session, message_id=message.id, owner=self.owner, error=reason, now=now)
            if message.patient_id is None:
                log.error("staff chat message %s refused: %s", message.id, reason)
                return
            patient = get_patient(session=session, patient_id=message.patient_id)
            if patient is None or patient.status == PatientStatus.UNREACHABLE:
                return
            set_patient_status(
                session=session,
                patient_id=message.patient_id,
                status=PatientStatus.UNREACHABLE,
                actor="system",
                now=now,
            )
            level = Level.RED if message.purpose == MessagePurpose.ADVICE else Level.AMBER
            raise_escalation(
                session=session,
                patient_id=message.patient_id,
                level=level,
                rule=f"{level.value}.unreachable.telegram_refused",
                trigger_text=f"({reason})",
                now=now,
            )


def _seconds(value: int | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _backoff(attempts: int) -> float:
    """1, 2, 4 ... seconds, capped at 5 minutes."""
    return float(min(300, 2 ** max(0, attempts - 1)))
