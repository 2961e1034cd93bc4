"""Inbound updates: committed to our database before Telegram is told we have them, then processed once.

Polling: the next getUpdates (which acknowledges the batch) is only called after the batch is recorded.
Webhook: the update is recorded before the 200 goes back. Processing runs python-telegram-bot's own
handlers inside one transaction per update (``Unit``): what they decide and the outbox messages commit
together with "processed", or not at all. An update recorded but not processed (a crash) is processed
at the next start. An update delivered twice is recorded once (update_id is unique).

If processing fails, the patient is never left without a reply and staff are told: the update is marked
failed, an escalation carries its text, and the patient gets a short "please call" message.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from telegram import Update
from telegram.ext import Application, ContextTypes

from bot.outbox import Outbox, Queued
from bot.render import info
from flows.clinic import Clinic
from flows.levels import Level
from storage.db import session_scope
from storage.escalations import raise_escalation
from storage.inbound import (
    mark_inbound_failed,
    record_inbound_update,
    take_inbound_update,
    unprocessed_updates,
)
from storage.messages import enqueue_message, queued_in
from storage.models import MessagePurpose
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
        payload_json = "{}"
        unit: Unit | None = None
        reply: Queued | None = None
        queued: list[int] = []
        try:
            with session_scope(self.engine) as session:
                # Taken (and marked processed) in the same transaction as the handlers' work: processed
                # once, even by two workers, and never marked processed without that work.
                now = self.now()
                taken = take_inbound_update(session=session, update_id=update_id, now=now)
                if taken is None:
                    return  # already processed, or another worker has it now
                payload_json = taken.payload_json
                if update is None:
                    update = Update.de_json(json.loads(payload_json), self.application.bot)
                unit = Unit(session=session, now=now, inbound_id=taken.id)
                token = CURRENT.set(unit)
                try:
                    await self.application.process_update(update)
                finally:
                    CURRENT.reset(token)
                if unit.error is not None:
                    raise unit.error
                queued = queued_in(session)
                if queued and self.outbox is not None and taken.chat_id is not None:
                    reply = self.outbox.claim_reply(session, chat_id=taken.chat_id, now=now)
        except Exception as exc:
            log.exception("update %s failed", update_id)
            self._failed(update_id, json.loads(payload_json), exc)
            self.on_processed()  # the apology
            return
        if unit is None:
            return
        if reply is not None and self.outbox is not None:
            self.outbox.send_claimed(reply)  # committed: send it now (no await since the claim)
        self.processed += 1
        for action in unit.after_commit:
            try:
                await action()
            except Exception:
                log.warning("after-commit action for update %s failed", update_id, exc_info=True)
        if any(reply is None or message_id != reply.id for message_id in queued):
            # Queued and not on its way yet (a second message, a staff alert): the outbox's own claim.
            self.on_processed()

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
                patient_id=patient.id,
                now=now,
            )


def _text_of(payload: dict[str, Any]) -> str:
    for kind in ("message", "edited_message"):
        if kind in payload:
            return str(payload[kind].get("text") or payload[kind].get("caption") or "")[:2000]
    return ""
