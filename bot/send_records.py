"""What the outbox writes down about its sends, several messages to a transaction: that an attempt starts
(before its request goes to Telegram) and that Telegram accepted a message (once it answers).

Both are written in groups, because SQLite has one writer, shared with the scheduler's tick and with
patients' replies: one transaction per send, at 30 a second, would keep that writer busy for little.
Neither knows SQL: each is given the function that writes (bot/outbox.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial

from storage.models import Priority

RECORD_EVERY = 0.1  # seconds: at most one "sent" transaction this often, taking all accepted since
RECORD_AT_ONCE = 20  # ... unless this many are waiting: a burst of replies is recorded without the wait
# The most messages written down as started and not yet sent. They are what a worker killed at that moment
# leaves marked that never went (sent again after a restart, with no copy). As few as will carry the sending
# through a wait for SQLite's one writer while the tick starts check-ins (up to about a second on a busy
# machine): with 20 (two-thirds of a second) sends stalled, 25-27 msg/s during the tick, 26.7-28.4 overall
# against the 28.5 target (bench/dispatch.py on a busy machine); with 40, 28.8-29.4 overall.
START_AHEAD = 40
# The next group is written once this many places are free: 30 marked still to go (a second at 30/s) while
# the write waits for the database; about three writes a second at Telegram's pace.
MARK_GROUP = 10
Sent = tuple[int, int]  # (our message id, Telegram's message id)


@dataclass(frozen=True, kw_only=True)
class TakenSends:
    sent: list[Sent]
    done: asyncio.Future[None]  # what the senders wait on: resolved once these are recorded


@dataclass(kw_only=True)
class SentRecorder:
    """Records the messages Telegram accepted as sent, several per transaction: one write at a time, at most
    one every ``delay`` seconds (unless ``enough`` are waiting), each taking everything accepted since the
    last. Alone, a message is recorded at once; at 30 a second, about three share a transaction instead of
    one each (SQLite has a single writer, shared with the scheduler's tick and with patients' replies). A
    burst of replies does not wait: each held message counts towards the outbox's BATCH until recorded."""

    write: Callable[[list[Sent]], Awaitable[None]]
    delay: float = RECORD_EVERY
    enough: int = RECORD_AT_ONCE
    # How many messages the sender holds (claimed, not recorded): when every one of them is waiting here,
    # waiting longer merges nothing more, so the write goes at once.
    held: Callable[[], int] | None = None
    # Set while nobody else is about to record the waiting sends. Patients' updates are processed in
    # transactions that take them (``take``); while one is running or about to start, a write of the
    # recorder's own would only wait for SQLite's write lock, holding the sends it took.
    quiet: asyncio.Event | None = None
    _waiting: list[Sent] = field(default_factory=list)
    _enough_waiting: asyncio.Event = field(default_factory=asyncio.Event)
    _recorded: asyncio.Future[None] | None = None  # resolved when _waiting has been written
    _one_at_a_time: asyncio.Lock = field(default_factory=asyncio.Lock)
    _last_write: float = float("-inf")  # event loop time
    _writers: set[asyncio.Task[None]] = field(default_factory=set)

    async def record(self, sent: Sent) -> None:
        """Returns once this message is recorded as sent; raises what recording it raised."""
        self._waiting.append(sent)
        if self._enough():
            self._enough_waiting.set()
        if self._recorded is None:
            self._recorded = asyncio.get_running_loop().create_future()
            writer = asyncio.create_task(self._write_next(self._recorded))
            self._writers.add(writer)  # held so the task is not garbage-collected mid-write
            writer.add_done_callback(self._writers.discard)
        # shielded: one sender cancelled (shutdown) must not cancel the write the others wait for
        await asyncio.shield(self._recorded)

    def _enough(self) -> bool:
        """Enough waiting to write without waiting out the delay."""
        waiting = len(self._waiting)
        return waiting >= self.enough or (self.held is not None and 0 < self.held() <= waiting)

    def take(self) -> TakenSends | None:
        """The sends waiting to be recorded, for a transaction that is open anyway (a batch of patients'
        updates) to record them: no transaction of their own, and no wait for SQLite's write lock. Then
        ``recorded`` once that transaction commits, or ``give_back`` if it rolls back."""
        if not self._waiting or self._recorded is None:
            return None
        taken = TakenSends(sent=self._waiting, done=self._recorded)
        self._waiting, self._recorded = [], None  # the writer task for them finds nothing to do
        return taken

    def recorded(self, taken: TakenSends) -> None:
        taken.done.set_result(None)

    def give_back(self, taken: TakenSends) -> None:
        """The transaction that took them rolled back: they wait for the next write again."""
        self._waiting = taken.sent + self._waiting
        if self._recorded is None:
            self._recorded = taken.done
            writer = asyncio.create_task(self._write_next(taken.done))
            self._writers.add(writer)
            writer.add_done_callback(self._writers.discard)
        else:  # recorded with the group already waiting: done when that is
            self._recorded.add_done_callback(partial(_settle_as, taken.done))

    async def _write_next(self, recorded: asyncio.Future[None]) -> None:
        loop = asyncio.get_running_loop()
        async with self._one_at_a_time:
            wait = self._last_write + self.delay - loop.time()
            if wait > 0 and not self._enough():
                self._enough_waiting.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._enough_waiting.wait(), timeout=wait)
            if self.quiet is not None:
                await self.quiet.wait()
            if self._recorded is not recorded:
                return  # taken and recorded by a transaction that was open anyway (take)
            sent, self._waiting, self._recorded = self._waiting, [], None  # later sends wait for the next
            self._last_write = loop.time()
            try:
                await self.write(sent)
            except Exception as exc:
                recorded.set_exception(exc)
            else:
                recorded.set_result(None)


@dataclass(kw_only=True)
class StartMarks:
    """Writes down that a message's attempt starts before its request goes: what a worker restarting after
    kill -9 reads to tell the claims that may have reached the patient from those that cannot have.

    Marks are written ahead of the sending, most urgent first, a group at a time: at most ``ahead`` messages
    are marked and not yet gone, and the next group is written once ``group`` places are free (at once for
    urgent advice, or when everything waiting fits). At Telegram's pace a send finds its mark already
    written; the database is never between taking a slot and sending in it."""

    # Marks these messages' attempts as started; returns the ids this worker still holds (the others were
    # taken over by another worker when their leases ran out, and must not be sent).
    write: Callable[[list[int]], Awaitable[set[int]]]
    ahead: int = START_AHEAD
    group: int = MARK_GROUP
    _waiting: list[tuple[int, int, int, asyncio.Future[bool]]] = field(default_factory=list)  # a heap
    _arrivals: itertools.count[int] = field(default_factory=itertools.count)
    _marked: int = 0  # marked and not yet gone
    _writer: asyncio.Task[None] | None = None

    async def mark(self, message_id: int, *, rank: int) -> bool:
        """Returns once this message's attempt is written down as started: True, send it now; False, it is
        no longer ours, do not. Raises what writing raised. Once marked, call ``gone`` when its request
        goes (or when it will not go after all)."""
        marked: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (rank, next(self._arrivals), message_id, marked))
        self._write_when_due()
        return await marked

    def gone(self) -> None:
        """A marked message's request is going out, or it will not go after all: its place frees."""
        self._marked -= 1
        self._write_when_due()

    def _write_when_due(self) -> None:
        if self._writer is None and self._due():
            self._writer = asyncio.create_task(self._write_waiting(), name="outbox-start-marks")

    def _due(self) -> bool:
        while self._waiting and self._waiting[0][3].done():  # its sender was cancelled while waiting
            heapq.heappop(self._waiting)
        if not self._waiting:
            return False
        room = self.ahead - self._marked
        if self._waiting[0][0] <= Priority.URGENT:
            return room >= 1
        return room >= min(len(self._waiting), max(1, self.group))

    async def _write_waiting(self) -> None:
        try:
            while self._due():
                group: list[tuple[int, asyncio.Future[bool]]] = []
                while self._waiting and len(group) < self.ahead - self._marked:
                    _, _, message_id, marked = heapq.heappop(self._waiting)
                    if not marked.done():
                        group.append((message_id, marked))
                self._marked += len(group)
                try:
                    held = await self.write([message_id for message_id, _ in group])
                except Exception as exc:
                    self._marked -= len(group)
                    for _, marked in group:
                        if not marked.done():
                            marked.set_exception(exc)
                    continue
                for message_id, marked in group:
                    ours = message_id in held
                    if marked.done() or not ours:  # its sender is gone, or it is not ours to send
                        self._marked -= 1
                    if not marked.done():
                        marked.set_result(ours)
        finally:
            self._writer = None


def _settle_as(target: asyncio.Future[None], source: asyncio.Future[None]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(None)
