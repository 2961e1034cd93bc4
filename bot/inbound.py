"""Inbound updates: kept as Telegram sent them before Telegram is told we have them, then processed once.

Both ways in (polling, webhook: bot/receiving.py) hand this module raw JSON. ``record`` keeps each update as
canonical JSON with the bot's id and a digest of the content, so an update Telegram sends again is kept once,
while a reused update_id with new content is a new update. Processing reads the kept JSON, makes its text
safe for the database (storage/safe_text.py), parses it with python-telegram-bot, and runs PTB's handlers for
each update (``Unit``) in one transaction, which updates received together share (if any of them fails, each
is processed again on its own). What the handlers decide and the outbox messages commit together with
"processed", or not at all. The reply is claimed in that transaction and sent as soon as it commits.

An update that cannot be parsed or processed is quarantined, and never holds up the ones behind it: it is
kept, marked failed with the reason, and raised to staff as a system escalation (with the patient, when the
chat is a patient's); a patient also gets a short "please call" message.
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
from sqlalchemy.exc import OperationalError
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
    adopt_unowned_updates,
    canonical_json,
    note_delivery,
    quarantine_inbound_update,
    record_inbound_update,
    take_inbound_updates,
    waiting_updates,
)
from storage.messages import ClaimedMessage, enqueue_message, queued_in
from storage.models import MessagePurpose, Priority
from storage.patients import patient_for_chat
from storage.safe_text import safe_strings

log = logging.getLogger(__name__)
ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]
UNREADABLE = "amber.system.update_not_readable"
NOT_PROCESSED = "amber.system.message_not_processed"


class UnreadableUpdate(Exception):
    """python-telegram-bot could not parse the update (a field it needs is missing, or of another type)."""


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

    row_id: int
    payload_json: str = "{}"
    unit: Unit | None = None  # None: not taken (processed already, or by another worker)
    chat_id: int | None = None
    queued: list[int] = field(default_factory=list)  # the outbox messages it queued


def current() -> Unit:
    return CURRENT.get()


def kind_of(payload: dict[str, Any]) -> tuple[str, int | None]:
    """The update's kind and its chat, read defensively: this runs before anything has checked the update,
    and recording must never fail on what it contains."""
    for kind in ("message", "edited_message", "my_chat_member", "callback_query"):
        body = payload.get(kind)
        if body is None:
            continue
        if not isinstance(body, dict):
            return kind, None
        holder = (body.get("message") or {}) if kind == "callback_query" else body
        chat = holder.get("chat") if isinstance(holder, dict) else None
        chat_id = chat.get("id") if isinstance(chat, dict) else None
        return kind, chat_id if isinstance(chat_id, int) and not isinstance(chat_id, bool) else None
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
    quarantined: int = 0

    def __post_init__(self) -> None:
        self.application.add_error_handler(self._on_handler_error)

    @property
    def bot_id(self) -> int:
        """The bot's own Telegram id, from getMe (the Application must be initialized)."""
        return int(self.application.bot.id)

    def adopt_old_rows(self) -> None:
        """Updates recorded before the bot's id was kept are this bot's (see adopt_unowned_updates)."""
        with session_scope(self.engine) as session:
            adopted = adopt_unowned_updates(session=session, bot_id=self.bot_id)
        if adopted:
            log.info("%s updates recorded before this version now carry the bot's id", adopted)

    def record(self, payloads: Sequence[dict[str, Any]], *, delivered_via: str | None = None) -> list[int]:
        """Commit the updates as Telegram sent them (each a JSON object with an integer update_id); returns
        the row ids of those that are new, in order. Telegram sending an update again (same bot, update_id
        and content) is recorded once; a reused update_id with other content is new. ``delivered_via``
        ("polling", "webhook"): also note, in the same transaction, that Telegram delivered just now."""
        fresh = []
        bot_id = self.bot_id
        with session_scope(self.engine) as session:
            if delivered_via is not None:
                note_delivery(session=session, bot_id=bot_id, mode=delivered_via, now=self.now())
            for payload in payloads:
                kind, chat_id = kind_of(payload)
                row_id = record_inbound_update(
                    session=session,
                    bot_id=bot_id,
                    update_id=int(payload["update_id"]),
                    chat_id=chat_id,
                    kind=kind,
                    payload_json=canonical_json(payload),
                    now=self.now(),
                )
                if row_id is not None:
                    fresh.append(row_id)
        return fresh

    def waiting(self, *, limit: int) -> list[int]:
        """Row ids of updates recorded but not processed (a crash, a restart, a processing task that died)."""
        with session_scope(self.engine) as session:
            return waiting_updates(session=session, limit=limit)

    async def process(self, row_id: int) -> None:
        """Process a recorded update once (by its row id)."""
        await self.process_many([row_id])

    async def process_many(self, row_ids: Sequence[int]) -> None:
        """Process recorded updates once each, in order, in one transaction. Committing once for several
        updates costs far less than once for each (SQLite writes each changed page once per commit), and
        taking them and claiming their replies are one statement each for all of them. If anything fails,
        all of it is rolled back and each update is processed again in a transaction of its own, where a
        failure quarantines that update alone (below): failures are rare, and a savepoint for each update
        would cost two more statements on every one."""
        handled: list[_Handled] = []
        replies: list[ClaimedMessage] = []
        sends: TakenSends | None = None
        try:
            with session_scope(self.engine) as session:
                if self.outbox is not None:  # sends waiting to be recorded: here, rather than on their own
                    sends = self.outbox.take_sent(session, now=self.now())
                # Taken (marked processed) in the same transaction as the handlers' work: processed once,
                # even by two workers, and never marked processed without that work.
                taken = take_inbound_updates(session=session, row_ids=row_ids, now=self.now())
                for row_id in row_ids:
                    outcome = _Handled(row_id=row_id)
                    handled.append(outcome)
                    if row_id in taken:  # else processed already, or another worker has it
                        await self._handle(session, outcome, taken[row_id])
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
            if len(row_ids) > 1:
                log.warning("processing %s updates together failed; each on its own now", len(row_ids))
                for row_id in row_ids:
                    await self.process_many([row_id])
                return
            if isinstance(exc, OperationalError):
                # The database, not the update (connection lost, locked): the update waits to be tried again
                # (the processing task is restarted, bot/receiving.py).
                raise
            # One update (its payload, if it was reached before the failure).
            payload_json = handled[0].payload_json if handled else "{}"
            self._quarantine(row_ids[0], payload_json, exc)
            self.on_processed()  # the apology, the staff alert
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
                    log.warning("after-commit action for update row %s failed", outcome.row_id, exc_info=True)
        # Queued and not on its way yet (a second message, a staff alert): the outbox's own claim.
        on_its_way = {reply.id for reply in replies}
        if any(message_id not in on_its_way for outcome in handled for message_id in outcome.queued):
            self.on_processed()

    async def _handle(self, session: Any, outcome: _Handled, taken: TakenUpdate) -> None:
        """One taken update's work, in ``session``'s transaction; what happened is noted in ``outcome``."""
        outcome.payload_json = taken.payload_json
        outcome.chat_id = taken.chat_id
        update = self.parse(taken.payload_json)
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

    def parse(self, payload_json: str) -> Update:
        """The kept update as python-telegram-bot's Update, its text made safe for the database first (the
        kept JSON itself is left as it came). Raises UnreadableUpdate if PTB cannot parse it."""
        try:
            update = Update.de_json(safe_strings(json.loads(payload_json)), self.application.bot)
        except Exception as exc:
            # PTB's messages name the class and the fields it missed, never their values.
            raise UnreadableUpdate(f"{type(exc).__name__}: {exc}") from exc
        if update is None:
            raise UnreadableUpdate("the update is empty")
        return update

    async def _on_handler_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            current().error = context.error
        except LookupError:
            log.error("handler error outside an update: %s", context.error)

    def _quarantine(self, row_id: int, payload_json: str, exc: BaseException) -> None:
        """Keep the update, marked failed with the reason, and tell staff (and the patient, if it is one).
        If even that fails, the update is still marked failed on its own, so it never blocks the ones behind
        it; if the database cannot take that either, this raises and the update waits to be tried again."""
        unreadable = isinstance(exc, UnreadableUpdate)
        reason = f"unreadable: {exc}" if unreadable else f"processing raised {type(exc).__name__}"
        self.quarantined += 1
        # The traceback only for our own failures: the message of a parse failure says it all.
        log.error("update row %s quarantined (%s)", row_id, reason, exc_info=None if unreadable else exc)
        now = self.now()
        try:
            with session_scope(self.engine) as session:
                quarantine_inbound_update(session=session, row_id=row_id, reason=reason, now=now)
                self._tell_staff_and_patient(session, row_id, payload_json, unreadable=unreadable, now=now)
        except Exception:
            log.exception("update row %s: staff could not be told; marking it failed alone", row_id)
            with session_scope(self.engine) as session:
                quarantine_inbound_update(session=session, row_id=row_id, reason=reason, now=now)

    def _tell_staff_and_patient(
        self, session: Any, row_id: int, payload_json: str, *, unreadable: bool, now: datetime
    ) -> None:
        try:
            payload = safe_strings(json.loads(payload_json))
        except ValueError:
            payload = {}
        if not isinstance(payload, dict):
            payload = {}
        kind, chat_id = kind_of(payload)
        patient = patient_for_chat(session=session, chat_id=chat_id) if chat_id is not None else None
        text = _text_of(payload)
        what = f"({kind} that could not be read)" if unreadable else f"({kind})"
        raise_escalation(
            session=session,
            patient_id=patient.id if patient is not None else None,
            level=Level.AMBER,
            rule=UNREADABLE if unreadable else NOT_PROCESSED,
            trigger_text=text or what,
            now=now,
            inbound_message_id=row_id,
        )
        if patient is None or patient.id is None or chat_id is None:
            return
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
        body = payload.get(kind)
        if isinstance(body, dict):
            text = body.get("text") or body.get("caption") or ""
            return text[:2000] if isinstance(text, str) else ""
    return ""
