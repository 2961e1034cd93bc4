"""Which of several numbers in a pain answer is the score now: "was 8 now 5", "sleep 3, pain 7, mood 5".

Only for answers with two or more different scores; a lone number needs none of this. Three readings, tried
in turn; when none settles on one score, there is no answer and the parser refuses (pain.several_numbers):
- Time: a number said as past ("was 8", "from a 9", "9 yesterday", "yesterday's 6", "in the night", "before
  the injection") drops out; one said as now ("now 5", "5 today", "down to a 4", "8 -> 5") is the answer, but
  only if every other number is past. With no "now", the one number not said as past is the answer ("7 but
  was 9 yesterday" -> 7). A time word outranks a change: in "5 now but it went up to 9 in the night" the 9 is
  past and the 5 now, whatever "went up to" says about their order.
- Labels: one number labelled pain, every other labelled something that is not pain ("sleep 3, pain 7,
  mood 5" -> 7).
- Places and activities: when every number is labelled with where it hurts or what the patient is doing
  ("sitting 2, walking 5", "3 in the back, 6 down the leg", "back 7, leg 5"), the highest is the answer: the
  worst of them is the safe reading, as a range takes its higher end. One number without such a label ("6 now
  but 9 when I walk") is still refused.
A word attaches to the number in its own part of the sentence (split at commas, "but", "and"); between two
numbers with nothing to split them, it goes the way the rest of the answer reads ("yesterday 8 today 5",
"8 yesterday 5 today"). ``attach`` lends this to the glucose parser, with its own words, to tell which of
several readings is the latest. Must not: decide a score's value or range (the parser does), or import
anything outside the standard library and this package.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from flows.parsers.numerals import Number
from flows.parsers.text import phrases


class _Tag(StrEnum):
    PAST = "past"
    NOW = "now"
    AFTER = "after"  # the later score of a change ("9 down to 3": the 3); a time word outranks it
    BEFORE = "before"  # the earlier score of a change ("9 down to 3": the 9)
    PAIN = "pain"
    OTHER = "other"  # a label that is not pain: sleep, mood...
    WHERE = "where"  # a place or an activity: back, leg, sitting, walking


@dataclass(frozen=True, kw_only=True)
class _Marker:
    pattern: re.Pattern[str]
    tag: str  # a _Tag here; a caller of ``attach`` names its own
    # The number it belongs to: the next one ("was 8"), or either, as the rest of the answer reads.
    way: Literal["right", "either"] = "either"
    default: Literal["right", "left"] = "right"  # for "either", when the answer reads both ways or neither
    before_is_past: bool = False  # "9 down to 3", "8 -> 5": the number before is the old score


def _marker(*fragments: str, tag: _Tag, **how: Any) -> _Marker:
    return _Marker(pattern=re.compile(phrases(*fragments)), tag=tag, **how)


_TIME = (
    _Marker(
        pattern=re.compile(
            phrases(r"(?:down|up|dropped|dropping|fallen|fell|gone|going|went|come|came|eased|easing|reduced"
                    r"|increased|risen|rose|improved|settled|back|got|crept|shot|jumped)(?:\s+(?:down|up|back))?"
                    r"\s+to") + r"|->|→|=>"
        ),
        tag=_Tag.AFTER, way="right", before_is_past=True,
    ),
    _marker("was", "were", "been", "from", r"used\s+to\s+be", r"started\s+(?:at|off|as)", "peaked",
            tag=_Tag.PAST, way="right"),
    _marker(r"yesterdays?", r"last\s+(?:nights?|weeks?)", r"(?:in|during|through)\s+the\s+night",
            r"before(?:\s+the\s+(?:injection|jab|procedure|op))?", "earlier", "previously", r"at\s+first",
            "originally", "initially", r"the\s+other\s+day", r"(?:the\s+)?day\s+before", r"this\s+morning",
            r"first\s+thing", "overnight", r"when\s+i\s+woke(?:\s+up)?", tag=_Tag.PAST, default="left"),
    _marker("now", "currently", "today", "tonight", r"at\s+the\s+moment", "atm", "rn", r"at\s+present",
            r"this\s+evening", r"these\s+days", tag=_Tag.NOW),
)  # fmt: skip
_LABELS = (
    _marker(r"pains?", "painful", "sore", "soreness", r"aches?", "aching", r"hurts?", "hurting", "discomfort",
            tag=_Tag.PAIN),
    _marker("sleep", "sleeping", "mood", "stress", "stressed", "anxiety", "anxious", "energy", "fatigue",
            "tired", "tiredness", "appetite", "stiffness", "stiff", "nausea", "mobility", "function",
            "happiness", "happy", "numbness", "numb", "tingling", "depression", "worry", "worried",
            r"quality\s+of\s+life", "activity", tag=_Tag.OTHER),
)  # fmt: skip
_WHERE = (
    _marker(r"(?:lower\s+|upper\s+)?back", r"legs?", r"hips?", r"knees?", "neck", r"shoulders?", r"arms?",
            "foot", "feet", r"buttocks?", "bum", "groin", r"thighs?", "calf", "calves", r"ankles?", "spine",
            r"joints?", "sitting", "sat", "sit", "standing", "stood", "stand", "walking", "walk", "walked",
            r"(?:lying|laying)(?:\s+down)?", "resting", r"at\s+rest", "moving", "movement", "move", "bending",
            "stairs", "driving", "exercise", "exercising", tag=_Tag.WHERE),
)  # fmt: skip
_BOUNDARY = re.compile(
    r"[,;.!?\n]|(?<![\w'])(?:but|and|though|although|whereas|however|whilst|while)(?![\w'])"
)


def score_now(s: str, numbers: Sequence[Number], scores: Sequence[int]) -> int | None:
    """The one score ``s`` gives for now, or None if it cannot be told (see the module docstring).

    ``numbers`` are the numbers found in ``s``, in order, and ``scores`` the score each one would be.
    """
    for markers, pick in ((_TIME, _by_time), (_LABELS, _by_label), (_WHERE, _by_where)):
        picked = pick(_attach(s, numbers, markers), scores)
        if picked is not None:
            return picked
    return None


def said_as_past(s: str, numbers: Sequence[Number]) -> list[bool]:
    """For each number, whether ``s`` says it as past ("it was an 8 before", "yesterday 7")."""
    return [_when(tags) == _Tag.PAST for tags in _attach(s, numbers, _TIME)]


def attach(s: str, numbers: Sequence[Number], patterns: Mapping[str, re.Pattern[str]]) -> list[set[str]]:
    """For each number, the names of the ``patterns`` whose words belong to it, by the rules above: in its own
    part of the sentence, and between two numbers the way the rest of the answer reads."""
    return _attach(s, numbers, [_Marker(pattern=pattern, tag=name) for name, pattern in patterns.items()])


def _when(tags: set[str]) -> _Tag | None:
    """Now, past or neither: a time word ("now", "yesterday") first, then the order of a change."""
    for now, past in ((_Tag.NOW, _Tag.PAST), (_Tag.AFTER, _Tag.BEFORE)):
        if (now in tags) != (past in tags):
            return now if now in tags else past
        if now in tags:
            return None  # "now" and "yesterday" both: cannot tell
    return None


def _by_time(tags: Sequence[set[str]], scores: Sequence[int]) -> int | None:
    when = [_when(t) for t in tags]
    past = [w in (_Tag.PAST, _Tag.BEFORE) for w in when]
    now = [w in (_Tag.NOW, _Tag.AFTER) for w in when]
    if any(now):
        if not all(n or p for n, p in zip(now, past, strict=True)):
            return None  # "6 now but 9 when I walk": the 9 is not over, so which is the answer?
        chosen = {score for score, n in zip(scores, now, strict=True) if n}
    elif any(past):
        chosen = {score for score, p in zip(scores, past, strict=True) if not p}
    else:
        return None
    return chosen.pop() if len(chosen) == 1 else None


def _by_label(tags: Sequence[set[str]], scores: Sequence[int]) -> int | None:
    if not all(t in ({_Tag.PAIN}, {_Tag.OTHER}) for t in tags):
        return None  # a number with no label, or two labels: cannot tell what it scores
    pain = {score for score, t in zip(scores, tags, strict=True) if t == {_Tag.PAIN}}
    return pain.pop() if len(pain) == 1 else None


def _by_where(tags: Sequence[set[str]], scores: Sequence[int]) -> int | None:
    if not all(_Tag.WHERE in t for t in tags):
        return None  # "6 now but 9 when I walk": is the 6 at rest, or the score now whatever they do?
    return max(scores)


def _attach(s: str, numbers: Sequence[Number], markers: Sequence[_Marker]) -> list[set[str]]:
    """The tags each number gets from the marker words around it."""
    placed: list[tuple[int | None, int | None, _Marker]] = []
    for marker in markers:
        for match in marker.pattern.finditer(s):
            left = next((i for i in reversed(range(len(numbers))) if numbers[i].end <= match.start()), None)
            right = next((i for i in range(len(numbers)) if numbers[i].start >= match.end()), None)
            if left is not None and _BOUNDARY.search(s, numbers[left].end, match.start()):
                left = None
            if right is not None and _BOUNDARY.search(s, match.end(), numbers[right].start):
                right = None
            placed.append((left, right, marker))
    # How this answer reads: words before their numbers ("was 8 now 5") or after them ("8 yesterday 5 today").
    leading = any(left is None and right is not None for left, right, _ in placed)
    trailing = any(right is None and left is not None for left, right, _ in placed)
    tags: list[set[str]] = [set() for _ in numbers]
    for left, right, marker in placed:
        target = _target(left, right, marker, leading=leading, trailing=trailing)
        if target is None:
            continue
        tags[target].add(marker.tag)
        if marker.before_is_past and target > 0:
            tags[target - 1].add(_Tag.BEFORE)  # "9 down to 3": the 9 is the old score
    return tags


def _target(
    left: int | None, right: int | None, marker: _Marker, *, leading: bool, trailing: bool
) -> int | None:
    if marker.way == "right":
        return right
    if left is None or right is None:
        return right if left is None else left
    if leading != trailing:
        return right if leading else left
    return right if marker.default == "right" else left
