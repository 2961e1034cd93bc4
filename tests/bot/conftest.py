"""A whole Aftercare on loopback for end-to-end tests: the real PTB Application and our service against the
built-in Telegram emulator over HTTP, a SQLite file, and a clock the test moves (never real waiting)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.app import Service
from bot.clock import Clock
from bot.emulator import Emulator, EmulatorUser
from bot.emulator.model import TranscriptEntry
from bot.limits import SendLimits
from bot.runtime import running
from bot.settings import Settings
from flows.catalogue import bundled_protocols
from storage.db import make_engine, session_scope
from storage.followup import enrol_on_protocol
from storage.migrate import upgrade
from storage.models import Escalation

# Monday 23 November 2026, 09:00 in London (GMT): the clinic is open, patients may be messaged.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def local_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "telegram_bot_token": None,
        "staff_chat_id": None,
        "tick_seconds": 3600,
        "webhook_url": None,
        "clinic_file": None,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass(kw_only=True)
class World:
    """The clinic, the patients' phones and the clock, for one test."""

    emulator: Emulator
    service: Service
    clock: Clock
    engine: Engine
    settings: Settings
    staff_chat_id: int

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

    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        await self.service.tick()

    async def advance_to(self, moment: datetime) -> None:
        await self.advance(max(moment - self.clock.now(), timedelta(0)))

    async def bot_says(
        self,
        phone: EmulatorUser | int,
        contains: str,
        *,
        after: int = 0,
        timeout: float = 10.0,  # noqa: ASYNC109 - reads better beside the wait than in asyncio.timeout
    ) -> TranscriptEntry:
        chat_id = phone if isinstance(phone, int) else phone.chat_id
        return await self.emulator.wait_for_bot_message(
            chat_id, lambda e: contains in e.text, after_message_id=after, timeout=timeout
        )

    def last_message_id(self, phone: EmulatorUser | int) -> int:
        chat_id = phone if isinstance(phone, int) else phone.chat_id
        entries = self.emulator.transcript(chat_id)
        return entries[-1].message_id if entries else 0

    async def reply(self, phone: EmulatorUser, text: str, expect: str) -> TranscriptEntry:
        """The patient types; wait for the bot's next message containing ``expect``."""
        after = self.last_message_id(phone)
        await phone.send(text)
        return await self.bot_says(phone, expect, after=after)

    async def press(self, phone: EmulatorUser, label: str, expect: str) -> TranscriptEntry:
        after = self.last_message_id(phone)
        await phone.press_button(label)
        return await self.bot_says(phone, expect, after=after)

    def escalations(self) -> list[Escalation]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(Escalation).order_by(Escalation.id)).all())  # type: ignore[arg-type]

    async def until(self, condition: Callable[[], bool], what: str) -> None:
        await self.emulator.wait_until(condition, timeout=10, what=what)


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    upgrade(url)
    return url


FAST = SendLimits(per_second=10_000, private_chat_interval=0, group_chat_interval=0)


@pytest.fixture
def limits() -> SendLimits | None:
    """Telegram's limits are tested on their own (test_limits.py); journeys run without waiting for them."""
    return FAST


@pytest.fixture
async def world(database_file: str, limits: SendLimits | None) -> AsyncIterator[World]:
    settings = local_settings(database_file)
    engine = make_engine(database_file)
    clock = Clock(offset=MONDAY_9AM - datetime.now(UTC), movable=True)
    stop = asyncio.Event()
    try:
        async with running(settings, engine, clock=clock, emulator_port=0, limits=limits) as live:
            assert live.emulator is not None and live.service.desk.staff_chat_id is not None
            live.emulator.enforce_limits = limits is not FAST
            task = asyncio.create_task(live.service.run(stop))
            await live.emulator.wait_until(lambda: live.service.application.running, what="the bot to start")
            yield World(
                emulator=live.emulator,
                service=live.service,
                clock=clock,
                engine=engine,
                settings=settings,
                staff_chat_id=live.service.desk.staff_chat_id,
            )
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        engine.dispose()
