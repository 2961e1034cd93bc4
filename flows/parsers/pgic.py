"""The Patient Global Impression of Change (PGIC), 1 (very much improved) to 7 (very much worse).

Accepted: a number 1-7, the seven labels of the NINDS CDE version, and everyday words ("a lot better" -> 2,
"same" -> 4, "bit worse" -> 5). Safety rules, which the tests pin down:
- "better", "worse" or "improved" alone could be any of three answers: refused as pgic.unclear.
- Negated words ("not much better", "no worse") are refused: they do not say which answer it is.
- A number and words that disagree ("2 no change"), or two different answers, are refused.
- A range takes the higher number ("2-3" -> 3): the less improved, so benefit is never over-claimed.
Must not: import anything outside the standard library and this package.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING

from flows.parsers.numerals import find_numbers, spell_digits, strip_clock_times, strip_durations
from flows.parsers.result import Parsed, read, unreadable
from flows.parsers.text import normalise, phrases, without_apostrophes

_BETTER, _WORSE = r"(?:better|improved)", r"worse"
# One set of intensity words serves both directions: {change} is "better" or "worse".
_VERY_MUCH = (
    r"very\s+much\s+{change}", r"much\s+much\s+{change}", r"(?:loads|massively|hugely|vastly)\s+{change}",
    r"so\s+much\s+{change}", r"far\s+far\s+{change}",
)  # fmt: skip
_MUCH = (
    r"much\s+{change}", r"(?:quite\s+)?(?:a\s+)?lots?\s+{change}", r"quite\s+a\s+bit\s+{change}",
    r"a\s+(?:good|great)\s+deal\s+{change}", r"(?:way|far|significantly)\s+{change}",
)  # fmt: skip
_A_LITTLE = (
    r"minimally\s+{change}", r"(?:a\s+)?(?:little|tiny)(?:\s+bit)?\s+{change}",
    r"(?:a\s+)?(?:tiny\s+)?bit\s+{change}", r"(?:slightly|somewhat|marginally)\s+{change}",
    r"a\s+touch\s+{change}",
)  # fmt: skip
_SAME = (
    r"no\s+changes?", r"not\s+changed", "unchanged", r"nothing(?:s|\s+has)?\s+changed",
    r"(?:hasnt|has\s+not)\s+changed", r"(?:about|much|just|exactly|pretty\s+much)?\s*the\s+same", "same",
    r"same\s+as\s+before", r"no\s+different", r"no\s+difference", r"not\s+any\s+different",
    r"neither\s+better\s+nor\s+worse", r"no\s+better\s+(?:no|or|nor)\s+worse", r"not\s+better\s+or\s+worse",
)  # fmt: skip


def _with(change: str, *patterns: str) -> tuple[str, ...]:
    return tuple(p.format(change=change) for p in patterns)


_BY_SCORE: dict[int, tuple[str, ...]] = {
    1: (*_with(_BETTER, *_VERY_MUCH), r"very\s+much\s+improvement", r"(?:a\s+)?huge\s+improvement"),
    2: (*_with(_BETTER, *_MUCH), r"(?:a\s+)?big\s+improvement"),
    3: (*_with(_BETTER, *_A_LITTLE), r"(?:a\s+)?(?:little|slight)\s+improvement"),
    4: _SAME,
    5: _with(_WORSE, *_A_LITTLE),
    6: _with(_WORSE, *_MUCH),
    7: _with(_WORSE, *_VERY_MUCH),
}
_UNCLEAR = (_BETTER, _WORSE, "improving", "improvement", "worsened", "worsening", "changed", "different")
_ANY = re.compile(phrases(*(p for ps in _BY_SCORE.values() for p in ps), *_UNCLEAR))
_SCORE_OF = [(score, re.compile(phrases(*ps))) for score, ps in _BY_SCORE.items()]
_NEGATED = re.compile(r"(?:not|no|never|isnt|hasnt|havent|wasnt|didnt|doesnt|nothing)\s+(?:\w+\s+)?$")
_OUT_OF_SEVEN = re.compile(r"(?<=[0-9])\s*(?:/|out\s+of|of)\s*7(?![0-9.,])")


def parse_pgic(text: str) -> Parsed[int]:
    """A PGIC score 1-7 from a number or words; unreadable when unclear or contradictory."""
    s = normalise(text)
    if not s:
        return unreadable("answer.empty")
    s = spell_digits(without_apostrophes(s))
    scores: set[int] = set()
    for match in _ANY.finditer(s):
        score = next((n for n, pattern in _SCORE_OF if pattern.fullmatch(match.group())), None)
        if score is None or (score != 4 and _NEGATED.search(s, 0, match.start())):
            return unreadable("pgic.unclear")  # "better" alone, or "not much better"
        scores.add(score)
    s, _ = strip_clock_times(_OUT_OF_SEVEN.sub("", s))
    found = find_numbers(strip_durations(s))
    if found.garbled:
        return unreadable("pgic.unclear")
    numbers = {int(n.high.to_integral_value(rounding=ROUND_CEILING)) for n in found.numbers}
    if any(n.negative for n in found.numbers) or any(not 1 <= n <= 7 for n in numbers):
        return unreadable("pgic.out_of_range")
    answers = scores | numbers
    if not answers:
        return unreadable("pgic.no_answer")
    return read(answers.pop()) if len(answers) == 1 else unreadable("pgic.unclear")
