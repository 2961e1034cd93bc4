"""Times and schedules in words a patient reads easily: "tomorrow at 10am", "on Friday 27 November at 6pm"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flows.clinic import Clinic


def clock(moment: datetime, clinic: Clinic) -> str:
    local = clinic.local(moment)
    hour = local.hour % 12 or 12
    suffix = "am" if local.hour < 12 else "pm"
    return f"{hour}{suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d}{suffix}"


def when(moment: datetime, *, clinic: Clinic, now: datetime) -> str:
    """Relative to today on the clinic's calendar."""
    days = (clinic.local(moment).date() - clinic.local(now).date()).days
    at = clock(moment, clinic)
    if days == 0:
        return f"today at {at}"
    if days == 1:
        return f"tomorrow at {at}"
    return f"on {clinic.local(moment):%A %-d %B} at {at}"


def date_words(moment: datetime, clinic: Clinic) -> str:
    return f"{clinic.local(moment):%A %-d %B}"


def days_words(days: Sequence[int]) -> str:
    """[0, 1, 2, 7, 14] -> "the day of your injection, then days 1, 2, 7 and 14"."""
    unique = sorted(set(days))
    later = [str(d) for d in unique if d > 0]
    parts = []
    if 0 in unique:
        parts.append("the day of your injection")
    if later:
        listed = later[0] if len(later) == 1 else ", ".join(later[:-1]) + " and " + later[-1]
        parts.append(("then days " if parts else "days ") + listed + " after it")
    return ", ".join(parts)


def usual_time(moments: Sequence[datetime], clinic: Clinic) -> str:
    """The most common clock time of the check-ins, e.g. "10am"."""
    if not moments:
        return "in the day"
    times = [clock(m, clinic) for m in moments]
    return max(set(times), key=times.count)
