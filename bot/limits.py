"""Telegram's sending limits, kept on our side so we never hit a 429 in normal running.

About 30 messages a second overall, 1 a second to one private chat, 20 a minute to a group (Telegram's
documented limits). A 429's retry_after pauses everything for that long. State is per process; several
senders on one bot share the budget, so each takes its share (``share``).

The overall limit is kept as Telegram states it: never more than 30 sends in any one second, with sends at
least ``closest`` of the even spacing (1/30 s) apart, so nothing bunches up. A rigid 1/30 s metronome would
do less: every sender wakes a little late (the event loop's timers are millisecond-coarse, and other work
runs on the loop), and a metronome counts the next slot from that late moment, so ~1 ms late per send
costs 3% of the rate for good. Counting a second's sends instead lets the next sends catch the time up.

Senders queue for the next slot most urgent first (``rank``: storage.models.Priority), then first come,
first served: urgent advice waits for at most the send already taking its slot, never for the routine
check-ins queued before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field


@dataclass(kw_only=True)
class SendLimits:
    per_second: float = 30.0
    private_chat_interval: float = 1.0
    group_chat_interval: float = 3.0  # 20 a minute
    share: int = 1  # senders sharing the bot token
    closest: float = 0.9  # two sends are at least this share of the even spacing apart
    clock: Callable[[], float] = time.monotonic
    _spacing: float = field(init=False)  # the even spacing: share / per_second seconds
    _window: float = field(init=False)  # seconds in which at most _recent.maxlen sends go (1 s at 30/s)
    _recent: deque[float] = field(init=False)  # when the last sends went, oldest first
    _next_for_chat: dict[int, float] = field(default_factory=dict)
    _paused_until: float = 0.0
    _turnstile: Turnstile = field(default_factory=lambda: Turnstile())

    def __post_init__(self) -> None:
        self._spacing = self.share / self.per_second
        per_window = max(1, int(self.per_second / self.share))  # 30 at Telegram's 30 a second, alone
        self._window = per_window * self._spacing
        self._recent = deque(maxlen=per_window)

    def take(self, chat_id: int) -> float:
        """Take the slot to send to ``chat_id`` now, if it is free: returns 0.0. Otherwise returns how long
        to wait before asking again, and takes nothing.

        Slots are taken at the moment of sending, never booked ahead: a sender that wakes late (the event loop
        was busy) asks again and finds the slot gone, so a stall can never release a burst all at once."""
        now = self.clock()
        at = max(self._next_overall(), self._next_for_chat.get(chat_id, 0.0), self._paused_until)
        if at > now:
            return at - now
        chat_interval = self.group_chat_interval if chat_id < 0 else self.private_chat_interval
        self._recent.append(now)
        self._next_for_chat[chat_id] = now + chat_interval
        if len(self._next_for_chat) > 50_000:  # forget chats whose slot has long passed
            self._next_for_chat = {c: t for c, t in self._next_for_chat.items() if t > now}
        return 0.0

    def _next_overall(self) -> float:
        if not self._recent:
            return 0.0
        spaced = self._recent[-1] + self.closest * self._spacing
        if len(self._recent) < (self._recent.maxlen or 1):
            return spaced
        return max(spaced, self._recent[0] + self._window)  # the window's oldest send must leave it first

    async def chat_ready(self, chat_id: int) -> None:
        """Wait out the chat's own interval (a patient's second message never holds up others)."""
        while True:
            chat_wait = self._next_for_chat.get(chat_id, 0.0) - self.clock()
            if chat_wait <= 0:
                return
            await asyncio.sleep(chat_wait)

    async def wait_turn(self, chat_id: int, *, rank: int = 0) -> None:
        """Wait until this message may go, then take its slot.

        First the chat's own interval, outside the turnstile; then the overall rate through a turnstile
        that lets the lowest ``rank`` through first (then first come, first served), so senders queue for
        the next slot instead of all waking for the same one."""
        while True:
            await self.chat_ready(chat_id)
            async with self._turnstile.turn(rank):
                while (wait := self.take(chat_id)) > 0:
                    if self._next_for_chat.get(chat_id, 0.0) > self.clock():
                        break  # the chat is busy again: wait for it outside the turnstile
                    await asyncio.sleep(wait)
                else:
                    return

    def pause(self, seconds: float) -> None:
        """Telegram said 429: nobody sends until retry_after has passed."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)


class Turnstile:
    """One at a time, lowest rank first, then in the order they came. A waiter that is cancelled leaves
    the queue without holding anyone up."""

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap: (rank, arrival, go)
        self._arrivals = itertools.count()
        self._busy = False

    @contextlib.asynccontextmanager
    async def turn(self, rank: int) -> AsyncIterator[None]:
        if self._busy or self._waiting:
            go = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiting, (rank, next(self._arrivals), go))
            try:
                await go
            except asyncio.CancelledError:
                if go.done() and not go.cancelled():
                    self._next()  # it had been let through: pass the turn on
                raise
        else:
            self._busy = True
        try:
            yield
        finally:
            self._next()

    def _next(self) -> None:
        while self._waiting:
            _, _, go = heapq.heappop(self._waiting)
            if not go.done():  # a cancelled waiter's future is done: skip it
                go.set_result(None)
                return  # still busy: the turn passes straight to this waiter
        self._busy = False
