"""A patient's schedule: the clinic's wall clock, contact hours, clock changes, what applies to whom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flows.catalogue import ResolvedProtocol
from flows.clinic import Clinic
from flows.schedule import Patient, day_of, plan


def _local_times(clinic: Clinic, planned: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {p.checkin_id: clinic.local(p.due_at).strftime("%Y-%m-%d %H:%M %Z") for p in planned}


def test_morning_check_ins_stay_at_ten_across_the_autumn_clock_change(
    sij: ResolvedProtocol, clinic: Clinic
) -> None:
    # Procedure on Friday 23 October 2026; clocks go back on Sunday 25 October.
    performed = datetime(2026, 10, 23, 13, 0, tzinfo=UTC)  # 14:00 BST
    times = _local_times(
        clinic, plan(sij, performed_at=performed, clinic=clinic, patient=Patient(diabetic=False))
    )
    assert times["day1.morning"] == "2026-10-24 10:00 BST"
    assert times["day3.morning"] == "2026-10-26 10:00 GMT"
    assert times["day7"] == "2026-10-30 10:00 GMT"


def test_morning_check_ins_stay_at_ten_across_the_spring_clock_change(
    sij: ResolvedProtocol, clinic: Clinic
) -> None:
    performed = datetime(2026, 3, 27, 14, 30, tzinfo=UTC)  # Friday; clocks go forward on Sunday 29 March
    times = _local_times(
        clinic, plan(sij, performed_at=performed, clinic=clinic, patient=Patient(diabetic=False))
    )
    assert times["day2.morning"] == "2026-03-29 10:00 BST"
    assert times["day1.morning"] == "2026-03-28 10:00 GMT"


def test_day0_evening_check_in_is_kept_on_the_same_evening_after_a_late_procedure(
    sij: ResolvedProtocol, clinic: Clinic
) -> None:
    performed = datetime(2026, 10, 20, 15, 0, tzinfo=UTC)  # 16:00 BST; +5 h is after contact hours
    times = _local_times(
        clinic, plan(sij, performed_at=performed, clinic=clinic, patient=Patient(diabetic=True))
    )
    assert times["day0.evening"] == "2026-10-20 19:30 BST"


def test_day0_evening_check_in_is_skipped_when_too_soon_after_the_procedure(
    sij: ResolvedProtocol, clinic: Clinic
) -> None:
    performed = datetime(2026, 10, 20, 17, 45, tzinfo=UTC)  # 18:45 BST: 19:30 is under 2 hours later
    planned = plan(sij, performed_at=performed, clinic=clinic, patient=Patient(diabetic=False))
    assert "day0.evening" not in {p.checkin_id for p in planned}


def test_every_check_in_falls_within_contact_hours(
    protocols: dict[str, ResolvedProtocol], clinic: Clinic
) -> None:
    start = datetime(2026, 3, 20, 7, 0, tzinfo=UTC)
    for protocol in protocols.values():
        for hours in range(0, 24 * 9, 5):
            performed = start + timedelta(hours=hours)
            for planned in plan(
                protocol, performed_at=performed, clinic=clinic, patient=Patient(diabetic=True)
            ):
                assert clinic.may_message(planned.due_at), (protocol.id, performed, planned)
                assert planned.due_at > performed


def test_evening_glucose_check_ins_are_only_for_people_with_diabetes(
    sij: ResolvedProtocol, clinic: Clinic
) -> None:
    performed = datetime(2026, 5, 5, 10, 0, tzinfo=UTC)
    without = {
        p.checkin_id
        for p in plan(sij, performed_at=performed, clinic=clinic, patient=Patient(diabetic=False))
    }
    with_diabetes = {
        p.checkin_id for p in plan(sij, performed_at=performed, clinic=clinic, patient=Patient(diabetic=True))
    }
    assert "day1.evening" in with_diabetes
    assert "day1.evening" not in without
    assert with_diabetes - without == {"day1.evening", "day2.evening"}


def test_mbb_diary_entries_outside_contact_hours_are_skipped_not_moved(
    protocols: dict[str, ResolvedProtocol], clinic: Clinic
) -> None:
    mbb = protocols["medial-branch-block"]
    performed = datetime(2026, 5, 5, 16, 0, tzinfo=UTC)  # 17:00 BST: hours 1-2 fit, 3-4 are past 20:00
    ids = [
        p.checkin_id
        for p in plan(mbb, performed_at=performed, clinic=clinic, patient=Patient(diabetic=False))
    ]
    assert ids[:3] == ["day0.hour1", "day0.hour2", "day0.hour6"]
    assert "day0.hour3" not in ids


def test_day_of_counts_calendar_days_in_the_clinic_zone(clinic: Clinic) -> None:
    performed = datetime(2026, 6, 1, 22, 30, tzinfo=UTC)  # 23:30 BST on 1 June
    assert day_of(datetime(2026, 6, 1, 23, 30, tzinfo=UTC), performed_at=performed, clinic=clinic) == 1
    assert day_of(datetime(2026, 6, 1, 22, 45, tzinfo=UTC), performed_at=performed, clinic=clinic) == 0
