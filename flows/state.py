"""A check-in's state: which question is being asked, what was answered, what is still to come.

Frozen and serialisable to JSON, so it lives in our database between a question and its answer (a patient
may reply hours later, after a restart). ``to_json``/``from_json`` round-trip exactly; a state from an
unknown format version is refused rather than guessed at.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from flows.levels import Level
from flows.triage import PastReading, ReadingJson

FORMAT = 1


class Phase(StrEnum):
    ASKING = "asking"
    CONFIRMING = "confirming"
    COMPLETE = "complete"


@dataclass(frozen=True, kw_only=True)
class Pending:
    question_id: str
    parent_level: Level | None = None  # set for follow-ups: the level of the answer that led here


@dataclass(frozen=True, kw_only=True)
class Recorded:
    question_id: str
    level: Level
    rule: str


@dataclass(frozen=True, kw_only=True)
class CheckInState:
    protocol_id: str
    protocol_version: int
    checkin_id: str
    day: int
    diabetic: bool
    phase: Phase
    queue: tuple[Pending, ...]  # queue[0] is the question being asked
    tries: int = 0  # unreadable replies to queue[0] so far
    unconfirmed: ReadingJson | None = None
    unconfirmed_text: str | None = None
    answered: tuple[Recorded, ...] = ()
    history: tuple[PastReading, ...] = ()

    @property
    def current_question(self) -> str | None:
        return self.queue[0].question_id if self.queue and self.phase is not Phase.COMPLETE else None

    @property
    def worst_level(self) -> Level:
        return max((r.level for r in self.answered), default=Level.GREEN)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": FORMAT,
                "protocol_id": self.protocol_id,
                "protocol_version": self.protocol_version,
                "checkin_id": self.checkin_id,
                "day": self.day,
                "diabetic": self.diabetic,
                "phase": self.phase.value,
                "queue": [
                    [p.question_id, p.parent_level.value if p.parent_level else None] for p in self.queue
                ],
                "tries": self.tries,
                "unconfirmed": self.unconfirmed,
                "unconfirmed_text": self.unconfirmed_text,
                "answered": [[r.question_id, r.level.value, r.rule] for r in self.answered],
                "history": [[h.question_id, h.value, h.at.isoformat()] for h in self.history],
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CheckInState:
        data: dict[str, Any] = json.loads(text)
        if data.get("format") != FORMAT:
            raise ValueError(f"unknown check-in state format {data.get('format')!r}")
        return cls(
            protocol_id=data["protocol_id"],
            protocol_version=int(data["protocol_version"]),
            checkin_id=data["checkin_id"],
            day=int(data["day"]),
            diabetic=bool(data["diabetic"]),
            phase=Phase(data["phase"]),
            queue=tuple(
                Pending(question_id=q, parent_level=Level(lv) if lv else None) for q, lv in data["queue"]
            ),
            tries=int(data["tries"]),
            unconfirmed=data["unconfirmed"],
            unconfirmed_text=data["unconfirmed_text"],
            answered=tuple(Recorded(question_id=q, level=Level(lv), rule=r) for q, lv, r in data["answered"]),
            history=tuple(
                PastReading(question_id=q, value=float(v), at=datetime.fromisoformat(at))
                for q, v, at in data["history"]
            ),
        )
