"""Finding the numbers in an answer, for the parsers of pain, relief, PGIC, glucose and temperature.

``spell_digits`` turns number words into digits ("seven" -> 7, "six and a half" -> 6.5, "a hundred and
one" -> 101, "fiveish" -> 5ish, "3 . 6" -> 3.6). "One" after a word that makes it a pronoun ("not one for
phones", "the last one", "a high one") stays a word. Dictation homophones are digits only where nothing but a
number fits: before "point" or "out of 10" ("for point eight" -> 4.8, "ate out of ten" -> 8/10) and after
"about a" at the end of a clause ("it's about a for today"): "for" 4, "to" 2, "ate" 8, "sex" 6, and only at
the start of a clause or after a word that introduces a score ("about", "its", "a"...), so "waiting for point
of care" or "went up to point 5" are left alone. The ``strip_*`` helpers remove numbers that are plainly not
the answer: clock times, "at 9" and "at 7.30", durations, ordinals and dates. ``find_numbers`` lists
what is left, joining ranges ("6-7", "6 to 7", "6 or 7", "between 6 and 7", "between a 2 and a 3"). Nothing
here decides what a number means; each parser does. Digits are ASCII only: other scripts' digits are not
read. Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from flows.parsers.text import phrases

_SMALL = {
    "zero": 0, "nought": 0, "naught": 0, "nil": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
    "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
# Phone-keyboard slips, listed by hand. Edit distance would be unsafe: "fine" is one slip from five, "none"
# from nine, "even" from seven, "then" from ten, "for" from four.
_TYPOS = {
    "zer": 0, "zeor": 0, "thre": 3, "threee": 3, "foru": 4, "fuor": 4, "fourr": 4, "fiv": 5, "fivr": 5,
    "fivw": 5, "fuve": 5, "sixx": 6, "sxi": 6, "sevn": 7, "sevem": 7, "sevan": 7, "sevne": 7, "sevenn": 7,
    "seben": 7, "eigth": 8, "eigt": 8, "eihgt": 8, "eght": 8, "nien": 9, "nin": 9, "nime": 9, "ninr": 9,
    "tenn": 10,
}  # fmt: skip
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}  # fmt: skip
_ONES = {w: n for w, n in _SMALL.items() if 1 <= n <= 9}
_TENS_WORDS, _ONES_WORDS = "|".join(_TENS), "|".join(_ONES)
_AFTER_HUNDRED = "|".join(sorted((w for w, n in _SMALL.items() if n > 0), key=len, reverse=True))
_SPELLED = re.compile(
    r"(?<![\w'])(?:(?P<tens>" + _TENS_WORDS + r")(?:[\s-]+(?P<ones>" + _ONES_WORDS + r"))?"
    r"|(?P<hundred>(?:(?:a|one)\s+)?hundred)"
    r"(?:\s+and\s+(?P<and_tens>" + _TENS_WORDS + r")(?:[\s-]+(?P<and_ones>" + _ONES_WORDS + r"))?"
    r"|\s+and\s+(?P<and_small>" + _AFTER_HUNDRED + r"))?"
    r"|(?P<word>" + "|".join(sorted(_SMALL | _TYPOS, key=len, reverse=True)) + r"))(?=ish(?![\w'])|(?![\w']))"
)  # fmt: skip
# "One" as a pronoun, not a number: "not one for phones", "the last one", "that's the second high one",
# "not done one today".
_ONE_AS_PRONOUN = re.compile(
    phrases("no", "not", "the", "this", "that", "which", "every", "each", "any", "some", "last", "first",
            "next", "other", "another", "high", "low", "good", "bad", "new", "old", "second", "third",
            "latest", "big", "little", "right", "wrong", "same", "bigger", "higher", "lower", "worse",
            "better",
            # "not done one today", "haven't had one", "I'll do one later": a test or a reading, not 1
            "done", "do", "did", "doing", "had", "have", "having", "took", "take", "taken")
    + r"\s+$"
)  # fmt: skip
# Dictation slips for a number, where only a number fits (see the module docstring).
_HOMOPHONES = {"for": "4", "to": "2", "ate": "8", "sex": "6"}
_HOMOPHONE_BEFORE = (
    r"(?:^|(?<=[,;.!?:])\s*|(?<![\w'])(?:about|around|roughly|maybe|probably|like|its|is|at|say|reckon"
    r"|only|just|a|be|was|now|pain|score|says|said)\s+)"
)
_HOMOPHONE = re.compile(
    _HOMOPHONE_BEFORE + r"(?P<word>for|to|ate|sex)"
    r"(?=\s+(?:point\s+[0-9]|(?:out\s+of|outta)\s*10(?![0-9])|/\s*10(?![0-9])))"
    r"|(?<![\w'])(?:about|around|roughly|maybe|like|more\s+like)\s+an?\s+(?P<after_a>for|to|ate|sex)"
    r"(?=\s*(?:$|[,;.!?]|(?:today|now|tonight|atm|thanks|i\s+think|i\s+reckon)(?![\w'])))"
)  # fmt: skip
_SPACED_POINT = re.compile(r"(?<![0-9.,])([0-9]+) +\. +([0-9]+)(?![0-9]|[.,][0-9])")
_AND_A_HALF = re.compile(r"(?<![0-9.,])([0-9]+)\s*(?:and|&|n)\s*(?:a\s+)?half(?![\w'])")
_SPACE_HALF = re.compile(r"(?<![0-9.,])([0-9]+)\s+1/2(?![0-9])")
_POINT = re.compile(r"(?<![0-9.,])([0-9]+)\s+point\s+([0-9]+)(?![0-9])")
_LEADING_DOT = re.compile(r"(?<![0-9])\.([0-9])")


def spell_digits(text: str) -> str:
    """Number words as digits; "and a half" and "point" as decimals; ".5" as "0.5"."""
    text = _SPELLED.sub(_spelled_value, text)
    text = _HOMOPHONE.sub(_homophone_value, text)
    text = _SPACED_POINT.sub(r"\1.\2", text)
    text = _AND_A_HALF.sub(r"\1.5", text)
    text = _SPACE_HALF.sub(r"\1.5", text)
    text = _POINT.sub(r"\1.\2", text)
    return _LEADING_DOT.sub(r"0.\1", text)


def _spelled_value(match: re.Match[str]) -> str:
    if match.group("tens"):
        ones = match.group("ones")
        return str(_TENS[match.group("tens")] + (_ONES[ones] if ones else 0))
    if match.group("hundred"):  # "a hundred and one" is 101, not 100 and 1
        rest = _TENS.get(match.group("and_tens") or "", 0) + _ONES.get(match.group("and_ones") or "", 0)
        return str(100 + rest + _SMALL.get(match.group("and_small") or "", 0))
    word = match.group("word")
    if word == "one" and _ONE_AS_PRONOUN.search(match.string, 0, match.start()):
        return word
    return str(_SMALL.get(word, _TYPOS.get(word, 0)))


def _homophone_value(match: re.Match[str]) -> str:
    name = "word" if match.group("word") else "after_a"
    start, end = match.span(name)
    return (
        match.string[match.start() : start] + _HOMOPHONES[match.group(name)] + match.string[end : match.end()]
    )


_AM_PM = r"(?:am|pm|a\.m\.?|p\.m\.?)"
_HOUR = r"(?<![0-9.,:/])(?:[01]?[0-9]|2[0-3])"
_CLOCK = re.compile(
    "|".join((
        _HOUR + r":[0-5][0-9](?:\s*" + _AM_PM + r")?(?![0-9]|[:.,/][0-9])",  # 7:30, 19:45 (not 7:30:15)
        _HOUR + r"(?:\.[0-5][0-9])?\s*" + _AM_PM + r"(?![a-z])",  # 8pm, 7.30am
        _HOUR + r"\s*o\s*'?\s*clock(?![a-z])",  # 8 o'clock
        r"(?<![\w'])(?:half|quarter)\s+(?:past|to)\s+[0-9]{1,2}(?![0-9])",  # half past 7
        r"(?<![\w'])(?:at|by|from|since)\s+half\s+[0-9]{1,2}(?![0-9.,])",  # "at half 8": UK for half past
    ))
)  # fmt: skip
# "x" is not a unit here: "7 x" is a kiss at the end of a text, not "7 times".
_DURATION_UNITS = (
    r"days?", r"hours?", r"hrs?", r"h", r"weeks?", r"wks?", r"months?", r"mths?", r"years?", r"yrs?",
    r"mins?", r"minutes?", r"secs?", r"seconds?", r"times?", r"nights?", r"tablets?", r"tabs?",
    r"pills?", r"capsules?", r"doses?", r"paracetamol", r"ibuprofen", r"co-?codamol", r"codeine",
)  # fmt: skip
_DURATION = re.compile(
    r"(?<![0-9.,])[0-9]+(?:[.,][0-9]+)?(?:\s*(?:-|to)\s*[0-9]+)?\s*"
    r"(?:" + "|".join(_DURATION_UNITS) + r")(?![\w'])"
    r"|(?<![\w'])(?:day|week|wk|month)\s*[0-9]+(?![0-9]|[.,][0-9])"
)
_ORDINAL = re.compile(r"(?<![0-9.,])[0-9]+\s*(?:st|nd|rd|th)(?![a-z])")
# An age ("I'm 74", "he's 84", "aged 81", "81 years old"): never a pain score, and no one gives a reading so.
_AGE = re.compile(
    r"(?:(?<![\w'])(?:i'?m|i\s+am|he'?s|she'?s|he\s+is|she\s+is|aged?)\s+(?:[4-9][0-9]|10[0-9])(?![0-9.,])"
    r"(?:\s+(?:years?|yrs?)(?:\s+old|\s+of\s+age)?)?)"
    r"|(?:(?<![0-9.,])(?:[4-9][0-9]|10[0-9])\s+(?:years?|yrs?)\s+(?:old|of\s+age))"
)
# "May" is left out: "7 may be 8" is not a date.
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?"
    r"|nov(?:ember)?|dec(?:ember)?)"
)
_DATE = re.compile(
    r"(?<![0-9.,])[0-9]{1,2}\s*(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"(?![a-z])"
    r"|(?<![\w'])" + _MONTH + r"\s+[0-9]{1,2}(?:st|nd|rd|th)?(?![0-9]|[.,][0-9])"
)
# "at 9", "by 10", "until 6": an hour, unless the word before says the number is a level ("it's at 7",
# "pain at 6", "was at 8") or "/10" follows ("at 9/10"). "At a 7" is never a time.
_AT_HOUR = re.compile(
    r"(?P<before>[\w']+\s+)?(?<![\w'])(?:at|by|until|till|til|since)\s+(?:[01]?[0-9]|2[0-3])(?:\.[0-5][0-9])?"
    r"(?![0-9]|[.,:][0-9])"
    r"(?!\s*(?:/|out\s+of|outta|of)\s*10(?![0-9]))"
)
_LEVEL_WORDS = {
    "is", "its", "it", "was", "were", "been", "be", "sitting", "still", "stays", "stay", "stayed", "stuck",
    "pain", "pains", "score", "level", "levels", "now", "currently", "reading", "reads", "read", "says",
    "said", "shows", "showed", "sugar", "sugars", "glucose", "bm", "temp", "temperature", "hovering",
    "steady", "constant", "down", "up", "back", "right", "holding", "peaked", "started", "staying",
    "remained", "remains", "about", "around", "one", "mine", "thats", "that", "this", "maybe", "probably",
    "like", "between",
}  # fmt: skip
# "do it at 9", "checked it at 7": the hour is when, whatever "it" is.
_DOING = re.compile(
    phrases("do", "did", "done", "doing", "does", "check", "checked", "checking", "test", "tested", "testing",
            "measure", "measured", "prick", "pricked", "take", "took", "taken", "try", "tried")
    + r"\s+$"
)  # fmt: skip
# Two or more separators in one run ("12/03/2024", "1.2.3") is a date or a muddle, never one reading.
_GARBLED = re.compile(r"(?<![0-9])[0-9]+(?:[.,:/][0-9]+){2,}")
_NUMBER = re.compile(r"(?<![0-9])[0-9]+(?:\.[0-9]+|,[0-9]{1,2}(?![0-9]))?")
_RANGE_GAP = re.compile(r"\s*(?:-|to|or|till|until)\s*(?:an?\s+)?")
_BETWEEN = re.compile(r"between\s+(?:about\s+|around\s+)?(?:an?\s+)?$")
_BETWEEN_GAP = re.compile(r"\s*(?:and|&)\s*(?:an?\s+)?")
_MINUS = re.compile(r"(?:(?<![\w])-|(?<![\w'])minus\s*)$")
_TIME_LIKE = re.compile(r"(?:[01]?[0-9]|2[0-3])\.[0-5][0-9]")
_MORE_THAN = re.compile(
    phrases(r"(?<!no )more\s+than", "over", "above", r"at\s+least", r"higher\s+than", r"greater\s+than",
            r"bigger\s+than", r"worse\s+than", r"in\s+excess\s+of", "beyond")
    + r"\s*(?:a\s+)?[0-9]|(?<![-=])>\s*=?\s*[0-9]|[0-9]\s*\+"
    + r"|[0-9]\s*(?:or|and)\s+(?:more|above|over|higher|plus)\b"
)  # fmt: skip
_LESS_THAN = re.compile(
    phrases(r"less\s+than", "under", "below", r"lower\s+than", r"at\s+most", r"up\s+to", r"fewer\s+than",
            r"no\s+more\s+than", r"not\s+more\s+than", "max", "maximum")
    + r"\s*(?:a\s+)?[0-9]|(?<![-=])<\s*=?\s*[0-9]"
    + r"|[0-9]\s*(?:or|and)\s+(?:less|below|under|lower)\b"
)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class Number:
    """One number, or a range of two, as found in the text: from ``start`` to ``end`` (units follow)."""

    low: Decimal
    high: Decimal
    start: int
    end: int
    is_range: bool = False
    negative: bool = False
    time_like: bool = False  # "7.30": two decimals that make a clock time, no meter shows that


@dataclass(frozen=True, kw_only=True)
class Found:
    numbers: tuple[Number, ...]
    garbled: bool = False


def strip_clock_times(text: str) -> tuple[str, bool]:
    """Remove clock times ("7:30", "8pm", "half past 7"); True if there were any."""
    stripped, count = _CLOCK.subn(" | ", text)
    return stripped, count > 0


def strip_at_hours(text: str) -> tuple[str, bool]:
    """Remove hours said with "at", "by", "until", "till" or "since" ("will do it at 9", "7 at 9", "did it at
    7.30": two decimals make a time, meters and thermometers show one), and say whether there were any.

    Kept when the word before says the number is a level: "it's at 7", "pain at 6", "was at 8", "at 9/10";
    but "it" after a verb of doing is what is done, not a level: "will do it at 9", "checked it at 7".
    """
    seen = False

    def hour(match: re.Match[str]) -> str:
        nonlocal seen
        before = match.group("before") or ""
        done_at = before.strip() == "it" and _DOING.search(text, 0, match.start()) is not None
        if before.strip() in _LEVEL_WORDS and not done_at:
            return match.group()
        seen = True
        return before + " | "

    return _AT_HOUR.sub(hour, text), seen


def strip_durations(text: str) -> str:
    """Remove durations, counts, ordinals, dates and ages ("for 2 days", "3 times", "2 tablets", "the 5th",
    "day 3", "12 march", "I'm 74")."""
    return _ORDINAL.sub(" | ", _DURATION.sub(" | ", _DATE.sub(" | ", _AGE.sub(" | ", text))))


def says_more_than(text: str) -> bool:
    """ "more than 7", "over 20", "7+": the true value is higher than the number given."""
    return _MORE_THAN.search(text) is not None


def says_less_than(text: str) -> bool:
    return _LESS_THAN.search(text) is not None


def find_numbers(text: str) -> Found:
    """The numbers in ``text`` (ranges joined), and whether a date-like muddle was seen."""
    garbled = _GARBLED.search(text) is not None
    text = _GARBLED.sub(" | ", text)
    tokens = list(_NUMBER.finditer(text))
    numbers: list[Number] = []
    previous_end = 0
    i = 0
    while i < len(tokens):
        first = tokens[i]
        negative = _MINUS.search(text, previous_end, first.start()) is not None
        low = high = _value(first.group())
        start = first.start()
        end, is_range, time_like = first.end(), False, _TIME_LIKE.fullmatch(first.group()) is not None
        if i + 1 < len(tokens):
            second = tokens[i + 1]
            gap = text[first.end() : second.start()]
            between = _BETWEEN.search(text, previous_end, first.start()) is not None
            if _RANGE_GAP.fullmatch(gap) or (between and _BETWEEN_GAP.fullmatch(gap)):
                low, high = sorted((low, _value(second.group())))
                end, is_range, time_like = second.end(), True, False
                i += 1
        numbers.append(
            Number(
                low=low,
                high=high,
                start=start,
                end=end,
                is_range=is_range,
                negative=negative,
                time_like=time_like,
            )
        )
        previous_end = end
        i += 1
    return Found(numbers=tuple(numbers), garbled=garbled)


def _value(token: str) -> Decimal:
    return Decimal(token.replace(",", "."))
