"""Read an answer as the patient typed it and grade it red, amber or green with the rule that fired.

Two steps, both pure: ``read`` turns text (or a pressed button's value) into a ``Reading`` using the parser
for the question's kind, or reports why it could not; ``grade`` finds the first outcome of the question
whose condition holds. Nothing here guesses: an unreadable answer stays unreadable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from flows import parsers
from flows.levels import Level
from flows.protocol import Condition, Outcome, Question, QuestionKind

Value = bool | int | float | str | None
ReadingJson = dict[str, Value | list[float]]  # a reading as stored (answers, a reading awaiting confirmation)

FIXED_OPTIONS: dict[QuestionKind, tuple[tuple[str, str], ...]] = {
    QuestionKind.YES_NO: (("yes", "Yes"), ("no", "No")),
    QuestionKind.PAIN: tuple((str(n), str(n)) for n in range(11)),
    QuestionKind.PGIC: tuple((str(n), str(n)) for n in range(1, 8)),
}


# A red-flag question is never forced into yes or no: "Not sure" is an answer, and it escalates like yes.
UNSURE = "unsure"
RED_FLAG_OPTIONS = (("yes", "Yes"), ("no", "No"), (UNSURE, "Not sure"))


def options_for(question: Question) -> tuple[tuple[str, str], ...]:
    """The buttons offered for a question: (value, label). Typed answers are always accepted too."""
    if question.kind is QuestionKind.CHOICE:
        return tuple((o.id, o.label) for o in question.options)
    if question.kind is QuestionKind.YES_NO and question.red_flag_screen:
        return RED_FLAG_OPTIONS
    return FIXED_OPTIONS.get(question.kind, ())


@dataclass(frozen=True, kw_only=True)
class Reading:
    """A readable answer. ``value``: bool (yes/no), int/float (scales, mmol/L, Celsius), option id or text."""

    value: Value
    meter: Literal["high", "low"] | None = None
    feels_feverish: bool = False
    earlier: tuple[float, ...] = ()  # other readings given in the same answer (glucose), oldest unknown

    def as_json(self) -> ReadingJson:
        data: ReadingJson = {"value": self.value, "meter": self.meter, "feels_feverish": self.feels_feverish}
        if self.earlier:  # kept through "is that right?": they count for "above 12 twice in 24 hours"
            data["earlier"] = list(self.earlier)
        return data


@dataclass(frozen=True, kw_only=True)
class ReadResult:
    reading: Reading | None
    problem: str | None = None
    needs_confirmation: bool = False


@dataclass(frozen=True, kw_only=True)
class PastReading:
    """A numeric answer from earlier (e.g. glucose yesterday evening), for 'twice in 24 hours' rules."""

    question_id: str
    value: float
    at: datetime


def read_option(question: Question, value: str) -> Reading | None:
    """A pressed button's value as a reading, or None if the value is not one this question offers."""
    if value not in {v for v, _ in options_for(question)}:
        return None
    if question.kind is QuestionKind.YES_NO:
        return Reading(value=UNSURE) if value == UNSURE else Reading(value=value == "yes")
    if question.kind in (QuestionKind.PAIN, QuestionKind.PGIC):
        return Reading(value=int(value))
    return Reading(value=value)


def read_text(question: Question, text: str) -> ReadResult:
    """Typed text as a reading, using the parser for the question's kind."""
    kind = question.kind
    if kind is QuestionKind.FREE_TEXT:
        return ReadResult(reading=Reading(value=text.strip()[:2000]))
    if kind is QuestionKind.GLUCOSE:
        glucose = parsers.parse_glucose(text)
        if glucose.value is None:
            return ReadResult(reading=None, problem=glucose.problem)
        reading = Reading(
            value=glucose.value.mmol_per_l, meter=glucose.value.beyond_meter, earlier=glucose.value.earlier
        )
        return ReadResult(reading=reading, needs_confirmation=glucose.needs_confirmation)
    if kind is QuestionKind.TEMPERATURE:
        temperature = parsers.parse_temperature(text)
        if temperature.value is None:
            return ReadResult(reading=None, problem=temperature.problem)
        return ReadResult(
            reading=Reading(value=temperature.value.celsius, feels_feverish=temperature.value.feels_feverish)
        )
    parsed: parsers.Parsed[bool] | parsers.Parsed[int] | parsers.Parsed[str]
    if kind is QuestionKind.YES_NO:
        parsed = parsers.parse_yes_no(text)
    elif kind is QuestionKind.PAIN:
        parsed = parsers.parse_pain(text)
    elif kind is QuestionKind.PERCENT_RELIEF:
        parsed = parsers.parse_percent(text)
    elif kind is QuestionKind.PGIC:
        parsed = parsers.parse_pgic(text)
    else:
        parsed = parsers.parse_choice(text, [(o.id, o.label) for o in question.options])
    if parsed.value is None:
        return ReadResult(reading=None, problem=parsed.problem)
    return ReadResult(reading=Reading(value=parsed.value), needs_confirmation=parsed.needs_confirmation)


@dataclass(frozen=True, kw_only=True)
class Grade:
    level: Level
    rule: str
    advice: str | None
    escalate: bool
    then: tuple[str, ...]


def grade(
    question: Question,
    reading: Reading,
    *,
    day: int,
    history: Sequence[PastReading] = (),
    now: datetime,
) -> Grade:
    """The first outcome of ``question`` whose condition holds; green 'recorded' when none does.

    "Not sure" to a red-flag question is graded as its "yes" (rule id + ".unsure"): unsure is never a no."""
    if reading.value == UNSURE:
        for outcome in question.outcomes:
            if outcome.when.equals is True:
                graded = _grade_of(outcome)
                return replace(graded, rule=f"{graded.rule}.unsure", escalate=True)
        return Grade(
            level=Level.AMBER,
            rule=f"amber.unsure.{question.id}",
            advice="amber.unclear",
            escalate=True,
            then=(),
        )
    # Readings given together with this one ("14.2, it was 13.1 at lunch") count as taken within the day.
    history = (*history, *(PastReading(question_id=question.id, value=v, at=now) for v in reading.earlier))
    for outcome in question.outcomes:
        if _holds(outcome.when, question, reading, day=day, history=history, now=now):
            return _grade_of(outcome)
    if question.otherwise is not None:
        return _grade_of(question.otherwise)
    return Grade(
        level=Level.GREEN, rule=f"green.{question.id}.recorded", advice=None, escalate=False, then=()
    )


def _grade_of(outcome: Outcome) -> Grade:
    return Grade(
        level=outcome.level,
        rule=outcome.rule,
        advice=outcome.advice,
        escalate=outcome.raises_escalation,
        then=tuple(outcome.then),
    )


def _holds(
    when: Condition,
    question: Question,
    reading: Reading,
    *,
    day: int,
    history: Sequence[PastReading],
    now: datetime,
) -> bool:
    if when.from_day is not None and day < when.from_day:
        return False
    if when.until_day is not None and day > when.until_day:
        return False
    if when.equals is not None and reading.value is not when.equals:
        return False
    if when.any_of is not None and reading.value not in when.any_of:
        return False
    if when.meter is not None and reading.meter != when.meter:
        return False
    if when.feels_feverish is not None and reading.feels_feverish != when.feels_feverish:
        return False
    if when.numeric:
        if not isinstance(reading.value, int | float) or isinstance(reading.value, bool):
            return False
        if not _crosses(when, float(reading.value)):
            return False
        if when.repeated is not None:
            since = now - timedelta(hours=when.repeated.within_hours)
            earlier = sum(
                1
                for past in history
                if past.question_id == question.id and past.at >= since and _crosses(when, past.value)
            )
            if earlier + 1 < when.repeated.count:
                return False
    return True


def _crosses(when: Condition, value: float) -> bool:
    return all(
        (
            when.at_least is None or value >= when.at_least,
            when.above is None or value > when.above,
            when.below is None or value < when.below,
            when.at_most is None or value <= when.at_most,
        )
    )
