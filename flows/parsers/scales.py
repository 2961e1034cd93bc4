"""Pain on the 0-10 numeric rating scale, and percent relief (0-100), as patients type them.

Safety rules, which the tests pin down:
- Pain: a range, a fraction or a hedge takes the higher whole number ("6-7" -> 7, "6.5" -> 7, "7 or 8" -> 8,
  "about a seven, maybe eight" -> 8): a fraction is a range between two whole numbers, and reading pain too
  low could miss a severe score. "8+" reads as 8 (the patient's own number; "8 plus" alike); "over 7" and
  "more than 8" are refused (their true value is unknown and above the number); "under 5" reads as 5.
- Pain: the scale's ends are not the answer ("on a scale of 1-10 I'd say 6", "out of 10 it's a 6" -> 6).
- Pain: times, dates and durations are not scores ("7 for 3 days", "6 at 9", "day 2, pain 5", "5 since 3
  March"); an hour said alone ("at 9") is refused as pain.looks_like_time.
- Pain: several different scores are read only when the answer says which is now (flows/parsers/score_now.py):
  a comparison takes the score now or after ("from a 9 to a 3" -> 3, "was 8 now 5" -> 5, "down to a 4 from 7"
  -> 4, "7 but was 9 yesterday" -> 7), and an answer that scores several things takes the one labelled pain
  ("sleep 3, pain 7, mood 5" -> 7). A time word outranks a change ("5/10 now but it went up to 9 in the night"
  -> 5). Scores for places or activities, every one labelled, take the highest ("sitting it's a 2, walking
  more like a 5" -> 5, "3 in the back, 6 down the leg" -> 6): the worst is the safe reading, as for a range.
  Otherwise ("6 now but 9 when I walk", "7 and 9") they are never guessed between: pain.several_numbers.
- Pain: "half what it was" with the earlier score said as past reads half of it, rounded up ("about half what
  it was, it was an 8 before" -> 4, a 7 -> 4): the patient's own comparison, and at most 5, so it never hides
  a severe score. A lone number not said as past is read as it stands ("half what it was, a 4" -> 4; were it
  the earlier score, reading it whole errs high).
- Pain: a body temperature beside the score is not a second score ("4/10 but my temp is 38.2" -> 4): only
  34-43 °C or 93-109 °F said with "temp"/"temperature"/"fever" or a degree sign or unit.
- Pain: "nothing" and "none" are 0 only as the answer itself ("none at all today"); in a clause about
  something else ("Ten. Tablets doing nothing.", "nine, nothing helps", "none of my tablets work") they are
  not a score, so the number beside them is read. Asides ("touch wood", "first time in years") leave "no pain"
  the whole answer.
- Relief is an outcome measure, not a safety threshold, so it is read conservatively the other way: a range
  takes the lower value ("30-40%" -> 30), fractions round down, "more than 50%" reads as 50 and "less than
  half" is refused.
- Pain: a hedge after a question mark is a range too ("5? Maybe 6" -> 6).
- Words with no number ("terrible", "agony", "better") are refused: the bot asks for a number. Dictation
  homophones are read only where nothing but a number fits (flows/parsers/numerals.py): "ate out of ten" ->
  8, "it's about a for today" -> 4; "about for today" is refused.
Must not: import anything outside the standard library and this package.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

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
from flows.parsers.score_now import said_as_past, score_now
from flows.parsers.text import normalise, phrases, without_apostrophes, words

_NO_PAIN = re.compile(
    phrases(
        r"no\s+pain(?!\s*(?:relief|killers?|meds?|medication|medicine|tablets?|pills?|control))(?:\s+at\s+all)?",
        r"pain[\s-]*free", "none", "nothing", r"not\s+(?:in\s+)?(?:any\s+)?pain",
        r"(?:the\s+)?pains?\s+(?:has\s+|is\s+)?(?:all\s+)?gone",
    )
)  # fmt: skip
_OUT_OF_TEN = re.compile(r"(?<=[0-9])\s*(?:/|out\s+of|outta|of)\s*10(?![0-9]|[.,][0-9])")
_OTHER_SCALE = re.compile(r"[0-9]\s*(?:/|out\s+of|outta)\s*[0-9]")
_OUT_OF_HUNDRED = re.compile(r"(?<=[0-9])\s*(?:/|out\s+of|outta|of)\s*100(?![0-9]|[.,][0-9])")
_PERCENT_SIGN = re.compile(r"(?<=[0-9])\s*(?:%|percent|per\s*cent|pc)(?![a-z])")
_DOSE = re.compile(r"(?<![0-9.,])[0-9]+(?:[.,][0-9]+)?\s*(?:mg|mcg|g|ml)(?![a-z])")
_DIGIT = re.compile(r"[0-9]")
_ENDS = r"(?<![0-9.,])(?:0|1)\s*(?:-|to|and)\s*10(?![0-9]|[.,][0-9])"
_SCALE = re.compile(
    r"(?<![\w'])(?:on\s+|in\s+)?(?:a\s+|the\s+|my\s+)?scale(?:\s+(?:of|from|between))?(?:\s*" + _ENDS + r")?"
)
_BOUNDS = re.compile(r"(?<![\w'])(?:from\s+|between\s+)?" + _ENDS)
_OUT_OF_TEN_ALONE = re.compile(r"(?<![\w'])(?:out\s+of|outta)\s*10(?![0-9]|[.,][0-9])")
_PLUS = re.compile(r"(?<=[0-9])(?:\s*(?:\+|plus(?![\w'])))+")
_FROM_TO = re.compile(
    r"(?<![\w'])from\s+(?:a\s+|an\s+)?([0-9]+(?:\.[0-9]+)?)\s*(?:to|-|till|until|down\s+to|up\s+to)\s*"
    r"(?:a\s+|an\s+)?(?=[0-9])"
)
_HEDGED = re.compile(
    r"(?<=[0-9])\s*(?:[,?]|\.{2,})?\s*(?:or\s+)?(?:maybe|possibly|perhaps|probably|prob|even|more\s+like|nearer|closer\s+to"
    r"|close\s+to|nearly|almost|if\s+not|could\s+be|might\s+be|going\s+on|verging\s+on|bordering\s+on)"
    r"(?:\s+(?:even|a|an|more|like|to))*\s+(?=[0-9])"
)

# "Nothing" and "none" are a score of 0 only as the answer itself ("none", "nothing at all today"); in a
# clause about something else ("nothing helps", "tablets doing nothing", "none of my tablets work") they are
# not.
_NOTHING = re.compile(phrases("nothing", "none"))
_CLAUSE = re.compile(
    r"[,;.!?\n]|(?<![\w'])(?:but|and|though|although|whereas|however|whilst|while|because|cos|as)(?![\w'])"
)
# Asides that leave "no pain" the whole answer: "no pain at all touch wood", "none today, first time in
# years".
_ASIDES = re.compile(
    phrases(r"touch\s+wood", r"fingers\s+crossed", r"thank\s+(?:god|goodness|heavens|the\s+lord)",
            r"(?:for\s+)?(?:the\s+)?first\s+time\s+in\s+(?:years|ages|months|weeks|forever|a\s+(?:long\s+)?while)",
            r"full\s+stop", "hooray", "yay")
)  # fmt: skip
# A temperature beside the score is not a second score: "4/10 but I've got a temperature of 38.2". Only a
# body temperature (34-43 °C, 93-109 °F) said as one: "temp 6" is left for the parser to make what it can of.
_BODY_HEAT = r"(?<![0-9.,])(?:3[4-9]|4[0-3]|9[3-9]|10[0-9])(?:[.,][0-9]+)?(?![0-9]|[.,][0-9])"
_TEMPERATURE = re.compile(
    r"(?<![\w'])(?:temp|temperature|fever)(?:\s+(?:is|was|of|at|reading|reads|read|says|said|shows|showed|now"
    r"|still|just|only|about|around))*\s*[:=]?\s*" + _BODY_HEAT
    + r"(?:\s*(?:°\s*[cf]?|degrees?|c|f)(?![\w']))?"
    r"|" + _BODY_HEAT
    + r"\s*(?:°\s*[cf]?|degrees?(?:\s+[cf])?|deg|celsius|centigrade|fahrenheit|c|f)(?![\w'])"
)  # fmt: skip
# "About half what it was, it was an 8 before": half of the earlier score.
_HALF_OF_BEFORE = re.compile(
    phrases(r"(?:about\s+|around\s+|roughly\s+|maybe\s+)?half(?:\s+of)?\s+(?:what\s+it\s+(?:was|used\s+to\s+be)"
            r"|from\s+before|of\s+before|(?:what\s+it\s+was\s+)?before|as\s+bad(?:\s+as\s+(?:before|it\s+was))?)",
            r"(?:has\s+|is\s+)?halved")
)  # fmt: skip


def parse_pain(text: str) -> Parsed[int]:
    """A 0-10 pain score: "7", "seven", "7/10", "about a 6", "6-7" -> 7, "6.5" -> 7, "no pain" -> 0."""
    s = normalise(text)
    if not s:
        return unreadable("answer.empty")
    s = spell_digits(without_apostrophes(s))
    s = _ASIDES.sub(" ", s)
    s = _NOTHING.sub(lambda m: m.group() if _alone_in_clause(m, s) else " ", s)
    if _NO_PAIN.search(s) and not _nothing_else(_NO_PAIN, s):
        return unreadable("pain.no_number")  # "no pain sitting, agony walking": zero is not the whole story
    s = _NO_PAIN.sub(" 0 ", s)
    s = _SCALE.sub(" ", s)  # "on a scale of 1-10 I'd say 6": the scale's ends are not the answer
    s = _OUT_OF_TEN.sub("", s)  # "7/10" is one number on the 0-10 scale, not two numbers
    s = _OUT_OF_TEN_ALONE.sub(" ", s)  # "out of 10 it's a 6"
    if _OTHER_SCALE.search(s):
        return unreadable("pain.several_numbers")  # "3/5", "5/5": a different scale, or a date
    s, saw_time = strip_clock_times(s)
    s, saw_hour = strip_at_hours(strip_durations(s))
    s = _DOSE.sub(" | ", s)
    s = _TEMPERATURE.sub(" | ", s)
    if _DIGIT.search(_BOUNDS.sub(" ", s)):
        s = _BOUNDS.sub(" ", s)  # "1-10, 6": the scale's ends, beside the answer
    s = _PLUS.sub(" ", s)  # "8+" is 8
    s = _FROM_TO.sub(r" from \1 -> ", s)  # "from 9 to 3" is a change, not the range 3-9
    s = _HEDGED.sub(" or ", s)  # "7, maybe 8" is the range 7-8
    saw_percent = _PERCENT_SIGN.search(s) is not None
    found = find_numbers(s)
    if found.garbled:
        return unreadable("pain.several_numbers")
    if not found.numbers:
        if saw_percent:
            return unreadable("pain.looks_like_percent")
        return unreadable("pain.looks_like_time" if saw_time or saw_hour else "pain.no_number")
    if saw_percent:
        return unreadable("pain.looks_like_percent")
    if says_more_than(s):
        return unreadable("pain.not_exact")
    if any(n.negative for n in found.numbers):
        return unreadable("pain.out_of_range")
    scores = [_whole(n.high, ROUND_CEILING) for n in found.numbers]
    if _HALF_OF_BEFORE.search(s) and len(set(scores)) == 1 and all(said_as_past(s, found.numbers)):
        scores = [_whole(Decimal(scores[0]) / 2, ROUND_CEILING)]  # "it was 8": the 8 is before, not now
    score = scores[0] if len(set(scores)) == 1 else score_now(s, found.numbers, scores)
    if score is None:
        return unreadable("pain.several_numbers")
    if any(n.time_like for n, each in zip(found.numbers, scores, strict=True) if each == score):
        return unreadable("pain.looks_like_time")
    if not 0 <= score <= 10:
        return unreadable("pain.out_of_range")
    return read(score)


_NO_RELIEF = re.compile(
    phrases(
        r"no\s+(?:pain\s+)?relief(?:\s+at\s+all)?", r"(?:none|nothing)(?:\s+at\s+all)?", "nil",
        r"not\s+at\s+all", r"no\s+difference", r"no\s+change", r"no\s+better", r"not\s+any",
        r"no\s+improvement", r"not\s+(?:helped|improved)", r"no\s+help", r"not\s+a\s+bit",
        r"(?:didnt|hasnt|doesnt|has\s+not|did\s+not)\s+help(?:ed)?",
    )
)  # fmt: skip
_FULL_RELIEF = re.compile(
    phrases(
        r"all\s+of\s+it", r"all\s+gone",
        r"(?:pain\s+(?:has\s+|is\s+)?)?(?:completely|totally|fully|entirely)(?:\s+gone)?",
        r"(?:the\s+)?pain\s+(?:has\s+|is\s+)?gone", r"gone\s+completely", r"pain[\s-]*free",
        r"no\s+(?:more\s+)?pain(?!\s*relief)", r"(?<!at\s)all(?!\s*[a-z])",
    )
)  # fmt: skip
_NEGATED = re.compile(r"(?:not|no|never|isnt|hasnt|havent|wasnt|didnt|doesnt)\s+(?:\w+\s+)?$")
_FRACTIONS = (
    (re.compile(phrases(r"(?:a|1)\s+third")), " 33 "),
    (re.compile(phrases(r"2\s+thirds")), " 66 "),
    (re.compile(phrases(r"(?:a|1)\s+quarter")), " 25 "),
    (re.compile(phrases(r"3\s+quarters")), " 75 "),
    (re.compile(phrases(r"(?:about\s+|around\s+|roughly\s+|a\s+)?half(?:ed)?(?!\s+(?:the\s+time|an?\s+hour|hour|day))",
                        "halved")), " 50 "),
)  # fmt: skip
_WORSE = re.compile(phrases("worse", "worst", "worsened"))


def parse_percent(text: str) -> Parsed[int]:
    """Percent relief 0-100: "50%", "half" -> 50, "no relief" -> 0, "all of it" -> 100, "30-40%" -> 30."""
    s = normalise(text)
    if not s:
        return unreadable("answer.empty")
    s = spell_digits(without_apostrophes(s))
    s, saw_time = strip_clock_times(s)
    s = strip_durations(s)
    if _OUT_OF_TEN.search(s):
        return unreadable("percent.looks_like_pain_score")
    s = _OUT_OF_HUNDRED.sub("", s)
    had_percent_sign = _PERCENT_SIGN.search(s) is not None
    s = _PERCENT_SIGN.sub(" ", s)
    for pattern, replacement in _FRACTIONS:
        s = pattern.sub(replacement, s)
    s = _NO_RELIEF.sub(" 0 ", s)
    for match in _FULL_RELIEF.finditer(s):
        if _NEGATED.search(s, 0, match.start()):
            return unreadable("percent.not_exact")  # "not completely": some relief, but how much?
    if _FULL_RELIEF.search(s) and not _nothing_else(_FULL_RELIEF, s):
        return unreadable("percent.not_exact")  # "pain gone in my back, leg still bad"
    s = _FULL_RELIEF.sub(" 100 ", s)
    found = find_numbers(s)
    worse = _WORSE.search(s) is not None
    if found.garbled:
        return unreadable("percent.several_numbers")
    if not found.numbers:
        if worse:
            return read(0)  # "worse" with no number: no relief
        return unreadable("percent.looks_like_time" if saw_time else "percent.no_number")
    if worse and any(n.high > 0 for n in found.numbers):
        return unreadable("percent.worse")  # "50% worse" or "was 50% better, now worse": cannot tell
    if says_less_than(s):
        return unreadable("percent.not_exact")
    values = {_whole(n.low, ROUND_FLOOR) for n in found.numbers}
    if len(values) > 1:
        return unreadable("percent.several_numbers")
    number: Number = found.numbers[0]
    if number.time_like and not had_percent_sign:
        return unreadable("percent.looks_like_time")
    value = values.pop()
    if any(n.negative for n in found.numbers) or not 0 <= value <= 100 or number.high > 100:
        return unreadable("percent.out_of_range")
    return read(value)


# Words that may surround "no pain" or "all gone" without changing what it means.
_FILLERS = {
    "i", "im", "ive", "have", "got", "am", "is", "its", "it", "has", "my", "the", "a", "in", "of", "at",
    "all", "so", "far", "now", "right", "moment", "today", "tonight", "currently", "thanks", "thank", "you",
    "ta", "x", "xx", "really", "just", "pain", "score", "level", "relief", "thankfully", "luckily",
    "whatsoever", "any", "none", "nothing", "nil", "zero", "free", "gone", "no", "yes", "completely",
    "totally", "fully", "entirely",
}  # fmt: skip


def _alone_in_clause(match: re.Match[str], s: str) -> bool:
    """True if the clause around ``match`` holds nothing but it, numbers and filler words."""
    starts = [m.end() for m in _CLAUSE.finditer(s, 0, match.start())]
    end = _CLAUSE.search(s, match.end())
    clause = s[starts[-1] if starts else 0 : end.start() if end else len(s)]
    return all(w in _FILLERS or w.isdigit() for w in words(clause))


def _nothing_else(pattern: re.Pattern[str], s: str) -> bool:
    """True if, apart from what ``pattern`` matched, the reply holds only numbers and filler words."""
    rest = pattern.sub(" ", s)
    return all(w in _FILLERS or w.isdigit() for w in words(rest))


def _whole(value: Decimal, rounding: str) -> int:
    return int(value.to_integral_value(rounding=rounding))
