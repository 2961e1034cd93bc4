"""Inbound updates: committed to our database before Telegram is told we have them, then processed once.

Polling: the next getUpdates (which acknowledges the batch) is only called after the batch is recorded.
Webhook: the update is recorded before the 200 goes back. Processing runs python-telegram-bot's own
handlers for each update (``Unit``) in one transaction, which updates received together share (if any of
them fails, each is processed again on its own). What the handlers decide and the outbox messages commit
together with "processed", or not at all. The reply is claimed in that transaction and sent as soon as it
commits. An update recorded but not processed (a crash) is processed at the next start. An update
delivered twice is recorded once (update_id is unique).

If processing fails, the patient is never left without a reply and staff are told: the update is marked
failed, an escalation carries its text, and the patient gets a short "please call" message.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.outbox import Outbox, TakenSends
from bot.render import info
from flows.clinic import Clinic
from flows.levels import Level
from storage.db import session_scope
from storage.escalations import raise_escalation
from storage.inbound import (
    TakenUpdate,
    mark_inbound_failed,
    record_inbound_update,
    take_inbound_updates,
    unprocessed_updates,
)
from storage.messages import ClaimedMessage, enqueue_message, queued_in
from storage.models import MessagePurpose, Priority
from storage.patients import patient_for_chat

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


@dataclass(kw_only=True)
class Unit:
    """One update's unit of work: the session handlers write through, and what to do after commit."""

    session: Any  # sqlmodel.Session (Any: handlers are typed loosely by PTB)
    now: datetime
    inbound_id: int | None
    after_commit: list[Callable[[], Awaitable[object]]] = field(default_factory=list)
    error: BaseException | None = None


CURRENT: contextvars.ContextVar[Unit] = contextvars.ContextVar("aftercare_unit")


@dataclass(kw_only=True)
class _Handled:
    """What processing one update came to, for what follows its commit."""

    update_id: int
    update: Update | None = None  # parsed already by the caller, or None (parsed from the payload)
    payload_json: str = "{}"
    unit: Unit | None = None  # None: not taken (processed already, or by another worker)
    chat_id: int | None = None
    queued: list[int] = field(default_factory=list)  # the outbox messages it queued


def current() -> Unit:
    return CURRENT.get()


def kind_of(payload: dict[str, Any]) -> tuple[str, int | None]:
    for kind in ("message", "edited_message", "my_chat_member"):
        if kind in payload:
            return kind, payload[kind].get("chat", {}).get("id")
    if "callback_query" in payload:
        message = payload["callback_query"].get("message") or {}
        return "callback_query", message.get("chat", {}).get("id")
    return "other", None


@dataclass(kw_only=True)
class Inbound:
    engine: Engine
    application: Application[Any, Any, Any, Any, Any, Any]
    clinic: Clinic
    now: Callable[[], datetime]
    on_processed: Callable[[], None] = lambda: None  # wakes the outbox
    # The sender in this process: the update's reply is claimed in its transaction and sent right after
    # commit. Without it (tests of inbound alone), replies wait for the outbox's own claim.
    outbox: Outbox | None = None
    processed: int = 0

    def __post_init__(self) -> None:
        self.application.add_error_handler(self._on_handler_error)

    def record(self, payloads: list[dict[str, Any]]) -> list[int]:
        """Commit the updates; returns the update_ids that are new (a repeat is recorded once)."""
        fresh = []
        with session_scope(self.engine) as session:
            for payload in payloads:
                kind, chat_id = kind_of(payload)
                if record_inbound_update(
                    session=session,
                    update_id=int(payload["update_id"]),
                    chat_id=chat_id,
                    kind=kind,
                    payload_json=json.dumps(payload),
                    now=self.now(),
                ):
                    fresh.append(int(payload["update_id"]))
        return fresh

    async def process(self, update_id: int, *, update: Update | None = None) -> None:
        """Process a recorded update once. ``update``: the parsed update, when the caller has it already."""
        await self.process_many([(update_id, update)])

    async def process_many(self, updates: Sequence[tuple[int, Update | None]]) -> None:
        """Process recorded updates once each, in order, in one transaction. Committing once for several
        updates costs far less than once for each (SQLite writes each changed page once per commit), and
        taking them and claiming their replies are one statement each for all of them. If anything fails,
        all of it is rolled back and each update is processed again in a transaction of its own, where a
        failure is handled as one (below): failures are rare, and a savepoint for each update would cost
        two more statements on every one."""
        handled: list[_Handled] = []
        replies: list[ClaimedMessage] = []
        sends: TakenSends | None = None
        try:
            with session_scope(self.engine) as session:
                if self.outbox is not None:  # sends waiting to be recorded: here, rather than on their own
                    sends = self.outbox.take_sent(session, now=self.now())
                # Taken (marked processed) in the same transaction as the handlers' work: processed once,
                # even by two workers, and never marked processed without that work.
                taken = take_inbound_updates(
                    session=session, update_ids=[update_id for update_id, _ in updates], now=self.now()
                )
                for update_id, update in updates:
                    outcome = _Handled(update_id=update_id, update=update)
                    handled.append(outcome)
                    if update_id in taken:  # else processed already, or another worker has it
                        await self._handle(session, outcome, taken[update_id])
                chats = {o.chat_id for o in handled if o.queued and o.chat_id is not None}
                if chats and self.outbox is not None:
                    replies = self.outbox.claim_replies(
                        session, chat_ids=chats, now=self.now(), recording=sends
                    )
        except Exception as exc:
            if sends is not None and self.outbox is not None:
                self.outbox.sent_not_recorded(sends)
            for reply in replies:  # rolled back with the rest
                if self.outbox is not None:
                    self.outbox.drop_claim(reply)
            if len(updates) > 1:
                log.warning("processing %s updates together failed; each on its own now", len(updates))
                for update_id, update in updates:
                    try:
                        await self.process_many([(update_id, update)])
                    except Exception:
                        # Recorded, so not lost: processed at the next start (or left for staff to see).
                        log.exception("update %s could not be processed now", update_id)
                return
            # One update (its payload, if it was reached before the failure: the database may be gone).
            payload_json = handled[0].payload_json if handled else "{}"
            log.error("update %s failed", updates[0][0], exc_info=exc)
            self._failed(updates[0][0], json.loads(payload_json), exc)
            self.on_processed()  # the apology
            return
        if sends is not None and self.outbox is not None:
            self.outbox.sent_recorded(sends)
        for reply in replies:
            if self.outbox is not None:
                self.outbox.send_claimed(reply)  # committed: send it now (no await since the claim)
        for outcome in handled:
            if outcome.unit is None:
                continue
            self.processed += 1
            for action in outcome.unit.after_commit:
                try:
                    await action()
                except Exception:
                    log.warning("after-commit action for update %s failed", outcome.update_id, exc_info=True)
        # Queued and not on its way yet (a second message, a staff alert): the outbox's own claim.
        on_its_way = {reply.id for reply in replies}
        if any(message_id not in on_its_way for outcome in handled for message_id in outcome.queued):
            self.on_processed()

    async def _handle(self, session: Any, outcome: _Handled, taken: TakenUpdate) -> None:
        """One taken update's work, in ``session``'s transaction; what happened is noted in ``outcome``."""
        outcome.payload_json = taken.payload_json
        outcome.chat_id = taken.chat_id
        update = outcome.update or Update.de_json(json.loads(taken.payload_json), self.application.bot)
        queued_before = len(queued_in(session))
        unit = Unit(session=session, now=self.now(), inbound_id=taken.id)
        token = CURRENT.set(unit)
        try:
            await self.application.process_update(update)
        finally:
            CURRENT.reset(token)
        if unit.error is not None:
            raise unit.error
        outcome.unit = unit
        outcome.queued = queued_in(session)[queued_before:]

    async def process_backlog(self) -> int:
        """Updates recorded before a crash or restart but never processed."""
        with session_scope(self.engine) as session:
            pending = [
                row.update_id
                for row in unprocessed_updates(session=session, received_before=self.now(), limit=10_000)
            ]
        for update_id in pending:
            await self.process(update_id)
        return len(pending)

    async def _on_handler_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            current().error = context.error
        except LookupError:
            log.error("handler error outside an update: %s", context.error)

    def _failed(self, update_id: int, payload: dict[str, Any], exc: BaseException) -> None:
        kind, chat_id = kind_of(payload)
        text = _text_of(payload)
        now = self.now()
        with session_scope(self.engine) as session:
            mark_inbound_failed(session=session, update_id=update_id, error=type(exc).__name__, now=now)
            patient = patient_for_chat(session=session, chat_id=chat_id) if chat_id is not None else None
            if patient is None or patient.id is None or chat_id is None:
                return
            raise_escalation(
                session=session,
                patient_id=patient.id,
                level=Level.AMBER,
                rule="amber.system.message_not_processed",
                trigger_text=text or f"({kind})",
                now=now,
            )
            apology = info(
                "Sorry, something went wrong on our side and the clinic team has been told. "
                "If you need help now, call NHS 111, or 999 in an emergency.",
                clinic=self.clinic.short_name,
            )
            enqueue_message(
                session=session,
                chat_id=chat_id,
                text=apology.text,
                purpose=MessagePurpose.REPLY,
                priority=Priority.REPLY,
                patient_id=patient.id,
                now=now,
            )


def _text_of(payload: dict[str, Any]) -> str:
    for kind in ("message", "edited_message"):
        if kind in payload:
            return str(payload[kind].get("text") or payload[kind].get("caption") or "")[:2000]
    return ""
