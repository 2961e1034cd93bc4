"""The edge's one reading of the clock. In local mode a person (or the demo) can move it forward, to walk
through a six-week follow-up in minutes; in production it is the system clock, untouched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta


@dataclass(kw_only=True)
class Clock:
    offset: timedelta = timedelta(0)
    movable: bool = False

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> datetime:
        if not self.movable:
            raise RuntimeError("the clock only moves in local mode")
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self.offset += delta
        return self.now()
