"""The outbox sender: claims queued messages, sends them within Telegram's limits, records what happened.

Nothing is dropped silently:
- 429: wait ``retry_after`` (everyone pauses), then retry.
- network errors, time-outs and 5xx: retry with back-off.
- 403 (blocked) or "chat not found": the patient is marked unreachable and staff are told.
- any other refusal (a bad message), or still failing after ``MAX_ATTEMPTS``: the message is marked dead and
  staff are told (red if it carried urgent advice).
Claim and commit fast, send outside any transaction, record the result. The sender keeps a rolling window of
at most ``BATCH`` claimed messages (one per chat): it claims more while the last ones still wait for their
turn, so sending never pauses for a claim, and it records sends together, a few per transaction. The most
urgent go first, in the claim and in the queue for Telegram's limits.

Repeats (Telegram has no idempotency key, so a message whose fate is unknown is sent again: a repeated
message beats a lost one). A message reaches a patient more than once only when
- an attempt went out and got no answer: none within ``SEND_ANSWER_WAIT`` (60 s; a slow answer is waited
  for, never cut short and resent), or the connection broke after the request was sent, and Telegram had
  delivered it all the same. Each such attempt is counted (``unanswered_attempts``) and adds at most one
  copy; or
- the worker was killed after Telegram accepted it and before it was recorded (sends are recorded a few to
  a transaction, normally within a tenth of a second). Each attempt is written down as started before its
  request goes, so a worker restarting under its name sends all of its claims again at once, knowing which
  may arrive twice (those started) and which cannot (the others). Another worker waits for the lease, which
  outlasts an attempt, so it never sends while the first attempt may still succeed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.limits import SendLimits
from bot.send_records import Sent, SentRecorder, StartMarks, TakenSends
from bot.transport import NoAnswer
from flows.levels import Level
from storage.db import session_scope
from storage.escalations import raise_escalation
from storage.messages import (
    ClaimedMessage,
    TakenBack,
    claim_next_for_chats,
    claim_outbound,
    mark_attempts_started,
    mark_dead,
    mark_retry,
    mark_sent_many,
    take_back_claims,
)
from storage.models import MessagePurpose, PatientStatus
from storage.patients import get_patient, set_patient_status

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12
# The most messages the sender holds claimed and not yet recorded: two seconds of sending at Telegram's 30
# a second. Also the most a worker killed mid-send can leave to be sent twice.
BATCH = 60
# Claim more once this many or fewer are still held: once a sixth of the batch has gone, a third of a second
# at Telegram's pace. Urgent advice queued meanwhile waits no longer than that for a claim (most urgent
# first), and more than a second of sending is still held while the claim waits for the database.
REFILL_AT = BATCH - BATCH // 6
RECORD_ATTEMPTS = 5
# Sent, SentRecorder and TakenSends moved to bot/send_records.py; still importable from here.
__all__ = ["BATCH", "LEASE", "Outbox", "Sent", "SentRecorder", "TakenSends"]


class Sender(Protocol):
    """Telegram's sendMessage (bot/transport.MessageSender): returns Telegram's message_id, or raises PTB's
    errors (RetryAfter, Forbidden, BadRequest, TimedOut, NetworkError)."""

    async def send_html(self, *, chat_id: int, text: str, markup_json: str | None) -> int: ...


@dataclass(kw_only=True)
class Outbox:
    engine: Engine
    telegram: Sender
    owner: str
    now: Callable[[], datetime]
    limits: SendLimits = field(default_factory=SendLimits)
    lease: timedelta = LEASE
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    idle_wait: float = 1.0  # seconds: with nothing to send, look again this often even if not woken
    sent: int = 0
    recorder: SentRecorder = field(init=False)
    marks: StartMarks = field(init=False)
    # Each claimed message is sent by its own task, whether drain claimed it or a reply was handed over.
    _held: set[asyncio.Task[None]] = field(default_factory=set, init=False)
    # The claimed messages not yet recorded as sent (nor as failed): what a kill -9 could repeat. At most
    # BATCH, counting the slots a claim in progress has reserved and replies claimed in a transaction not
    # yet ended. Counted apart from the tasks: a send recorded frees its slot at once, before its task ends.
    _unrecorded: set[int] = field(default_factory=set, init=False)
    _reserved: int = field(default=0, init=False)
    _promised: int = field(default=0, init=False)  # claimed by claim_replies, transaction not yet ended
    _finished: asyncio.Event = field(default_factory=asyncio.Event, init=False)

    def __post_init__(self) -> None:
        self.recorder = SentRecorder(write=self._record_sent, held=lambda: len(self._unrecorded))
        self.marks = StartMarks(write=self._mark_started)

    def take_back_claims(self) -> TakenBack:
        """At start-up, before sending: the claims this worker's name still holds (its previous process was
        killed, or stopped mid-send) go out again now, not when their leases run out. Only for a name no
        other running process has (storage/worker_names.py). Those whose attempt had started may arrive
        twice."""
        with session_scope(self.engine) as session:
            taken = take_back_claims(session=session, owner=self.owner, now=self.now())
        if taken.may_have_arrived or taken.never_sent:
            log.warning(
                "took back %s messages claimed by %s before it stopped: %s had not gone, %s may have "
                "reached Telegram and go again (they may arrive twice): %s",
                len(taken.never_sent) + len(taken.may_have_arrived),
                self.owner,
                len(taken.never_sent),
                len(taken.may_have_arrived),
                taken.may_have_arrived,
            )
        return taken

    @property
    def holding(self) -> int:
        """Messages this sender is still sending or recording (their tasks not finished)."""
        return len(self._held)

    async def finish_held(self) -> None:
        """Returns once every message held now has been sent and recorded (or its failure recorded)."""
        while self._held:
            await asyncio.gather(*self._held)

    def claim_replies(
        self,
        session: Session,
        *,
        chat_ids: Collection[int],
        now: datetime,
        recording: TakenSends | None = None,
    ) -> list[ClaimedMessage]:
        """In the transaction that has just queued replies to these chats: claim each chat's next message
        (its reply, unless an earlier one is still due), as many as this sender has room for. Once the
        transaction has committed, pass each to ``send_claimed``; if it rolled back, to ``drop_claim``. The
        replies then go out at once, without waiting for drain's next claim (a transaction of its own, in a
        worker thread). Claims not yet handed over count towards BATCH, as the messages held do; the sends
        this same transaction records (``recording``, from ``take_sent``) free their slots: they commit
        together or not at all."""
        freed = len(self._unrecorded.intersection(m for m, _ in recording.sent)) if recording else 0
        room = BATCH - len(self._unrecorded) + freed - self._reserved - self._promised
        claimed = claim_next_for_chats(
            session=session, chat_ids=chat_ids, now=now, owner=self.owner, lease=self.lease, limit=room
        )
        self._promised += len(claimed)
        return claimed

    def take_sent(self, session: Session, *, now: datetime) -> TakenSends | None:
        """Record, in the caller's transaction, the sends waiting to be recorded (see SentRecorder.take).
        After commit pass the result to ``sent_recorded``; after a rollback to ``sent_not_recorded``."""
        taken = self.recorder.take()
        if taken is not None:
            mark_sent_many(session=session, sent=taken.sent, now=now)
        return taken

    def sent_recorded(self, taken: TakenSends) -> None:
        self._unrecorded.difference_update(message_id for message_id, _ in taken.sent)
        self.recorder.recorded(taken)

    def sent_not_recorded(self, taken: TakenSends) -> None:
        self.recorder.give_back(taken)

    def send_claimed(self, message: ClaimedMessage) -> None:
        """Start sending a message claimed by ``claim_replies`` (its transaction committed)."""
        self._promised -= 1
        self._start(message)

    def drop_claim(self, message: ClaimedMessage) -> None:
        """The transaction that claimed ``message`` rolled back: the claim went with it."""
        self._promised -= 1

    def _start(self, message: ClaimedMessage) -> None:
        task = asyncio.create_task(self._deliver(message), name=f"outbound-{message.id}")
        self._held.add(task)
        self._unrecorded.add(message.id)
        task.add_done_callback(partial(self._release, message.id))

    def _release(self, message_id: int, task: asyncio.Task[None]) -> None:
        self._held.discard(task)
        self._unrecorded.discard(message_id)  # recorded one way or another, or left to its lease
        self._finished.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send until ``stop`` is set; sleeps until woken (something was queued) or for ``idle_wait``."""
        while not stop.is_set():
            # Cleared before the pass, not after it: a wake-up that comes while the pass runs (something
            # queued just after its last claim) must not be lost, or that message waits out the second.
            self.wake.clear()
            try:
                handled = await self.drain(stop)
            except Exception:
                log.exception("outbox pass failed; retrying")
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), timeout=self.idle_wait)
        await self.finish_held()  # replies handed over while drain was idle

    async def drain(self, stop: asyncio.Event | None = None) -> int:
        """Send what is due until a claim finds nothing more; returns how many messages were handled.

        Up to ``BATCH`` messages are held (claimed, not yet recorded), each sent by its own task; the next
        ones are claimed once ``REFILL_AT`` or fewer are left, while those still wait for their turn. Once
        ``stop`` is set nothing more is claimed, and what is held is still sent and recorded: a message cut
        off mid-send would stay leased, holding back that patient's later messages until the lease ends."""
        held, finished = self._held, self._finished
        handled = 0
        more_due = True
        try:
            while stop is None or not stop.is_set():
                # After a short claim, let everything held finish first: a later claim then also finds the
                # chats' next messages (a chat's next message waits until the one before is recorded).
                if held and (len(self._unrecorded) > REFILL_AT or not more_due):
                    finished.clear()
                    await finished.wait()
                    continue
                room = BATCH - len(self._unrecorded) - self._promised
                if room <= 0:  # replies claimed in a transaction still open take the rest
                    finished.clear()
                    await finished.wait()
                    continue
                # Database work runs in a worker thread: waiting for SQLite's write lock (the scheduler's
                # tick holds it in its own thread) must never stall the event loop and the sends on it.
                self._reserved += room  # replies handed over meanwhile must not take these slots
                try:
                    batch = await asyncio.to_thread(self._claim, room)
                finally:
                    self._reserved -= room
                more_due = len(batch) == room
                if not batch and not held:
                    break
                handled += len(batch)
                # one message per chat (claim_outbound keeps each chat in order), so these may go in parallel
                for message in batch:
                    if message.id in self._unrecorded:
                        continue  # its lease ran out while it waited its turn here: its task still sends it
                    self._start(message)
        finally:
            if held:
                await asyncio.gather(*held)
        return handled

    async def _deliver(self, message: ClaimedMessage) -> None:
        # Failing to record one result must not stop the others: that message stays leased and is sent
        # again when the lease runs out (counted in BATCH's bound).
        try:
            await self._send(message)
        except Exception as exc:
            log.error("outbound message %s: %s", message.id, type(exc).__name__, exc_info=exc)

    def _claim(self, limit: int) -> list[ClaimedMessage]:
        with session_scope(self.engine) as session:
            rows = claim_outbound(
                session=session, now=self.now(), owner=self.owner, lease=self.lease, limit=limit
            )
            return [ClaimedMessage.of(row) for row in rows]

    async def _send(self, message: ClaimedMessage) -> None:
        if not await self._turn(message):
            log.info("outbound message %s was taken over by another worker; not sent here", message.id)
            return
        try:
            telegram_id = await self.telegram.send_html(
                chat_id=message.chat_id, text=message.text, markup_json=message.reply_markup_json
            )
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            self.limits.pause(wait)
            await asyncio.to_thread(self._retry, message, after=wait, error="429 retry_after")
        except Forbidden as exc:
            await asyncio.to_thread(self._unreachable, message, reason=f"Forbidden: {exc.message}")
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                await asyncio.to_thread(self._unreachable, message, reason="chat not found")
            else:
                await asyncio.to_thread(self._give_up, message, error=f"BadRequest: {exc.message}")
        except NoAnswer as exc:  # it may have arrived: counted, then sent again (a repeat beats a loss)
            error = f"{type(exc).__name__} (may have been delivered): {exc.message}"
            after = _backoff(message.attempts)
            await asyncio.to_thread(self._retry, message, after=after, error=error, unanswered=True)
        except (TimedOut, NetworkError, TelegramError) as exc:
            error = f"{type(exc).__name__}: {exc.message}"
            await asyncio.to_thread(self._retry, message, after=_backoff(message.attempts), error=error)
        else:
            await self.recorder.record((message.id, telegram_id))
            self.sent += 1

    async def _turn(self, message: ClaimedMessage) -> bool:
        """Wait for this message's turn within the limits, most urgent first, with its attempt written down as
        started before it goes (a reply claimed in its own transaction already is). False: another worker
        has it now."""
        rank = int(message.priority)
        if message.started:
            await self.limits.wait_turn(message.chat_id, rank=rank)
            return True
        await self.limits.chat_ready(message.chat_id)  # not holding a marked place while the chat waits
        if not await self.marks.mark(message.id, rank=rank):
            return False
        try:
            await self.limits.wait_turn(message.chat_id, rank=rank)
        finally:
            self.marks.gone()
        return True

    async def _mark_started(self, message_ids: list[int]) -> set[int]:
        """The attempts of these messages start now (before their requests go): written down, retrying a
        lost database connection for a few seconds. Returns those this worker still holds."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                return await asyncio.to_thread(self._mark_started_now, message_ids)
            except DBAPIError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.25 * 2**attempt)
        raise AssertionError("unreachable")

    def _mark_started_now(self, message_ids: list[int]) -> set[int]:
        now = self.now()
        with session_scope(self.engine) as session:
            # The lease is renewed from the attempt's start: it outlasts the attempt (bot/settings.py), so
            # no one takes the message over while this attempt may still succeed.
            return mark_attempts_started(
                session=session,
                message_ids=message_ids,
                owner=self.owner,
                now=now,
                lease_until=now + self.lease,
            )

    async def _record_sent(self, sent: list[Sent]) -> None:
        """Telegram has them: record that, retrying a lost database connection for a few seconds, because
        a message not recorded as sent is sent again once its lease runs out."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await asyncio.to_thread(self._mark_sent, sent)
                self._unrecorded.difference_update(message_id for message_id, _ in sent)
                return
            except DBAPIError:
                if attempt == RECORD_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.25 * 2**attempt)

    def _mark_sent(self, sent: list[Sent]) -> None:
        with session_scope(self.engine) as session:
            mark_sent_many(session=session, sent=sent, now=self.now())

    def _retry(self, message: ClaimedMessage, *, after: float, error: str, unanswered: bool = False) -> None:
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
                unanswered=unanswered,
            )

    def _give_up(self, message: ClaimedMessage, *, error: str) -> None:
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

    def _unreachable(self, message: ClaimedMessage, *, reason: str) -> None:
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
