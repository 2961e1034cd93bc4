"""What the pages are built from: the pain chart's geometry, durations and times in words, the slip's QR."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import qrcode
import qrcode.constants

from console.formatting import duration, local_time
from console.settings import ConsoleSettings
from console.views.chart import pain_chart, pain_score
from console.views.slip import invite_link, qr_svg
from flows.levels import Level
from storage.models import Answer

PERFORMED = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _answer(value: object, hours: float, question_id: str = "pain.now") -> Answer:
    return Answer(
        episode_id=1,
        question_id=question_id,
        text=str(value),
        value_json=json.dumps({"value": value}),
        level=Level.AMBER if value == 9 else Level.GREEN,
        answered_at=PERFORMED + timedelta(hours=hours),
    )


def test_only_readable_pain_scores_are_charted() -> None:
    assert pain_score(_answer(7, 1)) == 7.0
    assert pain_score(_answer(7, 1, question_id="relief.percent")) is None
    assert pain_score(_answer(11, 1)) is None and pain_score(_answer("seven", 1)) is None
    assert pain_score(_answer(True, 1)) is None
    assert pain_chart([_answer("x", 1)], performed_at=PERFORMED) is None


def test_the_chart_runs_left_to_right_in_days_and_higher_pain_is_higher_up() -> None:
    chart = pain_chart([_answer(3, 72), _answer(9, 24), _answer(0, 48)], performed_at=PERFORMED)
    assert chart is not None
    assert [p.score for p in chart.points] == [9, 0, 3]  # in time order
    assert [round(p.days) for p in chart.points] == [1, 2, 3]
    xs, ys = [p.x for p in chart.points], [p.y for p in chart.points]
    assert xs == sorted(xs) and ys[0] < ys[2] < ys[1]  # SVG y grows downwards
    assert chart.points[1].y == chart.bottom and chart.span_days == 7
    assert chart.path.startswith("M") and chart.path.count("L") == 2
    assert chart.points[0].level is Level.AMBER


def test_a_long_course_widens_the_chart_and_thins_the_ticks() -> None:
    chart = pain_chart([_answer(4, 24 * 40)], performed_at=PERFORMED)
    assert chart is not None and chart.span_days == 40
    assert [label for _, label in chart.x_ticks] == ["0", "7", "14", "21", "28", "35"]


def test_durations_and_times_read_naturally() -> None:
    assert duration(timedelta(minutes=5, seconds=59)) == "5 min"
    assert duration(timedelta(hours=2, minutes=5)) == "2 h 05 min"
    assert duration(-timedelta(minutes=30)) == "30 min"
    assert duration(timedelta(days=1, hours=3)) == "1 day 3 h" and duration(timedelta(days=2)) == "2 days"
    clinic = ConsoleSettings(_env_file=None).clinic  # type: ignore[call-arg]
    summer = datetime(2026, 7, 1, 8, 5, tzinfo=UTC)
    assert local_time(summer, clinic) == "Wed 1 Jul 2026, 09:05"  # BST
    assert local_time(summer, clinic, "time") == "09:05" and local_time(None, clinic) == ""


def test_the_qr_code_is_the_link_itself() -> None:
    link = invite_link("AftercareLocalBot", "abc_DEF-123")
    assert link == "https://t.me/AftercareLocalBot?start=abc_DEF-123"
    svg = str(qr_svg(link))
    assert svg.startswith('<svg class="qr" role="img"') and "style=" not in svg
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(link)
    code.make(fit=True)
    dark = {(x, y) for y, row in enumerate(code.get_matrix()) for x, on in enumerate(row) if on}
    drawn = {(int(x), int(y)) for x, y in re.findall(r"M(\d+),(\d+)H", svg)}  # one unit square per module
    assert drawn == dark
