"""`aftercare demo`: one patient's story, scripted, against the built-in Telegram emulator, as a transcript.

It runs the real service (PTB, the desk, the outbox, the scheduler) in this process against the emulator on
loopback, with a temporary SQLite database and a clock it moves on: a patient is enrolled, opens their link,
agrees, answers the day-0 check-in, and on day 1 answers "yes" to the red-flag screen; they get the urgent
advice, staff get the escalation and the alert, and a nurse acknowledges it. Exit 0 when every expected
step happened, 1 (saying which step) when one did not. No network and no real clinic data: it never uses
DATABASE_URL or a Telegram token unless --database-url is given. Logs ids only, like the service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import col, select

from bot.clock import Clock
from bot.database import open_database
from bot.emulator import Emulator, EmulatorUser
from bot.limits import SendLimits
from bot.runtime import Running, running
from bot.settings import Settings
from bot.staff_alerts import ACK_PREFIX
from flows.catalogue import bundled_protocols
from storage.db import session_scope
from storage.followup import enrol_on_protocol
from storage.models import CheckIn, CheckInStatus, Escalation, EscalationStatus

PATIENT = "Sam"
PROCEDURE = "sacroiliac-joint-injection"
WAIT = 10.0  # seconds for any one reply on loopback; a step that takes longer did not happen
UNLIMITED = SendLimits(per_second=10_000, private_chat_interval=0, group_chat_interval=0)  # no one to flood


class StepFailed(Exception):
    """An expected step of the story did not happen."""


@dataclass(kw_only=True)
class Story:
    """The demo as it runs: the world it drives and the transcript it writes."""

    live: Running
    emulator: Emulator
    clock: Clock
    staff_chat_id: int
    phone: EmulatorUser | None = None  # the patient's, once they have one
    lines: list[str] = field(default_factory=list)
    _seen: dict[int, int] = field(default_factory=dict)

    @property
    def patient(self) -> EmulatorUser:
        assert self.phone is not None, "the patient joins first"
        return self.phone

    @property
    def engine(self) -> Engine:
        return self.live.service.engine

    def heading(self, text: str) -> None:
        local = self.live.service.clinic.local(self.clock.now())
        self.lines += ["", f"== {local:%a %d %b %H:%M} · {text}"]

    def note(self, who: str, text: str) -> None:
        self.lines.append(f"{who}: {text}")

    def catch_up(self, chat_id: int, *, to: str) -> None:
        """Copy the bot's new messages in this chat into the transcript."""
        for entry in self.emulator.transcript(chat_id):
            if entry.from_bot and entry.message_id > self._seen.get(chat_id, 0):
                self._seen[chat_id] = entry.message_id
                self.lines.append(f"Bot → {to}:")
                self.lines += [f"    {line}" for line in entry.text.splitlines() if line.strip()]
                if entry.buttons:
                    self.lines.append("    " + "  ".join(f"[{label}]" for label in entry.button_texts))

    async def expect(self, chat_id: int, contains: str, *, to: str) -> int:
        """Wait for the bot to say ``contains`` in this chat; the message id."""
        after = self._seen.get(chat_id, 0)
        try:
            entry = await self.emulator.wait_for_bot_message(
                chat_id, lambda e: contains in e.text, after_message_id=after, timeout=WAIT
            )
        except TimeoutError:
            self.catch_up(chat_id, to=to)
            raise StepFailed(f"the bot never said {contains!r} to {to}") from None
        self.catch_up(chat_id, to=to)
        return entry.message_id

    async def tap(self, phone: EmulatorUser, label: str, then: str) -> None:
        self.note(PATIENT, f"taps [{label}]")
        await phone.press_button(label)
        await self.expect(phone.chat_id, then, to=PATIENT)

    async def say(self, phone: EmulatorUser, text: str, then: str) -> None:
        self.note(PATIENT, text)
        await phone.send(text)
        await self.expect(phone.chat_id, then, to=PATIENT)

    async def move_clock_to(self, moment: datetime, why: str) -> None:
        self.clock.advance(max(moment - self.clock.now(), timedelta(0)))
        await self.live.service.tick()
        self.heading(why)

    def escalations(self) -> list[Escalation]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(Escalation).order_by(col(Escalation.id))).all())

    def next_checkin_due(self) -> datetime:
        with session_scope(self.engine) as session:
            query = select(CheckIn.due_at).where(CheckIn.status == CheckInStatus.SCHEDULED)
            due = session.exec(query.order_by(col(CheckIn.due_at))).first()
        if due is None:
            raise StepFailed("no check-in was planned")
        return due


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "demo", help="play a scripted patient journey against the built-in emulator"
    )
    parser.add_argument(
        "--database-url", help="keep the demo's records in this database (default: a temporary SQLite file)"
    )
    parser.set_defaults(handler=demo_command)


def demo_command(args: argparse.Namespace, settings: Settings) -> int:
    with tempfile.TemporaryDirectory(prefix="aftercare-demo-") as folder, _quiet_logs():
        url = args.database_url or f"sqlite:///{Path(folder) / 'demo.sqlite3'}"
        local = settings.model_copy(
            update={
                "database_url": url,
                "telegram_bot_token": None,
                "staff_chat_id": None,
                "webhook_url": None,
                "tick_seconds": 3600.0,
            }
        )
        engine = open_database(local)
        try:
            lines, failure = asyncio.run(run_demo(local, engine))
        finally:
            engine.dispose()
    print("\n".join(lines))
    if failure is not None:
        print(f"\nDEMO FAILED: {failure}")
        return 1
    print("\nDemo complete: every step happened.")
    return 0


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """The transcript is the output: the service's own INFO logs are held back while it plays."""
    loggers = [
        logging.getLogger(name) for name in ("bot", "telegram", "apscheduler", "httpx", "uvicorn", "alembic")
    ]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def run_demo(
    settings: Settings, engine: Engine, *, start: datetime | None = None
) -> tuple[list[str], str | None]:
    """Play the story; the transcript, and what went wrong (None when everything happened)."""
    clock = Clock(offset=(start or next_monday_9am(settings)) - datetime.now(UTC), movable=True)
    stop = asyncio.Event()
    async with running(settings, engine, clock=clock, emulator_port=0, limits=UNLIMITED) as live:
        assert live.emulator is not None and live.service.desk.staff_chat_id is not None
        live.emulator.enforce_limits = False
        story = Story(
            live=live, emulator=live.emulator, clock=clock, staff_chat_id=live.service.desk.staff_chat_id
        )
        task = asyncio.create_task(live.service.run(stop))
        failure: str | None = None
        try:
            await live.emulator.wait_until(
                lambda: live.service.application.running, timeout=WAIT, what="the bot"
            )
            await _play(story, settings)
        except (StepFailed, TimeoutError) as exc:
            failure = str(exc)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        story.lines += ["", "== Escalations (what staff see in the console)"]
        story.lines += [
            f"#{e.id} {e.level.upper()} {e.rule} · {e.status} · trigger: {e.trigger_text!r}"
            for e in story.escalations()
        ] or ["(none)"]
        return story.lines, failure


async def _play(story: Story, settings: Settings) -> None:
    steps: list[Callable[[Story, Settings], Awaitable[None]]] = [_enrol_and_consent, _day0, _day1_red_flag]
    for step in steps:
        await step(story, settings)


async def _enrol_and_consent(story: Story, settings: Settings) -> None:
    now = story.clock.now()
    with session_scope(story.engine) as session:
        enrolment = enrol_on_protocol(
            session=session,
            clinic=settings.clinic,
            protocol=bundled_protocols()[PROCEDURE],
            display_name=PATIENT,
            performed_at=now - timedelta(hours=1),
            diabetic=True,
            invite_ttl=timedelta(hours=72),
            now=now,
            actor="demo",
        )
        reference, token = enrolment.patient.reference, enrolment.invite_token
    story.heading("the clinic enrols a patient after a sacroiliac joint injection")
    story.note("Clinic", f"enrols {PATIENT} ({reference}, diabetic) and hands over the invite link")
    phone = story.emulator.new_user(PATIENT)
    story.phone = phone
    story.note(PATIENT, "opens the link (/start)")
    await phone.start(token)
    await story.expect(phone.chat_id, "Is it OK for us to message you", to=PATIENT)
    await story.tap(phone, "Yes, that's OK", then="Your first check-in will come")


async def _day0(story: Story, settings: Settings) -> None:
    phone = story.patient
    await story.move_clock_to(story.next_checkin_due(), "the day-0 check-in is due")
    await story.expect(phone.chat_id, "Do you have any numbness or heaviness", to=PATIENT)
    await story.tap(phone, "No numbness", then="have you had a new rash")
    await story.tap(phone, "No", then="What was your last blood sugar reading")
    await story.say(phone, "7.2", then="Your next check-in will come")


async def _day1_red_flag(story: Story, settings: Settings) -> None:
    phone = story.patient
    await story.move_clock_to(story.next_checkin_due(), "day 1: the morning check-in is due")
    await story.expect(phone.chat_id, "Since your injection, have you had any of these", to=PATIENT)
    await story.tap(phone, "Yes", then="Go to A&E now.")
    red = [e for e in story.escalations() if e.rule == "red.ces.screen_positive"]
    if not red:
        raise StepFailed("no red escalation was raised for the cauda equina screen")
    alert = await story.expect(story.staff_chat_id, f"RED escalation #{red[0].id}", to="staff chat")
    nurse = next(iter(story.emulator.chats[story.staff_chat_id].member_ids))
    story.note("Nurse Jo (staff chat)", "taps [Acknowledge]")
    await story.emulator.press(nurse, alert, f"{ACK_PREFIX}{red[0].id}", chat_id=story.staff_chat_id)

    def acknowledged() -> bool:
        return any(
            e.id == red[0].id and e.status is EscalationStatus.ACKNOWLEDGED for e in story.escalations()
        )

    try:
        await story.emulator.wait_until(acknowledged, timeout=WAIT, what="the acknowledgement")
    except TimeoutError:
        raise StepFailed("the nurse's acknowledgement was not recorded") from None
    notices = story.emulator.chats[story.staff_chat_id].notices
    with contextlib.suppress(TimeoutError):  # answered just after the commit; the record is what matters
        await story.emulator.wait_until(lambda: bool(notices), timeout=WAIT, what="the notice")
        story.note("Telegram shows the nurse", notices[-1].text)
    story.note("Aftercare", f"escalation #{red[0].id} acknowledged by the nurse; it stays open until closed")


def next_monday_9am(settings: Settings) -> datetime:
    """The coming Monday, 09:00 on the clinic's clock: in office hours, so advice shows the clinic's phone."""
    clinic = settings.clinic
    today = clinic.local(datetime.now(UTC)).date()
    monday = today + timedelta(days=(7 - today.weekday()) % 7 or 7)
    return datetime(monday.year, monday.month, monday.day, 9, tzinfo=clinic.zone).astimezone(UTC)
