"""How long an escalation has waited in working time, and how much of its acknowledgement target is left.

The clinic's targets (`escalation_targets` in the clinic file) count office hours only: a red flag raised
at 18:00 on a Friday is due for acknowledgement by 10:00 on Monday, not by 19:00 that Friday. Working time
is the clinic's office hours on its wall clock, less closed dates, so it is DST-safe (each span is turned
into real instants with zoneinfo). A clinic with no office hours at all counts every hour, so a target can
never silently stop running. Pure: ``now`` is passed in, aware; no clock, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from flows.clinic import WEEKDAYS, Clinic
from flows.levels import Level

# How far ahead to look for enough office hours (a long closure plus weekends stays well inside this).
SEARCH_DAYS = 400


@dataclass(frozen=True, kw_only=True)
class TargetClock:
    """An escalation's acknowledgement target at one moment."""

    target: timedelta  # working time allowed before acknowledgement
    elapsed: timedelta  # working time since it was raised (up to `now`, or to its acknowledgement)
    remaining: timedelta  # target - elapsed; negative once overdue
    due_at: datetime | None  # the instant the target runs out (UTC); None if no office hours come
    overdue: bool


def target_for(clinic: Clinic, level: Level) -> timedelta | None:
    """The working time allowed to acknowledge an escalation of this level; None for green (no target)."""
    targets = clinic.escalation_targets
    if level is Level.RED:
        return timedelta(hours=targets.red_working_hours)
    if level is Level.AMBER:
        return timedelta(hours=targets.amber_working_hours)
    return None


def working_time_between(clinic: Clinic, start: datetime, end: datetime) -> timedelta:
    """Office time (phone answered) between two instants; zero if `end` is not after `start`."""
    _require_aware(start, end)
    if end <= start:
        return timedelta(0)
    if not _has_office_hours(clinic):
        return end - start
    total = timedelta(0)
    day = clinic.local(start).date()
    last = clinic.local(end).date()
    while day <= last:
        for opens, closes in _spans(clinic, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def add_working_time(clinic: Clinic, start: datetime, amount: timedelta) -> datetime | None:
    """The instant at which `amount` of office time has passed since `start` (UTC); None when the clinic
    has no office hours in the next SEARCH_DAYS days."""
    _require_aware(start)
    if amount <= timedelta(0):
        return start.astimezone(UTC)
    if not _has_office_hours(clinic):
        return (start + amount).astimezone(UTC)
    left = amount
    day = clinic.local(start).date()
    for _ in range(SEARCH_DAYS):
        for opens, closes in _spans(clinic, day):
            begin = max(opens, start)
            if closes <= begin:
                continue
            if closes - begin >= left:
                return (begin + left).astimezone(UTC)
            left -= closes - begin
        day += timedelta(days=1)
    return None


def acknowledgement_clock(
    clinic: Clinic,
    *,
    level: Level,
    raised_at: datetime,
    now: datetime,
    acknowledged_at: datetime | None = None,
) -> TargetClock | None:
    """The target clock of an escalation; it stops when the escalation is acknowledged. None for green."""
    target = target_for(clinic, level)
    if target is None:
        return None
    stop = acknowledged_at if acknowledged_at is not None else now
    elapsed = working_time_between(clinic, raised_at, stop)
    remaining = target - elapsed
    return TargetClock(
        target=target,
        elapsed=elapsed,
        remaining=remaining,
        due_at=add_working_time(clinic, raised_at, target),
        overdue=remaining < timedelta(0),
    )


def _spans(clinic: Clinic, day: date) -> list[tuple[datetime, datetime]]:
    """The office-hours spans of one local date as aware instants (none on a closed date)."""
    if day in clinic.closed_dates:
        return []
    spans = clinic.office_hours.get(WEEKDAYS[day.weekday()], [])
    return [
        (
            datetime.combine(day, span.opens, tzinfo=clinic.zone).astimezone(UTC),
            datetime.combine(day, span.closes, tzinfo=clinic.zone).astimezone(UTC),
        )
        for span in sorted(spans, key=lambda span: span.opens)
    ]


def _has_office_hours(clinic: Clinic) -> bool:
    return any(clinic.office_hours.get(day) for day in WEEKDAYS)


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("datetimes must be timezone-aware")
