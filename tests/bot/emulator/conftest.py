"""Fixtures for the emulator's tests: an emulator, the emulator served on 127.0.0.1, and real PTB apps."""

import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram.ext import Application, ApplicationBuilder, BaseHandler, ContextTypes

from bot.emulator import Emulator, EmulatorUser, RunningServer, create_app, serve

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
AnyHandler = BaseHandler[Any, Any, Any]


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in to PTB's coming timedelta durations (RetryAfter.retry_after), silencing its warning."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator()
    yield emulator
    await emulator.aclose()


@pytest.fixture
async def server(emulator: Emulator) -> AsyncIterator[RunningServer]:
    running = await serve(emulator)
    yield running
    await running.aclose()


@pytest.fixture
def unlimited(emulator: Emulator) -> None:
    emulator.enforce_limits = False


@pytest.fixture
async def patient(emulator: Emulator) -> EmulatorUser:
    """Ann, who has pressed Start, so the bot may write to her."""
    patient = emulator.new_user("Ann", last_name="Smith", username="ann_smith")
    await patient.start()
    return patient


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the emulator's app in-process (no socket): for tests of the HTTP API itself."""
    transport = httpx.ASGITransport(app=create_app(emulator))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.test", timeout=10) as client:
        yield client


def bot_url(emulator: Emulator, method: str) -> str:
    return f"/bot{emulator.token}/{method}"


async def call(http: httpx.AsyncClient, emulator: Emulator, method: str, **params: Any) -> httpx.Response:
    """A Bot API call sent as PTB sends it: form fields, strings raw and everything else JSON-encoded."""
    data = {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}
    return await http.post(bot_url(emulator, method), data=data)


def build_application(
    server: RunningServer, *, read_timeout: float = 5.0, updater: bool = True
) -> AnyApplication:
    assert server.emulator is not None
    builder = (
        ApplicationBuilder()
        .token(server.emulator.token)
        .base_url(server.bot_api_url)
        .base_file_url(server.file_url)
        .read_timeout(read_timeout)
    )
    if not updater:
        builder = builder.updater(None)
    return builder.build()


class ErrorLog:
    """PTB's error handler, recording what handlers raised so a test can assert on it."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    async def __call__(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)


@contextlib.asynccontextmanager
async def polling_bot(
    server: RunningServer, *handlers: AnyHandler, errors: ErrorLog | None = None
) -> AsyncIterator[AnyApplication]:
    application = build_application(server)
    for handler in handlers:
        application.add_handler(handler)
    if errors is not None:
        application.add_error_handler(errors)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=dt.timedelta(seconds=10))
        try:
            yield application
        finally:
            # Stop only once PTB's poll has fully arrived: cancelling it mid-send leaves httpx's one-slot
            # getUpdates pool busy, and PTB's final acknowledging getUpdates then waits out a pool timeout.
            emulator = server.emulator
            assert emulator is not None
            with contextlib.suppress(TimeoutError):
                await emulator.wait_until(lambda: emulator.updates.poll_waiting, timeout=2)
            await application.updater.stop()
            await application.stop()
