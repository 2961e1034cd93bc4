"""The shape of a follow-up protocol: check-ins, questions and what each answer leads to.

A protocol is data (YAML, one file per procedure, stable ids). This module is its schema; loading and
cross-checking live in flows.catalogue. An id, once published, never changes meaning: answers, escalations
and audits refer to it for years. Change the meaning, change the id (and bump the protocol's version).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flows.levels import Level

ID = r"^[a-z0-9][a-z0-9_.-]{1,62}$"


class QuestionKind(StrEnum):
    PAIN = "pain_scale"
    YES_NO = "yes_no"
    CHOICE = "choice"
    GLUCOSE = "glucose"
    TEMPERATURE = "temperature"
    PERCENT_RELIEF = "percent_relief"
    PGIC = "pgic"
    FREE_TEXT = "free_text"


NUMERIC_KINDS = {
    QuestionKind.PAIN,
    QuestionKind.GLUCOSE,
    QuestionKind.TEMPERATURE,
    QuestionKind.PERCENT_RELIEF,
    QuestionKind.PGIC,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Repeated(_Strict):
    """The threshold must be crossed this many times within a window (e.g. glucose > 12 twice in 24 h)."""

    count: int = Field(ge=2)
    within_hours: float = Field(gt=0)


class Condition(_Strict):
    """When an outcome applies. Every given test must hold. An empty condition always holds."""

    equals: bool | None = Field(default=None, description="yes/no answers")
    any_of: list[str] | None = Field(default=None, description="choice answers: option ids")
    at_least: float | None = None
    above: float | None = None
    below: float | None = None
    at_most: float | None = None
    meter: Literal["high", "low"] | None = Field(default=None, description="glucose meter showed HI or LO")
    feels_feverish: bool | None = Field(default=None, description="temperature: hot or shivery")
    repeated: Repeated | None = None
    from_day: int | None = Field(
        default=None, ge=0, description="only on or after this day since the procedure"
    )
    until_day: int | None = Field(default=None, ge=0, description="only up to and including this day")

    @property
    def numeric(self) -> bool:
        return any(v is not None for v in (self.at_least, self.above, self.below, self.at_most))


class Outcome(_Strict):
    """What an answer leads to: a level with the rule that fired, the advice to give, follow-up questions."""

    when: Condition = Field(default_factory=Condition)
    level: Level
    rule: str = Field(pattern=ID)
    advice: str | None = Field(default=None, pattern=ID)
    escalate: bool | None = Field(
        default=None, description="defaults to True for red and amber, False for green"
    )
    then: list[str] = Field(default_factory=list, description="follow-up question ids, asked next")

    @property
    def raises_escalation(self) -> bool:
        return self.escalate if self.escalate is not None else self.level is not Level.GREEN


class Option(_Strict):
    id: str = Field(pattern=ID)
    label: str = Field(min_length=1, max_length=40)


class Applies(_Strict):
    """Who a question is for. Unset means everyone."""

    diabetic: bool | None = None


class Question(_Strict):
    id: str = Field(pattern=ID)
    kind: QuestionKind
    text: str = Field(min_length=5, max_length=600)
    options: list[Option] = Field(default_factory=list)
    applies: Applies = Field(default_factory=Applies)
    red_flag_screen: bool = Field(
        default=False, description="part of the red-flag screen: never left unclear"
    )
    outcomes: list[Outcome] = Field(default_factory=list, description="first match wins, most urgent first")
    otherwise: Outcome | None = Field(default=None, description="when no outcome matches (default: green)")

    @model_validator(mode="after")
    def _fits_kind(self) -> Question:
        if self.kind is QuestionKind.CHOICE and len(self.options) < 2:
            raise ValueError("a choice question needs at least 2 options")
        if self.kind is not QuestionKind.CHOICE and self.options:
            raise ValueError(f"only choice questions have options (this is {self.kind.value})")
        option_ids = {o.id for o in self.options}
        for outcome in self.outcomes:
            when = outcome.when
            if when.equals is not None and self.kind is not QuestionKind.YES_NO:
                raise ValueError(f"outcome {outcome.rule}: 'equals' is for yes_no questions")
            if when.any_of is not None:
                if self.kind is not QuestionKind.CHOICE:
                    raise ValueError(f"outcome {outcome.rule}: 'any_of' is for choice questions")
                unknown = sorted(set(when.any_of) - option_ids)
                if unknown:
                    raise ValueError(f"outcome {outcome.rule}: unknown option(s) {unknown}")
            if when.numeric and self.kind not in NUMERIC_KINDS:
                raise ValueError(f"outcome {outcome.rule}: numeric tests need a numeric question")
            if when.meter is not None and self.kind is not QuestionKind.GLUCOSE:
                raise ValueError(f"outcome {outcome.rule}: 'meter' is for glucose questions")
            if when.feels_feverish is not None and self.kind is not QuestionKind.TEMPERATURE:
                raise ValueError(f"outcome {outcome.rule}: 'feels_feverish' is for temperature questions")
            if when.repeated is not None and not when.numeric:
                raise ValueError(f"outcome {outcome.rule}: 'repeated' needs a numeric threshold")
        return self


class CheckIn(_Strict):
    """One scheduled contact: when, what to tell, what to ask, and what silence means."""

    id: str = Field(pattern=ID)
    day: int = Field(ge=0, le=365, description="days after the procedure (0 = the day itself)")
    at: str | None = Field(
        default=None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", description="local clock time on that day"
    )
    after_hours: float | None = Field(
        default=None, gt=0, le=24, description="day 0 only: hours after the procedure time"
    )
    education: list[str] = Field(default_factory=list, description="education message ids, sent first")
    questions: list[str] = Field(default_factory=list)
    outside_contact_hours: Literal["next_opening", "same_day", "skip"] = Field(
        default="next_opening",
        description="next_opening: move to the next contact hours; same_day: pull back to the last half "
        "hour of "
        "that day's contact hours (skip if that is under 2 hours after the procedure); skip: leave it out",
    )
    reminder_after_hours: float = Field(default=3, gt=0)
    grace_hours: float = Field(default=6, gt=0, description="how late it may still be sent after downtime")
    unanswered: Outcome | None = Field(
        default=None,
        description="what silence means (default: amber if the "
        "check-in has a red-flag question, else noted only)",
    )

    @model_validator(mode="after")
    def _one_time(self) -> CheckIn:
        if (self.at is None) == (self.after_hours is None):
            raise ValueError("give exactly one of 'at' (a clock time) or 'after_hours'")
        if self.after_hours is not None and self.day != 0:
            raise ValueError("'after_hours' is only for day 0")
        if not self.questions and not self.education:
            raise ValueError("a check-in needs questions or education messages")
        return self


class SignOff(_Strict):
    """A clinical choice made in this protocol that needs the clinic's sign-off before live use."""

    id: str = Field(pattern=ID)
    choice: str
    source: str = ""


class Protocol(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    version: int = Field(ge=1)
    title: str
    procedure_words: str = Field(description="how the bot names the procedure to the patient")
    steroid: bool = Field(description="steroid given: glucose questions apply to people with diabetes")
    sources: list[str] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list, description="protocol-specific questions")
    checkins: list[CheckIn] = Field(min_length=1)
    signoff: list[SignOff] = Field(default_factory=list)


class QuestionBank(_Strict):
    """Questions shared by every protocol (the red-flag screen, pain, glucose...)."""

    questions: list[Question]


class EducationMessage(_Strict):
    id: str = Field(pattern=ID)
    text: str = Field(min_length=10, max_length=1500)
    steroid_only: bool = False
    applies: Applies = Field(default_factory=Applies)


class EducationBank(_Strict):
    messages: list[EducationMessage]
