"""The value every answer parser returns: a reading, or the reason it could not be read.

Must not: guess. A parser that is unsure returns ``unreadable(problem_id)``; the bot re-asks with the hint in
``PROBLEMS``. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, kw_only=True)
class Parsed(Generic[T]):
    """What a parser made of one answer.

    ``value`` is None when the answer could not be read safely, and ``problem`` then names why (a key of
    ``PROBLEMS``). ``needs_confirmation`` marks a plausible reading the bot must confirm before acting on it;
    ``problem`` stays None then.
    """

    value: T | None
    problem: str | None = None
    needs_confirmation: bool = False

    @property
    def ok(self) -> bool:
        return self.value is not None and not self.needs_confirmation


def unreadable(problem: str) -> Parsed[Any]:
    return Parsed(value=None, problem=problem)


def read(value: T, *, needs_confirmation: bool = False) -> Parsed[T]:
    return Parsed(value=value, needs_confirmation=needs_confirmation)
