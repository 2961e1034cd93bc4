"""Body temperature as patients type it, read as °C to one decimal place, plus "I feel hot or shivery".

Accepted: "38.2", "38,2", "39.1°C", "39.1 C", "38.5 degrees", "101F", "101 f", "100.4", "thirty eight point
four", "thirty-eight", "38 point 2", "a hundred and one" (°F), with the thermometer named ("ear thermometer
says 38.2", "37.5 with the forehead one"). The NHS says someone who feels hot or shivery may have a fever
whatever the thermometer says, so a feverish feeling is reported even with a number ("37.2 and shivering" ->
37.2, feels_feverish=True) and on its own (celsius=None, feels_feverish=True). Safety rules, which the tests
pin down:
- No unit: above 45 is Fahrenheit ("101" -> 38.3 °C), otherwise Celsius; explicit C or F wins.
- Only 34.0-43.0 °C (after conversion) is a body temperature; anything else is refused.
- "No thermometer", "didn't check", "don't know", or "no fever" with no number: refused as
  temperature.no_reading, so the bot asks whether they feel hot or shivery (never read as "no fever").
- Feverish words (hot, shivery, shaking, shivers, rigors, sweats, chills, "burning up", "feel freezing") count
  only when not negated in their clause ("not hot but shivery" -> feverish). "Hot flushes", "hot water bottle"
  and the like are not fever words.
- A reading is taken as read, even after paracetamol: grading is not the parser's job.
- A range takes the higher end; several readings ("38.4 before paracetamol, 37.5 now"), "over 38" or "under
  37" are refused: the later one may be paracetamol hiding a fever. Clock times and hours ("38.2 at 9") are
  not readings.
Must not: import anything outside the standard library and this package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from flows.parsers.numerals import (
    find_numbers,
    says_less_than,
    says_more_than,
    spell_digits,
    strip_at_hours,
    strip_clock_times,
    strip_durations,
)
from flows.parsers.result import Parsed, read, unreadable
from flows.parsers.text import normalise, phrases, without_apostrophes


@dataclass(frozen=True, kw_only=True)
class TemperatureReading:
    celsius: float | None  # one decimal; None if the patient only said how they feel
    feels_feverish: bool = False  # hot, shivery, burning up, chills: NHS says treat as a possible fever


_LOWEST, _HIGHEST, _FAHRENHEIT_ABOVE = Decimal("34.0"), Decimal("43.0"), Decimal(45)
_FEVERISH = re.compile(
    phrases(
        r"shiver\w*", r"feverish", r"fevers?", r"fevery", r"(?:the\s+)?chills", r"chilled\s+to\s+the\s+bone",
        r"rigou?rs?", r"burning\s+up", r"shak(?:ing|es|y)", r"(?:the\s+)?shakes", r"shuddering",
        r"(?:boiling|roasting)(?!\s+(?:the\s+|a\s+|an\s+|some\s+)?(?:kettle|water|eggs?|pan|pot|chicken|joint))",
        r"(?:feel|feels|feeling|felt|am|im)\s+(?:so\s+|really\s+|very\s+)?(?:cold|freezing|boiling|roasting)",
        r"sweaty", r"sweating", r"sweats", r"clammy", r"teeth\s+chattering",
        r"chattering\s+teeth", r"flu[\s-]*like", r"fluey",
        r"hot(?!\s+(?:water|drink|tea|coffee|bath|shower|weather|day|today|outside|flush\w*|flash\w*|pack|food"
        r"|meal|chocolate|sweats?))",
        r"(?:have|got|running|had|with|has)\s+(?:a\s+)?(?:bit\s+of\s+a\s+|slight\s+|high\s+|little\s+|raised\s+)?"
        r"temp(?:erature)?(?!\s*(?:of|is|was|at|reading|=|:|[0-9]))",
        r"(?:high|raised)\s+temp(?:erature)?",
    )
)  # fmt: skip
_CLAUSE = re.compile(r"[,.;!?]|(?<![\w'])(?:but|and|though|although|however|yet|except|whereas)(?![\w'])")
_NEGATION = re.compile(
    phrases("no", "not", "never", "without", "dont", "didnt", "doesnt", "isnt", "arent", "havent", "hasnt",
            "wasnt", "nor", "neither", "cant", r"do\s+not", r"did\s+not", r"have\s+not")
)  # fmt: skip
_NO_READING = re.compile(
    phrases(r"no\s+thermometer", r"(?:dont|do\s+not|havent|have\s+not|not)\s+(?:got|have)\s+(?:a\s+|one|any)",
            r"(?:didnt|did\s+not|havent|have\s+not|not|cant|cannot|unable\s+to|forgot\s+to)\s+"
            r"(?:check(?:ed)?|taken?|measured?|test(?:ed)?|find)", "forgot", r"(?:dont|do\s+not)\s+know",
            "dunno", r"no\s+idea", r"not\s+sure", r"cant\s+remember",
            r"no\s+(?:high\s+)?temp(?:erature)?")
)  # fmt: skip
# "The ear one", "the forehead one": a thermometer, not the number 1.
_WHICH_ONE = re.compile(
    r"(?<![\w'])(?:the|this|that|other|ear|forehead|head|digital|new|old|mouth|oral|armpit|infrared|strip"
    r"|contactless|electronic|glass|proper|good|usual|hospital|kids|childrens|babys)\s+one(?![\w'])"
)
_CELSIUS = re.compile(r"\s*(?:°|degrees?|deg)?\s*(?:c|celsius|centigrade|celcius)(?![a-z])")
_FAHRENHEIT = re.compile(r"\s*(?:°|degrees?|deg)?\s*(?:f|fahrenheit|farenheit|fahrenheight)(?![a-z])")


def parse_temperature(text: str) -> Parsed[TemperatureReading]:
    """A temperature in °C (one decimal), a feverish feeling, or both; or why it cannot be read."""
    s = normalise(text)
    if not s:
        return unreadable("answer.empty")
    s = spell_digits(_WHICH_ONE.sub(" thermometer ", without_apostrophes(s)))
    feverish, denied = _feverish(s)
    s, saw_time = strip_clock_times(s)
    s, saw_hour = strip_at_hours(strip_durations(s))
    found = find_numbers(s)
    if found.garbled:
        return unreadable("temperature.several_numbers")
    if not found.numbers:
        if feverish:
            return read(TemperatureReading(celsius=None, feels_feverish=True))
        if saw_time or saw_hour:
            return unreadable("temperature.looks_like_time")
        if denied or _NO_READING.search(s):
            return unreadable("temperature.no_reading")
        return unreadable("temperature.no_number")
    if says_more_than(s) or says_less_than(s):
        return unreadable("temperature.not_exact")
    if len({(n.low, n.high) for n in found.numbers}) > 1:
        return unreadable("temperature.several_numbers")
    number = found.numbers[0]
    if number.negative:
        return unreadable("temperature.out_of_range")
    if number.time_like and not _LOWEST <= number.high <= _HIGHEST:
        return unreadable("temperature.looks_like_time")
    after = s[number.end :]
    fahrenheit = (
        _FAHRENHEIT.match(after) is not None
        or (_CELSIUS.match(after) is None and number.high > _FAHRENHEIT_ABOVE)
    )  # fmt: skip
    low, high = (_celsius(v, fahrenheit=fahrenheit) for v in (number.low, number.high))
    if not (low >= _LOWEST and high <= _HIGHEST):
        return unreadable("temperature.out_of_range")
    return read(TemperatureReading(celsius=float(high), feels_feverish=feverish))


def _feverish(s: str) -> tuple[bool, bool]:
    """(feels feverish, denied feeling feverish), clause by clause: "not hot but shivery" is feverish."""
    feverish = denied = False
    for clause in _CLAUSE.split(s):
        for match in _FEVERISH.finditer(clause):
            if _NEGATION.search(clause, 0, match.start()):
                denied = True
            else:
                feverish = True
    return feverish, denied


def _celsius(value: Decimal, *, fahrenheit: bool) -> Decimal:
    if value >= 1_000_000:  # no thermometer reading; quantize would overflow the decimal context
        return value
    if fahrenheit:
        value = (value - 32) * 5 / 9
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
