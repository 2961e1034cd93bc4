"""The one path every update takes, polled (bot/polling.py) or pushed to the webhook (bot/webhook.py).

``accept`` keeps a batch of raw updates (bot/inbound.py's ``record``) and queues their rows; only then may
Telegram be told we have them. ``process_forever`` works through them in the order received, up to
PROCESS_TOGETHER in one transaction. It is supervised: if it dies (the database went away, a bug), it is
started again after a pause, the restart is written down for `aftercare health`, and it picks up whatever
was recorded and not processed, from the database. The same sweep runs when the service starts, so updates
recorded before a crash or a restart are processed first. None of this can stop the service from starting:
an update that cannot be processed is quarantined (bot/inbound.py), never retried forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.inbound import Inbound
from storage.db import session_scope
from storage.inbound import note_delivery, note_processing_restart

log = logging.getLogger(__name__)
# Updates recorded and waiting to be processed before receiving pauses: ten of Telegram's batches.
RECEIVED_AHEAD = 1000
# Updates processed in one transaction at most; their replies go once it commits.
PROCESS_TOGETHER = 40
# "Telegram delivered" is written at most this often (each getUpdates or webhook POST would be a write).
NOTE_DELIVERY_EVERY = timedelta(seconds=5)
FIRST_RESTART_DELAY = 1.0
LONGEST_RESTART_DELAY = 30.0


@dataclass(kw_only=True)
class Receiver:
    inbound: Inbound
    mode: str  # "polling" or "webhook": how updates reach this process
    received: asyncio.Queue[int] = field(default_factory=lambda: asyncio.Queue(maxsize=RECEIVED_AHEAD))
    # Set while nothing received waits to be processed: the outbox then records its sends itself;
    # otherwise the transactions that process the updates record them (SentRecorder.quiet).
    quiet: asyncio.Event = field(default_factory=asyncio.Event)
    restarts: int = 0  # times processing died and was started again, in this process
    _delivery_noted_at: datetime | None = None
    _restart_delay: float = FIRST_RESTART_DELAY

    def __post_init__(self) -> None:
        self.quiet.set()

    async def accept(self, payloads: Sequence[dict[str, Any]]) -> int:
        """Keep these updates, then queue the new ones for processing; returns how many were new. Raises if
        they could not be kept: then they must not be acknowledged (Telegram gives them again). Waits while
        RECEIVED_AHEAD updates are still unprocessed. An empty batch (a long poll that timed out) only notes
        that Telegram answered."""
        now = self.inbound.now()
        note = self._delivery_noted_at is None or now - self._delivery_noted_at >= NOTE_DELIVERY_EVERY
        if not payloads:
            if note:
                await asyncio.to_thread(self._note_delivery, now)
                self._delivery_noted_at = now
            return 0
        self.quiet.clear()  # processing is coming: leave the outbox's records to it
        try:
            fresh = await asyncio.to_thread(
                self.inbound.record, list(payloads), delivered_via=self.mode if note else None
            )
        except Exception:
            if self.received.empty():
                self.quiet.set()
            raise
        if note:
            self._delivery_noted_at = now
        for row_id in fresh:
            await self.received.put(row_id)
        if self.received.empty():  # all of them repeats, recorded before
            self.quiet.set()
        return len(fresh)

    def _note_delivery(self, now: datetime) -> None:
        with session_scope(self.inbound.engine) as session:
            note_delivery(session=session, bot_id=self.inbound.bot_id, mode=self.mode, now=now)

    async def process_forever(self) -> None:
        """Process what is recorded, in order, until cancelled; started again whenever it dies."""
        while True:
            try:
                await self._process()
            except Exception as exc:
                self.restarts += 1
                delay = self._restart_delay
                self._restart_delay = min(delay * 2, LONGEST_RESTART_DELAY)
                log.exception("processing updates stopped; starting it again in %.0f s", delay)
                try:
                    await asyncio.to_thread(self._note_restart, type(exc).__name__)
                except Exception:
                    log.warning("could not record the restart of processing", exc_info=True)
                await asyncio.sleep(delay)

    def _note_restart(self, error: str) -> None:
        with session_scope(self.inbound.engine) as session:
            note_processing_restart(
                session=session,
                bot_id=self.inbound.bot_id,
                mode=self.mode,
                error=error,
                now=self.inbound.now(),
            )

    async def _process(self) -> None:
        await self._process_waiting()
        while True:
            batch = [await self.received.get()]
            while len(batch) < PROCESS_TOGETHER and not self.received.empty():
                batch.append(self.received.get_nowait())
            self.quiet.clear()
            try:
                await self.inbound.process_many(batch)
            finally:
                for _ in batch:
                    self.received.task_done()
                if self.received.empty():
                    self.quiet.set()
            self._restart_delay = FIRST_RESTART_DELAY
            # Let the sends and the next poll move between batches (processing holds the event loop).
            await asyncio.sleep(0)

    async def _process_waiting(self) -> None:
        """What the database holds as received and not processed: from before a crash or a restart, or left
        when this task died. Rows queued meanwhile are then found processed, and skipped."""
        last: list[int] = []
        while True:
            waiting = await asyncio.to_thread(self.inbound.waiting, limit=PROCESS_TOGETHER)
            if not waiting or waiting == last:  # the same again: another worker holds them
                break
            if not last:
                log.info("processing updates recorded and not yet processed")
            self.quiet.clear()
            try:
                await self.inbound.process_many(waiting)
            finally:
                if self.received.empty():
                    self.quiet.set()
            last = waiting

    async def drain(self, timeout: float) -> None:  # noqa: ASYNC109 (a grace period, not an I/O timeout)
        """Wait (up to ``timeout`` seconds) for what has been queued to be processed; the rest is recorded
        and is processed at the next start."""
        try:
            await asyncio.wait_for(self.received.join(), timeout=timeout)
        except TimeoutError:
            log.warning("stopping with %s updates recorded but not processed", self.received.qsize())
