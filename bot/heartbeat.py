"""The receiving loop's heartbeat: each success (a getUpdates answer, an accepted webhook POST) is noted in
the database (storage/heartbeats.py), where `aftercare health`, /healthz and /metrics read it.

`beat()` is called from the event loop on every success and costs nothing there: it writes at most once every
``every`` (30 s), in a worker thread, and never waits for the write or lets it fail the caller (a failed write
is logged; the health check then shows the heartbeat growing old, which is the truth: something is wrong).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine

from storage.db import session_scope
from storage.heartbeats import Heartbeat, record_heartbeat

log = logging.getLogger(__name__)
# Far below the health thresholds (minutes), and a write a minute or two is nothing for the database.
EVERY = timedelta(seconds=30)


@dataclass(kw_only=True)
class HeartbeatWriter:
    engine: Engine
    name: Heartbeat
    now: Callable[[], datetime]
    every: timedelta = EVERY
    _written_at: datetime | None = None
    _writing: asyncio.Task[None] | None = field(default=None, repr=False)

    def beat(self) -> None:
        """Note a success now (from the event loop). Returns at once."""
        now = self.now()
        if self._writing is not None and not self._writing.done():
            return
        if self._written_at is not None and now - self._written_at < self.every:
            return
        self._written_at = now
        self._writing = asyncio.create_task(
            asyncio.to_thread(self._write, now), name=f"heartbeat {self.name}"
        )

    async def settle(self) -> None:
        """Wait for a write under way (at shutdown, so no thread outlives the service)."""
        if self._writing is not None:
            await self._writing

    def _write(self, at: datetime) -> None:
        try:
            with session_scope(self.engine) as session:
                record_heartbeat(session, name=self.name, at=at)
        except Exception:
            log.exception("could not record the %s heartbeat", self.name)
            self._written_at = None  # try again at the next success
