"""Escalation targets in working time: office hours only, weekends and bank holidays skipped, DST-safe.

The demo clinic answers its phone Monday to Friday, 09:00-17:00 Europe/London; red = 1 working hour,
amber = 8 working hours.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.clinic import Clinic
from flows.levels import Level
from flows.targets import acknowledgement_clock, add_working_time, target_for, working_time_between

LONDON = ZoneInfo("Europe/London")
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A moment on the clinic's wall clock, as an aware datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def test_a_red_flag_raised_mid_morning_is_due_an_hour_later(clinic: Clinic) -> None:
    raised = at(2026, 11, 24, 10)  # a Tuesday
    clock = acknowledgement_clock(clinic, level=Level.RED, raised_at=raised, now=raised + 30 * MINUTE)
    assert clock is not None
    assert clock.target == HOUR
    assert clock.elapsed == 30 * MINUTE and clock.remaining == 30 * MINUTE
    assert clock.due_at == at(2026, 11, 24, 11) and not clock.overdue


def test_an_unacknowledged_red_flag_becomes_overdue(clinic: Clinic) -> None:
    raised = at(2026, 11, 23, 9)
    clock = acknowledgement_clock(clinic, level=Level.RED, raised_at=raised, now=at(2026, 11, 23, 10, 30))
    assert clock is not None
    assert clock.overdue and clock.remaining == -30 * MINUTE


def test_the_clock_stops_at_acknowledgement(clinic: Clinic) -> None:
    raised = at(2026, 11, 23, 9)
    clock = acknowledgement_clock(
        clinic,
        level=Level.RED,
        raised_at=raised,
        now=at(2026, 11, 23, 16),
        acknowledged_at=raised + 20 * MINUTE,
    )
    assert clock is not None
    assert clock.elapsed == 20 * MINUTE and not clock.overdue


def test_a_red_flag_on_friday_evening_is_due_on_monday_morning(clinic: Clinic) -> None:
    raised = at(2026, 11, 27, 18)  # Friday, after closing
    saturday = at(2026, 11, 28, 12)
    clock = acknowledgement_clock(clinic, level=Level.RED, raised_at=raised, now=saturday)
    assert clock is not None
    assert clock.elapsed == timedelta(0) and not clock.overdue
    assert clock.due_at == at(2026, 11, 30, 10)


def test_the_last_half_hour_of_friday_counts_and_the_rest_carries_over(clinic: Clinic) -> None:
    raised = at(2026, 11, 27, 16, 30)
    assert add_working_time(clinic, raised, HOUR) == at(2026, 11, 30, 9, 30)
    assert working_time_between(clinic, raised, at(2026, 11, 30, 9, 10)) == 40 * MINUTE


def test_bank_holidays_are_not_working_time(clinic: Clinic) -> None:
    # Thursday 24 December 2026; Friday 25th and Monday 28th are bank holidays in the clinic file.
    raised = at(2026, 12, 24, 16, 30)
    assert add_working_time(clinic, raised, HOUR) == at(2026, 12, 29, 9, 30)


def test_amber_allows_a_working_day(clinic: Clinic) -> None:
    raised = at(2026, 11, 23, 12)
    assert target_for(clinic, Level.AMBER) == 8 * HOUR
    clock = acknowledgement_clock(clinic, level=Level.AMBER, raised_at=raised, now=at(2026, 11, 24, 11))
    assert clock is not None
    assert clock.due_at == at(2026, 11, 24, 12)
    assert clock.remaining == HOUR and not clock.overdue


def test_green_has_no_target(clinic: Clinic) -> None:
    now = at(2026, 11, 23, 12)
    assert acknowledgement_clock(clinic, level=Level.GREEN, raised_at=now, now=now) is None


def test_the_spring_clock_change_does_not_shift_the_target(clinic: Clinic) -> None:
    # Clocks go forward on Sunday 29 March 2026: Friday is GMT, Monday is BST.
    raised = at(2026, 3, 27, 16, 30)
    due = add_working_time(clinic, raised, HOUR)
    assert due == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)  # 09:30 BST
    assert working_time_between(clinic, raised, due) == HOUR


def test_a_clinic_without_office_hours_counts_every_hour(clinic: Clinic) -> None:
    always = clinic.model_copy(update={"office_hours": {}})
    raised = at(2026, 11, 28, 23)  # a Saturday night
    clock = acknowledgement_clock(always, level=Level.RED, raised_at=raised, now=raised + 2 * HOUR)
    assert clock is not None
    assert clock.overdue and clock.due_at == raised + HOUR


def test_time_running_backwards_counts_as_none(clinic: Clinic) -> None:
    later = at(2026, 11, 23, 12)
    assert working_time_between(clinic, later, later - HOUR) == timedelta(0)


def test_naive_times_are_refused(clinic: Clinic) -> None:
    with pytest.raises(ValueError, match="aware"):
        working_time_between(clinic, datetime(2026, 11, 23, 9), at(2026, 11, 23, 10))


@given(
    start_minutes=st.integers(min_value=0, max_value=60 * 24 * 365),
    amount_minutes=st.integers(min_value=0, max_value=60 * 40),
)
def test_adding_working_time_and_measuring_it_agree(
    clinic: Clinic, start_minutes: int, amount_minutes: int
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + start_minutes * MINUTE
    due = add_working_time(clinic, start, amount_minutes * MINUTE)
    assert due is not None
    assert working_time_between(clinic, start, due) == amount_minutes * MINUTE
