"""Blood glucose as patients type it, read as mmol/L to one decimal place.

Accepted: "12.4", "12,4", "12.4 mmol", "216 mg/dl" (÷ 18), ranges by their higher end ("8-10" -> 10.0), and
the meter's HI (33.3, beyond_meter="high") and LO (1.1, "low"). Safety rules, which the tests pin down:
- HI/LO: "HI" or "LO" in capitals (unless the whole message is in capitals), or the meter "says/shows/reads"
  hi or high. A bare "hi", "Hi" or "high" may be a greeting or just "it's high": refused with a hint that asks
  for "it says HI" or the number (a confirmed guess would still be a guess).
- No unit: up to 33.3 is mmol/L; 33.4-35 could be either, refused; a whole number above 35 is almost surely
  mg/dL and is converted but needs_confirmation; a decimal above 35 is refused.
- Not a reading, refused with its own id: clock times and hours ("7:30", "8pm", "will do at 9"; "8 at 8pm" is
  a reading of 8), HbA1c, insulin doses or any answer naming an insulin, ketones, percentages, "over 20", and
  the meter's error codes ("E-4", "Err 3", "E3", "error", "meter says E-4, new strips coming":
  glucose.meter_error). An error code beside a number ("E-4, then 7.2") is a second try: the number is read.
  An hour after "do it"/"checked it" is when, not a level ("not checked yet, will do it at 9":
  glucose.not_checked), and two decimals after "at" are a clock time ("did it at 7.30, 8.4" -> 8.4).
- A number that counts something is not a reading: "I had 1 biscuit" (not a hypo of 1.0), "2 slices of
  toast", "took 2 tablets", "ate 3", "checked it 3 times". With nothing else it is glucose.no_number, or
  glucose.not_checked when the patient says so ("not checked yet, will do at 9").
- "Just over 12" / "a bit over 12" reads 12.1, the lowest reading a meter could show above 12, so a rule for
  "above 12" still fires; "just under 4" reads 3.9, so a rule for "below 4" still fires. Plain "over 20" or
  "under 4" has no bound on the other side: refused as glucose.not_exact.
- A range that crosses 4.0 ("3-5") is refused: taking its higher end would hide a hypo.
- Several readings in one message: the latest is the reading and the others are kept as earlier readings, so
  "above 12 twice in 24 hours" sees them. The latest is the one marked "now" ("lunch 15.6 now 16.1" -> 16.1),
  else the last in the day when every one says when ("16.4 at lunch and 17.1 at tea" -> 17.1, yesterday's
  before today's), else the one not said as past ("was 13.5 at 5 o'clock and 12.8 at bedtime" -> 12.8), else
  the first, which is how people lead. Refused when any of them is below 4.0 or cannot be read: taking one
  could hide a hypo. Whole numbers above 35 with no unit, all of them, are mg/dL to be confirmed ("300 at
  teatime, 280 earlier" -> 16.7, needs_confirmation); mixed with mmol/L numbers they are refused.
- "8 something, 8.3" is one reading said twice, vaguely then exactly: 8.3 (not two readings).
- Dictation and spacing are read as the number they stand for (flows/parsers/numerals.py): "for point
  eight" -> 4.8, "3 . 6" -> 3.6, "the second high one" is no reading of 1.
- Below 1.0 or above 33.3 mmol/L (after conversion) is not a meter reading and is refused.
Must not: import anything outside the standard library and this package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from flows.parsers.numerals import (
    Number,
    find_numbers,
    says_less_than,
    says_more_than,
    spell_digits,
    strip_at_hours,
    strip_clock_times,
    strip_durations,
)
from flows.parsers.result import Parsed, read, unreadable
from flows.parsers.score_now import attach
from flows.parsers.text import normalise, phrases, without_apostrophes, words

MeterWord = Literal["high", "low"]


@dataclass(frozen=True, kw_only=True)
class GlucoseReading:
    mmol_per_l: float  # one decimal place
    beyond_meter: MeterWord | None = None  # the meter showed HI or LO
    from_mg_per_dl: bool = False
    earlier: tuple[float, ...] = ()  # other readings in the same message ("14.2, was 13.1 at lunch"), mmol/L


METER_HIGH = GlucoseReading(mmol_per_l=33.3, beyond_meter="high")
METER_LOW = GlucoseReading(mmol_per_l=1.1, beyond_meter="low")
_LOWEST, _HIGHEST, _HYPO = Decimal("1.0"), Decimal("33.3"), Decimal("4.0")
_MG_PER_DL_PER_MMOL = Decimal(18)

_CAPS_METER_WORD = re.compile(r"(?<![A-Za-z])(HI|LO)(?![A-Za-z])")
_SUBJECT = r"(?:it|its|meter|machine|monitor|screen|reading|display|libre|sensor|app|thing|mine|that|this)"
_METER_SAYS = re.compile(
    r"(?:^|(?<![\w'])" + _SUBJECT + r"(?:\s+(?:is|was|just|only|keeps|kept|has|had))*\s+)"
    r"(?:says|said|saying|shows|showed|showing|show|reads|read|reading|displays|displayed|displaying|gave|gives"
    r"|came\s+up|comes\s+up|coming\s+up)\s+(?:just\s+|only\s+)?(?P<word>hi|high|lo|low)(?![\w'])"
    r"|(?<![\w'])(?P<on>hi|lo)\s+on\s+(?:the\s+|my\s+)?(?:meter|machine|monitor|screen|display)"
    r"|(?<![\w'])too\s+(?P<too>high|low)\s+(?:to\s+read|for\s+the\s+meter|to\s+measure)"
)
_BARE_FILLERS = {
    "its", "it", "is", "was", "my", "the", "sugar", "sugars", "blood", "glucose", "level", "levels",
    "reading", "bm", "just",
}  # fmt: skip
_GREETING = re.compile(
    r"^(?:hi|hiya|hello|hey|morning|evening|afternoon|good\s+(?:morning|afternoon|evening))(?:\s+there)?"
    r"[\s,!.:-]+(?=\S)"
)
_HBA1C = re.compile(
    r"(?<![a-z])(?:hb\s*a1c|a1c|hb1ac|hbaic|hba1)(?![a-z])(?:\s*(?:is|was|of|at|=|:|-|reading|result|level))*"
    r"\s*(?:[0-9]+(?:[.,][0-9]+)?\s*(?:%|percent|mmols?\s*/\s*mol)?)?"
    r"|(?<![0-9.,])[0-9]+(?:[.,][0-9]+)?\s*mmols?\s*/\s*mol(?![a-z])"
)
_DOSE = re.compile(r"(?<![0-9.,])[0-9]+(?:[.,][0-9]+)?\s*(?:units?|iu|u)(?![a-z])")
_INSULIN = re.compile(
    phrases(
        "insulin", "novorapid", r"novo\s+rapid", "humalog", "lantus", "levemir", "tresiba", "toujeo",
        "fiasp", "apidra", "humulin", "abasaglar", "lyumjev", "semglee", "actrapid", "insulatard", "mixtard",
        "novomix", "admelog", "basaglar", "degludec", "glargine", "aspart", "lispro", "detemir",
    )
)  # fmt: skip
_KETONE_WORD = r"(?<![a-z])(?:ke+y?tones?|ketoness)(?![a-z])"
# "ketones 0.4" is removed before "0.4 ketones", so that "14 ketones 0.4" keeps the 14.
_KETONES_THEN_NUMBER = re.compile(
    _KETONE_WORD + r"(?:\s*(?:is|are|was|were|of|at|=|:|-|level|levels|reading))*\s*[0-9]+(?:[.,][0-9]+)?"
    r"(?:\s*mmol(?:\s*/\s*l)?)?"
)
_NUMBER_THEN_KETONES = re.compile(
    r"(?<![0-9.,])[0-9]+(?:[.,][0-9]+)?\s*(?:mmol(?:\s*/\s*l)?\s*)?(?:of\s+)?" + _KETONE_WORD
)
_KETONE = re.compile(_KETONE_WORD)
_PERCENTAGE = re.compile(r"(?<![0-9.,])[0-9]+(?:[.,][0-9]+)?\s*(?:%|percent|per\s*cent)")
_DIABETES_TYPE = re.compile(r"(?<![a-z])(?:type\s*[12]|t[12]d?m?|dm\s*[12])(?![a-z0-9])")
_NOT_CHECKED = re.compile(
    phrases(r"(?:didnt|did\s+not|havent|have\s+not|not|dont|do\s+not|cant|cannot|unable\s+to|forgot\s+to)\s+"
            r"(?:check(?:ed)?|test(?:ed)?|taken?|done|do\s+it|measured?|remember|know)",
            "forgot", r"no\s+(?:meter|strips|machine)", r"no\s+idea", "dunno", r"not\s+yet", r"not\s+sure",
            r"(?:ran|run|running)\s+out(?:\s+of\s+(?:test\s+)?(?:strips|sticks))?",
            r"(?:strips|sticks)\s+(?:have\s+|has\s+)?(?:ran|run)\s+out")
)  # fmt: skip
# A meter's error code: "E-4", "E3", "Err 3", "error 5". Not a reading, whatever its number.
_METER_ERROR = re.compile(
    r"(?<![a-z0-9.,])(?:e|err|error)(?:\s+code)?\s*[-:]?\s*[0-9]{1,3}(?![0-9]|[.,][0-9])"
    r"|(?<![a-z])(?:errors?|err)(?![a-z])"
)
# A number that counts something: "1 biscuit", "2 slices of toast", "took 2", "ate 3". "Had 12" may be a
# reading, so "had" counts only with a thing after the number.
_COUNTED = (
    r"biscuits?", r"slices?", r"pieces?", r"cups?", r"mugs?", r"glass(?:es)?", r"sweets?",
    r"jelly\s+bab(?:y|ies)", r"jelly\s+beans?", r"jellies", r"dextrose", r"lucozade", r"bottles?", r"cans?",
    r"cartons?", r"spoons?", r"spoonfuls?", r"teaspoons?", r"tsp", r"tablespoons?", r"sugars", r"lumps?",
    r"cubes?", r"meals?", r"snacks?", r"apples?", r"bananas?", r"oranges?", r"eggs?", r"sandwich(?:es)?",
    r"crackers?", r"chocolates?", r"bars?", r"rounds?", r"portions?", r"servings?", r"grapes?", r"toast",
    r"crumpets?", r"cakes?", r"buns?", r"scones?", r"cookies?", r"crisps", r"packets?", r"bags?",
    r"drinks?", r"pints?", r"coffees?", r"teas?", r"juices?", r"rolls?", r"potato(?:es)?", r"mouthfuls?",
    r"bites?", r"sips?", r"digestives?", r"hobnobs?", r"rich\s+teas?", r"metformin", r"gliclazide",
    r"sitagliptin", r"empagliflozin", r"dapagliflozin", r"canagliflozin", r"pioglitazone", r"glimepiride",
    r"puffs?", r"sachets?", r"injections?", r"jabs?", r"readings?", r"checks?", r"tests?", r"goes", r"tries",
    r"attempts?", r"pricks?", r"fingers?", r"strips?", r"lancets?", r"hypos?", r"steps", r"miles?",
)  # fmt: skip
_COUNTED_SIZES = (
    r"(?:small|big|large|little|more|extra|glucose|dextrose|plain|ginger|chocolate|custard|digestive|whole|half"
    r"|of|the|my|those|these)"
)
_COUNT = re.compile(
    r"(?<![0-9.,])[0-9]+\s*(?:x\s*)?(?:" + _COUNTED_SIZES + r"\s+){0,2}"
    r"(?:" + "|".join(_COUNTED) + r")(?![a-z])"
    r"|(?<![\w'])(?:took|taken|take|taking|ate|eaten|eat|eating|drank|drunk|drink|drinking|swallowed)"
    r"\s+(?:(?:another|about|around|like|only|just)\s+)?[0-9]+(?![0-9.,])(?!\s*(?:mmol|mg))"
)  # fmt: skip
# "Just over 12" -> 12.1 and "just under 4" -> 3.9: see the module docstring.
_NEARLY = (
    r"(?<![\w'])(?:only\s+)?(?:just|a\s+(?:little\s+|tiny\s+|wee\s+)?bit|a\s+little|a\s+touch|a\s+tad"
    r"|slightly|fractionally|marginally|barely)\s+"
)
_JUST_OVER = re.compile(_NEARLY + r"(?:over|above|more\s+than|higher\s+than|past)\s+(?:a\s+)?(?=[0-9])")
_JUST_UNDER = re.compile(
    _NEARLY + r"(?:under|below|less\s+than|lower\s+than|short\s+of)\s+(?:a\s+)?(?=[0-9])"
)
_TENTH = Decimal("0.1")
_MMOL = re.compile(r"(?<![a-z])mmols?(?:\s*/\s*l(?:itre|iter)?)?(?![a-z])")
_MG_PER_DL = re.compile(r"(?<![a-z])(?:mg\s*/?\s*dl|mgs?|milligrams?)(?![a-z])")


def parse_glucose(text: str) -> Parsed[GlucoseReading]:
    """A blood glucose reading in mmol/L (one decimal), or why it cannot be read safely."""
    cased = normalise(text, keep_case=True)
    if not cased:
        return unreadable("answer.empty")
    s = spell_digits(without_apostrophes(cased.lower()))
    meter = _meter_words(cased, s)
    s = _GREETING.sub("", s)
    s, saw_error = _METER_ERROR.subn(" | ", s)
    s, saw_hba1c = _HBA1C.subn(" | ", s)
    s, saw_dose = _DOSE.subn(" | ", s)
    s, ketones_first = _KETONES_THEN_NUMBER.subn(" | ", s)
    s, ketones_after = _NUMBER_THEN_KETONES.subn(" | ", s)
    saw_ketones = ketones_first + ketones_after
    s, saw_percent = _PERCENTAGE.subn(" | ", s)
    s = _DIABETES_TYPE.sub(" | ", s)
    s, saw_time = strip_clock_times(s)
    s, saw_hour = strip_at_hours(strip_durations(s))
    s = _COUNT.sub(" | ", s)
    s = _VAGUE.sub(lambda m: " | " if m.group(1) in _exact_whole_parts(s) else m.group(), s)
    s, above = _JUST_OVER.subn(" ", s)
    s, below = _JUST_UNDER.subn(" ", s)
    found = find_numbers(s)
    if found.garbled:
        return unreadable("glucose.several_numbers")
    if meter:
        if len(meter) > 1:
            return unreadable("glucose.meter_word_unclear")
        if found.numbers:
            return unreadable("glucose.meter_word_and_number")
        return read(METER_HIGH if meter == {"high"} else METER_LOW)
    if not found.numbers:
        return unreadable(_why_no_number(s, error=saw_error, hba1c=saw_hba1c, dose=saw_dose,
                                         ketones=saw_ketones, percent=saw_percent,
                                         time=saw_time or saw_hour))  # fmt: skip
    if _INSULIN.search(s):
        return unreadable("glucose.looks_like_insulin")  # "took 8 novorapid": a dose or a reading?
    if _KETONE.search(s):
        return unreadable("glucose.looks_like_ketones")
    if says_more_than(s) or says_less_than(s):
        return unreadable("glucose.not_exact")
    mmol, mg = _MMOL.search(s) is not None, _MG_PER_DL.search(s) is not None
    if mmol and mg:
        return unreadable("glucose.unclear_units")
    if len({(n.low, n.high) for n in found.numbers}) > 1:
        return _several(s, found.numbers, unit="mmol" if mmol else "mg" if mg else None, nudged=above + below)
    if above + below > 1 or ((above or below) and found.numbers[0].is_range):
        return unreadable("glucose.not_exact")
    nudge = _TENTH if above else -_TENTH if below else Decimal(0)
    return _reading(found.numbers[0], unit="mmol" if mmol else "mg" if mg else None, nudge=nudge)


# "8 something, 8.3": the same reading said twice, first vaguely. Without the exact one it is left as it was.
_VAGUE = re.compile(r"(?<![0-9.,])([0-9]+)\s*(?:something|somethin|summat|odd|point\s+something)(?![\w'])")
_EXACT = re.compile(r"(?<![0-9.,])([0-9]+)[.,][0-9](?![0-9]|[.,][0-9])")


def _exact_whole_parts(s: str) -> set[str]:
    return {m.group(1) for m in _EXACT.finditer(s)}


# Words that say when a reading was taken, for choosing among several (see ``_latest``).
_WHEN = {
    "now": phrases("now", r"(?:just|right)\s+now", "latest", r"last\s+(?:one|reading|check|test)",
                   r"at\s+the\s+moment", "currently", "atm", "rn", r"this\s+time"),
    "past": phrases("was", "were", "earlier", "before", "previously", r"at\s+first"),
    "yesterday": phrases(r"yesterdays?", r"last\s+night"),
    "1": phrases(r"(?:this|early|in\s+the)\s+morning", r"first\s+thing", "breakfast", "fasting", "waking",
                 r"when\s+i\s+woke(?:\s+up)?", r"got\s+up"),
    "2": phrases(r"mid[\s-]?morning", "elevenses"),
    "3": phrases(r"lunch(?:time)?", "midday", "noon"),
    "4": phrases(r"(?:mid[\s-]?|this\s+|in\s+the\s+)?afternoon"),
    "5": phrases(r"tea(?:time)?", r"(?:this\s+|in\s+the\s+)?evening"),
    "6": phrases("supper"),
    "7": phrases(r"bed(?:time)?", r"(?:at\s+)?night", "tonight", r"last\s+thing"),
}  # fmt: skip
_WHEN_PATTERNS = {name: re.compile(pattern) for name, pattern in _WHEN.items()}


def _several(
    s: str, numbers: tuple[Number, ...], *, unit: Literal["mmol", "mg"] | None, nudged: int
) -> Parsed[GlucoseReading]:
    """Several readings ("14.2, was 13.1 at lunch"): the latest (see ``_latest``), with the others kept as
    earlier readings (they count for "above 12 twice in 24 hours"). Refused when any is a hypo or unclear:
    taking one could hide the other. Whole numbers above 35 with no unit, all of them, are mg/dL to
    confirm."""
    readings = [_reading(n, unit=unit, nudge=Decimal(0)) for n in numbers]
    values = [r.value for r in readings]
    confirm = {r.needs_confirmation for r in readings}
    if nudged or any(v is None for v in values) or len(confirm) > 1:
        return unreadable("glucose.several_numbers")
    chosen = [v for v in values if v is not None]
    if any(Decimal(str(v.mmol_per_l)) < _HYPO for v in chosen):
        return unreadable("glucose.several_numbers")  # a hypo among them: which one is now must be asked
    now = _latest(s, numbers)
    others = tuple(v.mmol_per_l for i, v in enumerate(chosen) if i != now)
    return read(replace(chosen[now], earlier=others), needs_confirmation=confirm.pop())


def _latest(s: str, numbers: Sequence[Number]) -> int:
    """Which of several readings is the latest: the one said as now ("lunch 15.6 now 16.1"); else the last in
    the day when every one says when ("16.4 at lunch and 17.1 at tea", "12 yesterday at tea, 9 at lunch");
    else the one not said as past ("13.5 earlier, 12.8 at bedtime"); else the first, which is how people
    lead."""
    tags = attach(s, numbers, _WHEN_PATTERNS)
    now = [i for i, t in enumerate(tags) if "now" in t]
    if len(now) == 1:
        return now[0]
    times = [_time_of_day(t) for t in tags]
    known = [t for t in times if t is not None]
    if len(known) == len(times) and len(set(known)) == len(known):
        return known.index(max(known))
    not_past = [i for i, t in enumerate(tags) if not t & {"past", "yesterday"}]
    return not_past[0] if len(not_past) == 1 else 0


def _time_of_day(tags: set[str]) -> int | None:
    """When in the day a reading was taken, yesterday's before today's; None if it does not say, or says
    two things."""
    hours = [int(t) for t in tags if t.isdigit()]
    if len(hours) > 1:
        return None
    if "yesterday" in tags:
        return (hours[0] if hours else 0) - 10
    return hours[0] if hours else None


def _meter_words(cased: str, s: str) -> set[MeterWord]:
    """HI/LO as the meter's own words: capitals (unless the whole message shouts) or "meter says hi"."""
    found: set[MeterWord] = set()
    capitals = _CAPS_METER_WORD.findall(cased)
    other_letters = [c for c in _CAPS_METER_WORD.sub("", cased) if c.isalpha()]
    shouting = bool(other_letters) and all(c.isupper() for c in other_letters)
    if not shouting:
        found |= {_meter_word(w) for w in capitals}
    for match in _METER_SAYS.finditer(s):
        found.add(_meter_word(match.group("word") or match.group("on") or match.group("too")))
    return found


def _meter_word(word: str) -> MeterWord:
    return "high" if word.lower() in ("hi", "high") else "low"


def _why_no_number(
    s: str, *, error: int, hba1c: int, dose: int, ketones: int, percent: int, time: bool
) -> str:
    if error:
        return "glucose.meter_error"
    if hba1c:
        return "glucose.looks_like_hba1c"
    if dose or _INSULIN.search(s):
        return "glucose.looks_like_insulin"
    if ketones or _KETONE.search(s):
        return "glucose.looks_like_ketones"
    if percent:
        return "glucose.looks_like_percent"
    if _NOT_CHECKED.search(s):
        return "glucose.not_checked"  # "not checked yet, will do at 9": the 9 is when, not a reading
    if time:
        return "glucose.looks_like_time"
    if [w for w in words(s) if w not in _BARE_FILLERS] in (["hi"], ["high"], ["lo"], ["low"]):
        return "glucose.meter_word_unclear"  # a greeting, or "it's high" without the number?
    return "glucose.no_number"


def _reading(number: Number, *, unit: Literal["mmol", "mg"] | None, nudge: Decimal) -> Parsed[GlucoseReading]:
    if number.negative:
        return unreadable("glucose.out_of_range")
    if number.time_like and unit is None:
        return unreadable("glucose.looks_like_time")  # "7.30": meters show one decimal place
    high = _as_mmol(number.high, unit)
    low = _as_mmol(number.low, unit)
    if high is None or low is None or (unit is None and low[1] != high[1]):
        return unreadable("glucose.unclear_units")
    mmol, from_mg = high
    mmol += nudge
    if not _LOWEST <= mmol <= _HIGHEST:
        return unreadable("glucose.out_of_range")
    if number.is_range and low[0] < _HYPO <= mmol:
        return unreadable("glucose.unclear_range")
    reading = GlucoseReading(mmol_per_l=float(mmol), from_mg_per_dl=from_mg)
    return read(reading, needs_confirmation=from_mg and unit is None)


def _as_mmol(value: Decimal, unit: Literal["mmol", "mg"] | None) -> tuple[Decimal, bool] | None:
    """The value in mmol/L (one decimal) and whether it came from mg/dL; None if the unit cannot be told."""
    if unit == "mg":
        return _tenth(value / _MG_PER_DL_PER_MMOL), True
    if unit == "mmol" or _tenth(value) <= _HIGHEST:
        return _tenth(value), False
    if value <= 35 or value != value.to_integral_value():
        return None
    return _tenth(value / _MG_PER_DL_PER_MMOL), True


def _tenth(value: Decimal) -> Decimal:
    if value >= 1_000_000:  # no meter reading; quantize would overflow the decimal context
        return value
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
