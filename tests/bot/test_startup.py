"""Starting while Telegram cannot be reached: getMe again with capped exponential back-off, each wait logged,
instead of exiting; a refused token stops at once with one line, and `aftercare run` then polls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from telegram import Bot

from bot.emulator import Emulator, FaultKind, RunningServer, serve
from bot.runtime import wait_for_telegram
from storage.db import make_engine, session_scope
from storage.inbound import inbound_health
from storage.migrate import upgrade

WAIT = re.compile(r"trying (?:getMe )?again in ([0-9.e-]+) s")


@pytest.fixture
async def telegram() -> AsyncIterator[tuple[Emulator, RunningServer]]:
    emulator = Emulator()
    server = await serve(emulator)
    yield emulator, server
    await server.aclose()
    await emulator.aclose()


def waits(caplog: pytest.LogCaptureFixture) -> list[float]:
    return [float(match[1]) for record in caplog.records if (match := WAIT.search(record.getMessage()))]


async def test_a_start_while_telegram_fails_tries_get_me_again_with_capped_exponential_back_off(
    telegram: tuple[Emulator, RunningServer], caplog: pytest.LogCaptureFixture
) -> None:
    emulator, server = telegram
    emulator.faults.script(FaultKind.DROP, methods={"getMe"}, times=2)  # the network going away
    emulator.faults.script(FaultKind.RATE_LIMIT, methods={"getMe"}, retry_after=1)  # waits as long as it asks
    emulator.faults.script(FaultKind.SERVER_ERROR, methods={"getMe"}, times=3)  # Telegram failing
    bot = Bot(emulator.token, base_url=server.bot_api_url)
    caplog.set_level(logging.WARNING, logger="bot.runtime")
    try:
        reached = await wait_for_telegram(bot, asyncio.Event(), first_wait=0.001, longest_wait=0.004)
        assert reached and bot.username == emulator.bot_username
    finally:
        await bot.shutdown()
    assert waits(caplog) == [0.001, 0.002, 1, 0.004, 0.004, 0.004]
    said = [record.getMessage() for record in caplog.records]
    assert "Telegram asks us to wait (429)" in said[2]
    assert all("cannot be reached (NetworkError)" in line for line in said[:2] + said[3:])
    assert [fault.method for fault in emulator.faults.injected] == ["getMe"] * 6


async def test_a_stop_while_waiting_for_telegram_ends_the_wait(caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as closed:  # bound, never listening: the connection is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        bot = Bot("110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", base_url=f"http://127.0.0.1:{port}/bot")
        stop = asyncio.Event()
        stop.set()  # SIGTERM arrived while Telegram was away
        caplog.set_level(logging.WARNING, logger="bot.runtime")
        try:
            assert await wait_for_telegram(bot, stop, first_wait=30, longest_wait=60) is False
        finally:
            await bot.shutdown()
    assert waits(caplog) == [30]


async def test_a_token_telegram_refuses_stops_at_once_with_one_line_that_does_not_show_it(
    telegram: tuple[Emulator, RunningServer],
) -> None:
    _, server = telegram
    token = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # well formed, not the emulator's bot
    bot = Bot(token, base_url=server.bot_api_url)
    try:
        with pytest.raises(SystemExit) as stopped:
            await wait_for_telegram(bot, asyncio.Event(), first_wait=0.001)
    finally:
        await bot.shutdown()
    message = str(stopped.value)
    assert message == "aftercare: Telegram refused TELEGRAM_BOT_TOKEN: set the token @BotFather gave the bot"
    assert token not in message


@pytest.mark.slow
async def test_aftercare_run_waits_for_telegram_instead_of_exiting_then_polls(
    telegram: tuple[Emulator, RunningServer], tmp_path: Path
) -> None:
    """Finding 7: `aftercare run` exited at start when the Bot API could not be reached."""
    emulator, server = telegram
    emulator.faults.script(FaultKind.SERVER_ERROR, methods={"getMe"}, times=2)
    await emulator.new_user("Sam").send("hello")  # waiting at Telegram: the first getUpdates answers at once
    database = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    upgrade(database)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_", "HEALTH_"))}
    env.update(
        PTB_TIMEDELTA="true",
        ENVIRONMENT="development",
        DATABASE_URL=database,
        TELEGRAM_BOT_TOKEN=emulator.token,
        TELEGRAM_API_BASE_URL=server.bot_api_url,
        BOT_USERNAME=emulator.bot_username,
        CONSOLE_LISTEN="127.0.0.1:0",
    )
    log = tmp_path / "run.log"
    engine = make_engine(database)
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once; the test then awaits it without blocking
            [sys.executable, "-m", "aftercare", "run"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        await emulator.wait_until(
            lambda: process.poll() is not None or _telegram_answered(engine),
            timeout=60,
            what="the service to reach Telegram and poll",
        )
        assert process.poll() is None, log.read_text()
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        await emulator.wait_until(lambda: process.poll() is not None, timeout=30, what="a clean stop")
        engine.dispose()
    said = log.read_text()
    assert "cannot be reached (NetworkError); trying getMe again in 1 s" in said
    assert "cannot be reached (NetworkError); trying getMe again in 2 s" in said
    assert process.returncode == 0 and "stopped cleanly" in said, said


def _telegram_answered(engine: Engine) -> bool:
    """What health reads: Telegram answered a getUpdates of this service."""
    with session_scope(engine) as session:
        return inbound_health(session=session).last_delivery_at is not None
