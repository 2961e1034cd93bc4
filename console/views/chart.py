"""The pain-score chart: pain answers (question "pain.now", value 0-10) over days since the procedure.

Only geometry is computed here (pure); the template draws it as inline SVG with presentation attributes
(no inline style: the CSP forbids it), with a table of the same numbers for screen readers and print.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from flows.levels import Level
from storage.models import Answer

PAIN_QUESTION = "pain.now"
WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 14, 36  # margins for the axis labels


@dataclass(frozen=True, kw_only=True)
class ChartPoint:
    x: float
    y: float
    score: float
    days: float  # since the procedure, fractional
    level: Level
    answered_at: datetime


@dataclass(frozen=True, kw_only=True)
class PainChart:
    width: int
    height: int
    left: int
    top: int
    right: int  # x of the plot's right edge
    bottom: int  # y of the plot's bottom edge
    points: list[ChartPoint]
    path: str
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    span_days: int


def pain_score(answer: Answer) -> float | None:
    """The 0-10 score of a pain answer, or None if it holds none (e.g. an unreadable reply)."""
    if answer.question_id != PAIN_QUESTION or not answer.value_json:
        return None
    try:
        value = json.loads(answer.value_json).get("value")
    except (ValueError, AttributeError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 10:
        return None
    return float(value)


def pain_chart(
    answers: Sequence[Answer], *, performed_at: datetime, min_span_days: int = 7
) -> PainChart | None:
    """None when there is no pain score yet."""
    scored = [(answer, score) for answer in answers if (score := pain_score(answer)) is not None]
    if not scored:
        return None
    day = timedelta(days=1)
    days = [max((answer.answered_at - performed_at) / day, 0.0) for answer, _ in scored]
    span = max(min_span_days, math.ceil(max(days)) or 1)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM

    def x_of(value: float) -> float:
        return round(LEFT + (right - LEFT) * value / span, 1)

    def y_of(score: float) -> float:
        return round(bottom - (bottom - TOP) * score / 10, 1)

    points = [
        ChartPoint(
            x=x_of(d), y=y_of(score), score=score, days=d, level=answer.level, answered_at=answer.answered_at
        )
        for (answer, score), d in sorted(zip(scored, days, strict=True), key=lambda pair: pair[1])
    ]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    step = 1 if span <= 14 else 7
    x_ticks = [(x_of(d), str(d)) for d in range(0, span + 1, step)]
    y_ticks = [(y_of(s), str(s)) for s in range(0, 11, 2)]
    return PainChart(
        width=WIDTH,
        height=HEIGHT,
        left=LEFT,
        top=TOP,
        right=right,
        bottom=bottom,
        points=points,
        path=path,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        span_days=span,
    )
