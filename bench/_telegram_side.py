"""Telegram's side of a benchmark: the emulator, served over HTTP on loopback, in this process or in its own.

In production Telegram's servers run elsewhere: their work is not on the bot's CPU. With the emulator in the
benchmark's own process it shares one core (and Python's GIL) with the bot under test, so every message the
emulator handles is charged to the bot. ``in_own_process`` runs it in a child process instead, the bot then
talking to it over loopback as it would to Telegram. Both bots of a comparison use the same mode.

``InlineSide`` does the work; ``ProcessSide`` forwards each call over a pipe to an ``InlineSide`` in a child
process and returns its result. Benchmarks only: must not be imported by the service or the tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, Protocol

from _common import TimingEmulator

from bot.emulator.server import RunningServer, serve


@dataclass(frozen=True, kw_only=True)
class Round:
    replies: int
    seconds: float  # first message typed -> last first reply arrived
    latencies: tuple[float, ...]

    @property
    def rate(self) -> float:
        return self.replies / self.seconds


class TelegramSide(Protocol):
    token: str
    bot_api_url: str

    async def create_users(self, count: int, first_user_id: int) -> list[int]: ...
    async def staff_group(self) -> int: ...
    async def round(self, chats: list[int], text: str) -> Round: ...
    async def wait_for_a_message_in(self, chats: list[int], timeout: float) -> None: ...  # noqa: ASYNC109
    async def wait_for_parked_poll(self) -> None: ...
    async def aclose(self) -> None: ...


class InlineSide:
    """The emulator in this process."""

    def __init__(self, emulator: TimingEmulator, server: RunningServer) -> None:
        self.emulator = emulator
        self.server = server
        self.token = emulator.token
        self.bot_api_url = server.bot_api_url

    @classmethod
    async def start(cls, *, enforce_limits: bool = False) -> InlineSide:
        emulator = TimingEmulator(enforce_limits=enforce_limits)
        return cls(emulator, await serve(emulator))

    async def create_users(self, count: int, first_user_id: int) -> list[int]:
        """Telegram users who have pressed Start (opened the bot)."""
        chats = []
        for n in range(count):
            user = self.emulator.create_user(first_name=f"P{n}", user_id=first_user_id + n)
            user.started = True
            chats.append(user.id)
        return chats

    async def staff_group(self) -> int:
        nurse = self.emulator.create_user(first_name="Jo")
        return self.emulator.create_group(title="staff", member_ids=[nurse.id]).id

    async def round(self, chats: list[int], text: str) -> Round:
        """Every user types `text` at once; returns when each chat has the bot's next message."""
        emulator = self.emulator
        before = {chat: len(emulator.bot_messages.get(chat, ())) for chat in chats}
        typed: dict[int, float] = {}
        start = time.perf_counter()
        for chat in chats:
            await emulator.user_sends(chat, text)  # queues the update, as Telegram does
            typed[chat] = time.perf_counter()
        enough = emulator.bot_message_count + len(chats)

        def replied() -> bool:  # the cheap count first: this runs after every change in the emulator
            return emulator.bot_message_count >= enough and all(
                len(emulator.bot_messages.get(chat, ())) > before[chat] for chat in chats
            )

        await emulator.wait_until(replied, timeout=300, what="every user's reply")
        arrivals = {chat: emulator.bot_messages[chat][before[chat]] for chat in chats}
        return Round(
            replies=len(chats),
            seconds=max(arrivals.values()) - start,
            latencies=tuple(arrivals[chat] - typed[chat] for chat in chats),
        )

    async def wait_for_a_message_in(self, chats: list[int], timeout: float) -> None:  # noqa: ASYNC109
        emulator = self.emulator
        await emulator.wait_until(lambda: all(c in emulator.bot_messages for c in chats), timeout=timeout)

    async def wait_for_parked_poll(self) -> None:
        """docs/emulator.md: stop PTB's updater only while its poll is parked."""
        await self.emulator.wait_until(lambda: self.emulator.updates.poll_waiting, timeout=10)

    async def aclose(self) -> None:
        await self.server.aclose()


class ProcessSide:
    """The emulator in a child process; each call is carried out there by an InlineSide."""

    def __init__(self, connection: Connection, process: Any, token: str, bot_api_url: str) -> None:
        self._connection = connection
        self._process = process
        self.token = token
        self.bot_api_url = bot_api_url

    @classmethod
    async def start(cls, *, enforce_limits: bool = False) -> ProcessSide:
        context = multiprocessing.get_context("spawn")  # not fork: this process has an event loop running
        ours, theirs = context.Pipe()
        process = context.Process(target=_child, args=(theirs, enforce_limits), daemon=True)
        process.start()
        token, url = await asyncio.to_thread(ours.recv)
        return cls(ours, process, token, url)

    async def _call(self, name: str, *args: Any) -> Any:
        await asyncio.to_thread(self._connection.send, (name, args))
        ok, result = await asyncio.to_thread(self._connection.recv)
        if not ok:
            raise RuntimeError(f"emulator process: {name} failed: {result}")
        return result

    async def create_users(self, count: int, first_user_id: int) -> list[int]:
        chats: list[int] = await self._call("create_users", count, first_user_id)
        return chats

    async def staff_group(self) -> int:
        group: int = await self._call("staff_group")
        return group

    async def round(self, chats: list[int], text: str) -> Round:
        replies, seconds, latencies = await self._call("round", chats, text)
        return Round(replies=replies, seconds=seconds, latencies=latencies)

    async def wait_for_a_message_in(self, chats: list[int], timeout: float) -> None:  # noqa: ASYNC109
        await self._call("wait_for_a_message_in", chats, timeout)

    async def wait_for_parked_poll(self) -> None:
        await self._call("wait_for_parked_poll")

    async def aclose(self) -> None:
        with contextlib.suppress(Exception):
            await self._call("aclose")
        await asyncio.to_thread(self._process.join, 10)


async def start_side(*, in_own_process: bool, enforce_limits: bool = False) -> TelegramSide:
    if in_own_process:
        return await ProcessSide.start(enforce_limits=enforce_limits)
    return await InlineSide.start(enforce_limits=enforce_limits)


def _child(connection: Connection, enforce_limits: bool) -> None:
    asyncio.run(_serve_calls(connection, enforce_limits))


async def _serve_calls(connection: Connection, enforce_limits: bool) -> None:
    side = await InlineSide.start(enforce_limits=enforce_limits)
    connection.send((side.token, side.bot_api_url))
    while True:
        name, args = await asyncio.to_thread(connection.recv)
        try:
            result = await getattr(side, name)(*args)
        except Exception as exc:  # reported to the parent, which raises it there
            connection.send((False, f"{type(exc).__name__}: {exc}"))
            continue
        if isinstance(result, Round):  # plain values over the pipe
            result = (result.replies, result.seconds, result.latencies)
        connection.send((True, result))
        if name == "aclose":
            return
