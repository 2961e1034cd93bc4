"""Triage levels: the traffic-light framework the clinic's safety-netting uses (red, amber, green)."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """How urgent an answer or message is. Ordered: GREEN < AMBER < RED."""

    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Level):
            return NotImplemented
        return self.rank >= other.rank


_RANK = {Level.GREEN: 0, Level.AMBER: 1, Level.RED: 2}


def worst(*levels: Level) -> Level:
    """The most urgent of the given levels (GREEN when none)."""
    return max(levels, key=lambda level: level.rank, default=Level.GREEN)
