"""Answers as elderly, in-pain patients type them on a phone: pain, glucose, temperature, yes/no, relief, PGIC
and choices, with typos, words, emoji and chatter.

Every parser takes any str and returns a ``Parsed``: a value, or ``problem``, a stable id whose kind re-ask
hint is ``PROBLEMS[problem]``. Safety first: an answer that could mean two things is unreadable, never a
guess. Each module's docstring lists its safety rules. Must not: do I/O, read the clock, log answers, or
import anything outside the standard library and flows.
"""

from __future__ import annotations

from flows.parsers.choice import parse_choice
from flows.parsers.glucose import GlucoseReading, parse_glucose
from flows.parsers.pgic import parse_pgic
from flows.parsers.problems import PROBLEMS
from flows.parsers.result import Parsed, T
from flows.parsers.scales import parse_pain, parse_percent
from flows.parsers.temperature import TemperatureReading, parse_temperature
from flows.parsers.yes_no import parse_yes_no

__all__ = [
    "PROBLEMS",
    "GlucoseReading",
    "Parsed",
    "T",
    "TemperatureReading",
    "parse_choice",
    "parse_glucose",
    "parse_pain",
    "parse_percent",
    "parse_pgic",
    "parse_temperature",
    "parse_yes_no",
]
