"""A whole Aftercare on loopback for end-to-end tests: the real PTB Application and our service against the
built-in Telegram emulator over HTTP, a SQLite file, and a clock the test moves (never real waiting).

``World`` is what a test holds: the emulator (the patients' phones and the staff chat), the running service,
the clock and the database, with helpers that read like the story being told ("join", "advance", "answer
calmly until the fever question"). Fixtures that build it are in conftest.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.app import Service, build
from bot.clock import Clock
from bot.emulator import Emulator, EmulatorUser
from bot.emulator.model import TranscriptEntry
from bot.limits import SendLimits
from bot.runtime import Running
from bot.settings import Settings
from flows.catalogue import bundled_protocols
from flows.messages import say
from flows.protocol import Question, QuestionKind
from flows.state import CheckInState, Phase
from storage.checkins import awaiting_checkin_for_patient
from storage.db import session_scope
from storage.followup import enrol_on_protocol
from storage.models import CheckIn, Escalation, OutboundMessage, OutboundStatus, Patient
from storage.patients import episodes_for_patient, patient_for_chat

# Monday 23 November 2026, 09:00 in London (GMT): the clinic is open, patients may be messaged.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
FAST_PER_SECOND = 10_000


def fast_limits() -> SendLimits:
    """Our side's limits as good as off, for journeys. A new one each time: SendLimits keeps the last sends
    and an asyncio.Lock, which binds to the first event loop it waits on (every test has its own loop)."""
    return SendLimits(per_second=FAST_PER_SECOND, private_chat_interval=0, group_chat_interval=0)


# Calm answers where "no" is not the calm one.
CALM_YES = {"epidural.passed_urine", "activity.more"}
CALM_TYPED = {
    QuestionKind.PERCENT_RELIEF: "40",
    QuestionKind.GLUCOSE: "6.5",
    QuestionKind.TEMPERATURE: "36.8",
    QuestionKind.FREE_TEXT: "no thanks",
}


def calm_answer(question: Question) -> str:
    """What a patient who is doing well says: a button label, or text to type."""
    if question.id in CALM_YES:
        return "Yes"
    if question.kind is QuestionKind.YES_NO:
        return "No"
    if question.kind is QuestionKind.CHOICE:
        return question.options[0].label
    if question.kind is QuestionKind.PAIN:
        return "2"
    if question.kind is QuestionKind.PGIC:
        return "3"
    return CALM_TYPED[question.kind]


def neutral_previews(clinic_name: str) -> set[str]:
    """The only first lines a locked phone may show (flows/data/messages.yaml)."""
    return {
        say("preview.checkin", clinic=clinic_name),
        say("preview.urgent"),
        say("preview.info", clinic=clinic_name),
    }


@dataclass(kw_only=True)
class World:
    """The clinic, the patients' phones and the clock, for one test."""

    emulator: Emulator
    live: Running
    clock: Clock
    engine: Engine
    settings: Settings
    staff_chat_id: int
    limits: SendLimits
    bot_api_url: str
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _polling: bool = True

    @property
    def service(self) -> Service:
        return self.live.service

    # ------------------------------------------------------------------------------ the service's life

    async def start(self, *, polling: bool | None = None) -> None:
        """Run the service; ``polling`` False: updates come by webhook (the test delivers them)."""
        if polling is not None:
            self._polling = polling
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(self.service.run(self._stop, polling=self._polling, receiving=True))
        await self.emulator.wait_until(lambda: self.service.application.running, what="the bot to start")

    async def stop(self) -> None:
        """Stop the service as SIGTERM would (the emulator and the database stay)."""
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def restart(self, *, before_start: Callable[[], None] | None = None) -> None:
        """A new process on the same database and the same Telegram: nothing is carried over in memory."""
        await self.stop()
        if before_start is not None:
            before_start()
        self.live.service = build(
            clinic=self.settings.clinic,
            engine=self.engine,
            clock=self.clock,
            token=self.emulator.token,
            base_url=self.bot_api_url,
            staff_chat_id=self.staff_chat_id,
            alert_amber=self.settings.alert_amber_to_staff_chat,
            tick_seconds=self.settings.tick_seconds,
            owner="host-b:2",
            limits=self.limits,
        )
        await self.start()

    # ------------------------------------------------------------------------------ patients

    def enrol(
        self,
        *,
        name: str = "Sam",
        procedure: str = "sacroiliac-joint-injection",
        diabetic: bool = False,
        performed_at: datetime | None = None,
    ) -> str:
        protocol = bundled_protocols()[procedure]
        now = self.clock.now()
        with session_scope(self.engine) as session:
            enrolment = enrol_on_protocol(
                session=session,
                clinic=self.settings.clinic,
                protocol=protocol,
                display_name=name,
                performed_at=performed_at or now - timedelta(hours=1),
                diabetic=diabetic,
                invite_ttl=timedelta(hours=72),
                now=now,
                actor="test",
            )
            return enrolment.invite_token

    async def join(self, name: str = "Sam", **enrol: object) -> EmulatorUser:
        """A patient enrolled, who opens their link and agrees to be messaged."""
        token = self.enrol(name=name, **enrol)  # type: ignore[arg-type]
        phone = self.emulator.new_user(name)
        await phone.start(token)
        welcome = await self.bot_says(phone, "Is it OK for us to message you")
        await phone.press(welcome.message_id, welcome.buttons[0][0].callback_data or "")
        await self.bot_says(phone, "Your first check-in will come", after=welcome.message_id)
        return phone

    def patient(self, phone: EmulatorUser) -> Patient:
        with session_scope(self.engine) as session:
            patient = patient_for_chat(session=session, chat_id=phone.chat_id)
            assert patient is not None
            return patient

    def checkins(self, phone: EmulatorUser) -> list[CheckIn]:
        patient = self.patient(phone)
        assert patient.id is not None
        with session_scope(self.engine) as session:
            episodes = [e.id for e in episodes_for_patient(session=session, patient_id=patient.id)]
            query = select(CheckIn).where(col(CheckIn.episode_id).in_(episodes)).order_by(col(CheckIn.due_at))
            return list(session.exec(query).all())

    # ------------------------------------------------------------------------------ time

    async def advance(self, delta: timedelta) -> None:
        """Move the clock on in one jump (no tick in between, as after downtime), then tick once. Sends
        under way finish first: hours do not pass between Telegram taking a message and our recording
        it (moved past the claim's lease, a message still being recorded would be claimed again)."""
        await self.emulator.wait_until(lambda: self.service.outbox.holding == 0, timeout=10)
        self.clock.advance(delta)
        await self.service.tick()

    async def advance_to(self, moment: datetime) -> None:
        await self.advance(max(moment - self.clock.now(), timedelta(0)))

    async def advance_in_steps(self, total: timedelta, step: timedelta = timedelta(minutes=30)) -> None:
        """Move the clock on with a tick every ``step``, as a running service would."""
        end = self.clock.now() + total
        while self.clock.now() < end:
            await self.advance(min(step, end - self.clock.now()))

    def local(self, moment: datetime) -> datetime:
        return self.settings.clinic.local(moment)

    # ------------------------------------------------------------------------------ the chat

    async def bot_says(
        self,
        phone: EmulatorUser | int,
        contains: str,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 (reads as the emulator's own waits do)
    ) -> TranscriptEntry:
        chat_id = phone if isinstance(phone, int) else phone.chat_id
        return await self.emulator.wait_for_bot_message(
            chat_id, lambda e: contains in e.text, after_message_id=after, timeout=timeout
        )

    def last_message_id(self, phone: EmulatorUser | int) -> int:
        chat_id = phone if isinstance(phone, int) else phone.chat_id
        entries = self.emulator.transcript(chat_id)
        return entries[-1].message_id if entries else 0

    def bot_messages(self, phone: EmulatorUser | int, *, after: int = 0) -> list[TranscriptEntry]:
        chat_id = phone if isinstance(phone, int) else phone.chat_id
        return [e for e in self.emulator.transcript(chat_id) if e.from_bot and e.message_id > after]

    async def reply(self, phone: EmulatorUser, text: str, expect: str) -> TranscriptEntry:
        """The patient types; wait for the bot's next message containing ``expect``."""
        after = self.last_message_id(phone)
        await phone.send(text)
        return await self.bot_says(phone, expect, after=after)

    async def press(self, phone: EmulatorUser, label: str, expect: str) -> TranscriptEntry:
        after = self.last_message_id(phone)
        await phone.press_button(label)
        return await self.bot_says(phone, expect, after=after)

    async def answer(self, phone: EmulatorUser, answer: str) -> TranscriptEntry:
        """Answer the open question: tap the button with this label on the newest question, else type it.
        Returns the bot's first message after the answer."""
        after = self.last_message_id(phone)
        newest = next((e for e in reversed(self.bot_messages(phone)) if e.buttons), None)
        if newest is not None and answer in newest.button_texts:
            await phone.press(newest.message_id, newest.button(answer).callback_data or "")
        else:
            await phone.send(answer)
        first = await self.emulator.wait_for_bot_message(phone.chat_id, after_message_id=after, timeout=10)
        await self.delivered(phone)
        return first

    async def delivered(self, phone: EmulatorUser | int) -> None:
        """Wait until everything queued for this chat has been sent (or given up)."""
        chat_id = phone if isinstance(phone, int) else phone.chat_id
        waiting = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.FAILED)

        def done() -> bool:
            with session_scope(self.engine) as session:
                query = select(OutboundMessage.id).where(
                    OutboundMessage.chat_id == chat_id, col(OutboundMessage.status).in_(waiting)
                )
                return session.exec(query).first() is None

        await self.emulator.wait_until(done, timeout=10, what=f"the outbox to empty for chat {chat_id}")

    def open_question(self, phone: EmulatorUser) -> tuple[Question | None, Phase | None]:
        """The question the patient's open check-in is waiting on (from the database, as the bot sees it)."""
        with session_scope(self.engine) as session:
            patient = patient_for_chat(session=session, chat_id=phone.chat_id)
            assert patient is not None and patient.id is not None
            checkin = awaiting_checkin_for_patient(session=session, patient_id=patient.id)
            if checkin is None or not checkin.state_json:
                return None, None
            state = CheckInState.from_json(checkin.state_json)
            episode = episodes_for_patient(session=session, patient_id=patient.id)[-1]
            protocol = self.service.desk.conversation.protocol_for(session, episode)
            current = state.current_question
            return (protocol.question(current) if current else None), state.phase

    async def answer_calmly_until(self, phone: EmulatorUser, question_id: str) -> None:
        """Answer every question calmly until the check-in asks ``question_id``."""
        for _ in range(40):
            question, phase = self.open_question(phone)
            if question is None:
                raise AssertionError(f"the check-in ended before asking {question_id}")
            if phase is Phase.CONFIRMING:
                await self.answer(phone, say("confirm.yes"))
            elif question.id == question_id:
                return
            else:
                await self.answer(phone, calm_answer(question))
        raise AssertionError(f"{question_id} was never asked")

    # ------------------------------------------------------------------------------ what staff see

    def escalations(self) -> list[Escalation]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(Escalation).order_by(col(Escalation.id))).all())

    def outbox(self) -> list[OutboundMessage]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all())

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        await self.emulator.wait_until(condition, timeout=10, what=what)

    def assert_previews_are_neutral(self) -> None:
        """Every bot message's first line, in every chat, is one of the three neutral preview lines."""
        allowed = neutral_previews(self.settings.clinic.short_name)
        for chat_id in list(self.emulator.chats):
            for entry in self.bot_messages(chat_id):
                first = entry.text.splitlines()[0] if entry.text else ""
                assert first in allowed, f"chat {chat_id}, message {entry.message_id} starts {first!r}"
