"""Fixtures for the Telegram edge's tests: a whole Aftercare against the emulator (``world``; world.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.clock import Clock
from bot.limits import SendLimits
from bot.runtime import running
from bot.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade
from tests.bot.world import FAST_PER_SECOND, MONDAY_9AM, World, fast_limits


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
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def limits() -> SendLimits:
    """Telegram's limits are tested on their own (test_delivery.py); journeys run without waiting for them."""
    return fast_limits()


@pytest.fixture
def polling() -> bool:
    """Long polling; the webhook tests set this to False and start their own endpoint."""
    return True


@pytest.fixture
async def world(database_file: str, limits: SendLimits, polling: bool) -> AsyncIterator[World]:
    settings = local_settings(database_file)
    engine = make_engine(database_file)
    clock = Clock(offset=MONDAY_9AM - datetime.now(UTC), movable=True)
    try:
        async with running(settings, engine, clock=clock, emulator_port=0, limits=limits) as live:
            assert live.emulator is not None and live.service.desk.staff_chat_id is not None
            live.emulator.enforce_limits = limits.per_second < FAST_PER_SECOND  # real limits: enforce them
            world = World(
                emulator=live.emulator,
                live=live,
                clock=clock,
                engine=engine,
                settings=settings,
                staff_chat_id=live.service.desk.staff_chat_id,
                limits=limits,
                bot_api_url=live.servers[0].bot_api_url,
            )
            await world.start(polling=polling)
            yield world
            await world.stop()
            world.assert_previews_are_neutral()
    finally:
        engine.dispose()
