"""The clinic as configuration: who patients should call, when the clinic answers, when we may message.

A clinic is data (a YAML file), never code. This module holds the validated model and the pure questions
asked of it ("is the clinic's phone answered now?", "may we message a patient now?"). It never reads the
clock: ``now`` is always passed in, aware.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flows.yamlsource import load_model

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class HoursSpan(BaseModel):
    """One opening span in local time, e.g. 09:00-17:00."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opens: time
    closes: time

    @model_validator(mode="after")
    def _opens_before_closes(self) -> HoursSpan:
        if self.opens >= self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        return self

    def contains(self, moment: time) -> bool:
        return self.opens <= moment < self.closes


class Wording(BaseModel):
    """How the clinic names the services patients are sent to, in its own words."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gp: str = "your GP"
    nhs_111: str = "NHS 111 (call 111 or go to 111.nhs.uk)"
    emergency: str = "999"
    mental_health_crisis: str = "NHS 111 and choose option 2 for mental health"
    samaritans: str = "Samaritans on 116 123 (free, day or night)"


class EscalationTargets(BaseModel):
    """How soon staff should acknowledge an escalation, in working hours (the console's clocks)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    red_working_hours: float = Field(default=1.0, gt=0)
    amber_working_hours: float = Field(default=8.0, gt=0)


class Clinic(BaseModel):
    """A pain clinic's settings. Validated on load; a bad file fails with its name and line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=3)
    short_name: str = Field(min_length=3, description="How patients call it: 'the Pain Clinic'.")
    phone: str = Field(pattern=r"^[0-9 +()-]{6,20}$")
    emergency_department: str = Field(min_length=3)
    timezone: str
    office_hours: dict[str, list[HoursSpan]]
    closed_dates: list[date] = Field(default_factory=list, description="Bank holidays and closures.")
    contact_hours: HoursSpan = Field(description="When patients may be messaged, every day.")
    wording: Wording = Field(default_factory=Wording)
    escalation_targets: EscalationTargets = Field(default_factory=EscalationTargets)
    signoff: list[str] = Field(default_factory=list, description="Choices awaiting clinical sign-off.")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("office_hours")
    @classmethod
    def _weekday_names(cls, value: dict[str, list[HoursSpan]]) -> dict[str, list[HoursSpan]]:
        unknown = sorted(set(value) - set(WEEKDAYS))
        if unknown:
            raise ValueError(f"unknown weekday(s) {unknown}; use {', '.join(WEEKDAYS)}")
        return value

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """The same instant on the clinic's wall clock."""
        _require_aware(moment)
        return moment.astimezone(self.zone)

    def is_open(self, now: datetime) -> bool:
        """Whether the clinic's phone is answered at ``now`` (office hours, not a closed date)."""
        local = self.local(now)
        if local.date() in self.closed_dates:
            return False
        spans = self.office_hours.get(WEEKDAYS[local.weekday()], [])
        return any(span.contains(local.time()) for span in spans)

    def office_hours_text(self) -> str:
        """Office hours in words, e.g. 'Monday to Friday, 9am to 5pm'."""
        groups: list[tuple[list[str], tuple[HoursSpan, ...]]] = []
        for day in WEEKDAYS:
            spans = tuple(self.office_hours.get(day, []))
            if not spans:
                continue
            if groups and groups[-1][1] == spans and _follows(groups[-1][0][-1], day):
                groups[-1][0].append(day)
            else:
                groups.append(([day], spans))
        parts = []
        for days, spans in groups:
            label = days[0].title() if len(days) == 1 else f"{days[0].title()} to {days[-1].title()}"
            hours = " and ".join(f"{_clock(s.opens)} to {_clock(s.closes)}" for s in spans)
            parts.append(f"{label}, {hours}")
        return "; ".join(parts) if parts else "no regular office hours"

    def may_message(self, now: datetime) -> bool:
        """Whether a routine message (a check-in, a reminder) may go out at ``now``."""
        return self.contact_hours.contains(self.local(now).time())

    def next_contact_time(self, moment: datetime) -> datetime:
        """``moment`` if within contact hours, else the next opening of contact hours (aware, UTC)."""
        local = self.local(moment)
        start, end = self.contact_hours.opens, self.contact_hours.closes
        if local.time() < start:
            day = local.date()
        elif local.time() >= end:
            day = local.date() + timedelta(days=1)
        else:
            return moment.astimezone(ZoneInfo("UTC"))
        return datetime.combine(day, start, tzinfo=self.zone).astimezone(ZoneInfo("UTC"))


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")


def _follows(previous: str, day: str) -> bool:
    return WEEKDAYS.index(day) == WEEKDAYS.index(previous) + 1


def _clock(moment: time) -> str:
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def load_clinic(text: str, *, source: str) -> Clinic:
    """Parse and validate a clinic file's text. Raises flows.yamlsource.DataError naming source and line."""
    return load_model(Clinic, text, source=source)
