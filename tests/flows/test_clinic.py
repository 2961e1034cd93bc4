"""The clinic file: office hours (is the phone answered?), contact hours (may we message?), validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.clinic import Clinic, load_clinic
from flows.yamlsource import DataError


def test_demo_clinic_is_the_plymouth_pain_clinic_from_the_leaflet(clinic: Clinic) -> None:
    assert clinic.name == "University Hospitals Plymouth Pain Clinic"
    assert clinic.phone == "01752 437706"
    assert clinic.emergency_department == "Derriford Emergency Department"
    assert clinic.timezone == "Europe/London"


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (datetime(2026, 11, 23, 9, 30, tzinfo=UTC), True),  # Monday 09:30 GMT
        (datetime(2026, 11, 23, 8, 59, tzinfo=UTC), False),  # Monday before opening
        (datetime(2026, 11, 23, 17, 0, tzinfo=UTC), False),  # closing time is closed
        (datetime(2026, 11, 21, 11, 0, tzinfo=UTC), False),  # Saturday
        (datetime(2026, 12, 25, 11, 0, tzinfo=UTC), False),  # Christmas Day, a Friday
        (datetime(2026, 7, 6, 8, 30, tzinfo=UTC), True),  # Monday 09:30 BST is 08:30 UTC
        (datetime(2026, 7, 6, 16, 30, tzinfo=UTC), False),  # 17:30 BST
    ],
)
def test_office_hours_follow_the_clinic_wall_clock(clinic: Clinic, moment: datetime, is_open: bool) -> None:
    assert clinic.is_open(moment) is is_open


def test_office_hours_in_words(clinic: Clinic) -> None:
    assert clinic.office_hours_text() == "Monday to Friday, 9am to 5pm"


def test_next_contact_time_moves_late_evening_to_next_morning(clinic: Clinic) -> None:
    late = datetime(2026, 7, 6, 20, 30, tzinfo=UTC)  # 21:30 BST
    assert clinic.next_contact_time(late) == datetime(2026, 7, 7, 7, 0, tzinfo=UTC)  # 08:00 BST
    early = datetime(2026, 1, 6, 6, 0, tzinfo=UTC)  # 06:00 GMT
    assert clinic.next_contact_time(early) == datetime(2026, 1, 6, 8, 0, tzinfo=UTC)
    inside = datetime(2026, 1, 6, 12, 0, tzinfo=UTC)
    assert clinic.next_contact_time(inside) == inside


def test_naive_times_are_refused(clinic: Clinic) -> None:
    with pytest.raises(ValueError, match="aware"):
        clinic.is_open(datetime(2026, 1, 6, 12, 0))


GOOD = """
id: test-clinic
name: Test Pain Clinic
short_name: the clinic
phone: "01234 567890"
emergency_department: Test ED
timezone: Europe/London
office_hours:
  monday: [{opens: "09:00", closes: "17:00"}]
contact_hours: {opens: "08:00", closes: "20:00"}
"""


def test_a_good_clinic_file_loads() -> None:
    assert load_clinic(GOOD, source="good.yaml").id == "test-clinic"


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        (("timezone: Europe/London", "timezone: Europe/Plymouth"), 7, "unknown time zone"),
        (("monday:", "moonday:"), 9, "unknown weekday"),
        (('closes: "17:00"', 'closes: "08:00"'), 9, "must be before"),
        (('phone: "01234 567890"', "phone: call us"), 5, "phone"),
    ],
)
def test_a_bad_clinic_file_names_the_file_line_and_problem(
    change: tuple[str, str], line: int, message: str
) -> None:
    with pytest.raises(DataError) as caught:
        load_clinic(GOOD.replace(*change), source="bad.yaml")
    text = str(caught.value)
    assert f"bad.yaml:{line}" in text
    assert message in text or "string" in text
