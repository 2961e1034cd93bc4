"""What the check-in engine decides, as values. The edges act on them; the engine never sends anything.

Effects are listed in the order they should reach the patient: urgent advice before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flows.levels import Level
from flows.triage import ReadingJson


@dataclass(frozen=True, kw_only=True)
class SendEducation:
    message_id: str


@dataclass(frozen=True, kw_only=True)
class AskQuestion:
    checkin_id: str
    question_id: str
    options: tuple[tuple[str, str], ...]  # (value, label) for buttons; typed answers are accepted too
    reask_problem: str | None = None  # why the last reply could not be read (a parsers/engine problem id)
    # Asked by the safety net outside a check-in: which asks chose it ("ask.legs", "ask.model") and, for the
    # statistical layer, the words that pushed it (kept with the message so the question stays explainable).
    asked_because: tuple[str, ...] = ()
    model_terms: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AskConfirmation:
    """Check a plausible but uncertain reading before using it (e.g. '216' read as mg/dL)."""

    checkin_id: str
    question_id: str
    understood_as: str  # e.g. "216 mg/dL, which is 12.0 mmol/L"


@dataclass(frozen=True, kw_only=True)
class RecordAnswer:
    checkin_id: str | None
    question_id: str
    text: str  # what the patient sent (or the button's label); stored, never logged
    value: ReadingJson | None  # the reading, None when unclear
    level: Level
    rule: str


@dataclass(frozen=True, kw_only=True)
class GiveAdvice:
    advice_id: str
    level: Level
    rule: str


@dataclass(frozen=True, kw_only=True)
class Escalate:
    level: Level
    rule: str
    advice_id: str | None
    question_id: str | None
    trigger_text: str


class Ending(StrEnum):
    ANSWERED = "answered"
    STOPPED_FOR_RED_FLAG = "stopped_for_red_flag"
    UNANSWERED = "unanswered"


@dataclass(frozen=True, kw_only=True)
class CompleteCheckIn:
    checkin_id: str
    ending: Ending


Effect = (
    SendEducation | AskQuestion | AskConfirmation | RecordAnswer | GiveAdvice | Escalate | CompleteCheckIn
)
