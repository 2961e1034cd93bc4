"""Text preparation for the screener: normalise a patient's message and cut it into sentences and clauses.

Normalising makes the lexicon simpler to write (lower case, no apostrophes, one space), and every normalised
character remembers where it came from, so a finding points at the patient's own words. Pure: no I/O, and it
must never raise on any input string.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass

_APOSTROPHES = frozenset("'\u2019\u2018`\u00b4\u02bc")
_TRANSLATE = {"\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u2026": "."}
# Zero-width joiners, variation selectors and skin tones belong to an emoji; they mean nothing alone.
_INVISIBLE = frozenset({"\u200d", "\ufe0f", "\ufe0e", "\u200b"}) | {chr(c) for c in range(0x1F3FB, 0x1F400)}


def _is_emoji(char: str) -> bool:
    # Emoji and pictographs end a thought ("no fever 👍 legs numb"); the degree sign and £ are not among them.
    return ord(char) >= 0x2190 and unicodedata.category(char) in {"So", "Sk", "Cs", "Co"}


@dataclass(frozen=True, kw_only=True)
class Prepared:
    """A normalised message. ``origin[i]`` is the index in the original text of normalised character ``i``."""

    raw: str
    text: str
    origin: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span in the original text that the normalised span ``[start, end)`` came from."""
        if not self.text:
            return 0, 0
        start = min(max(start, 0), len(self.text) - 1)
        last = min(max(end - 1, start), len(self.text) - 1)
        return self.origin[start], self.origin[last] + 1


def normalise(raw: str) -> Prepared:
    chars: list[str] = []
    origin: list[int] = []

    def put(char: str, index: int) -> None:
        if char in " \n":
            # One space between words; a line break outranks a space.
            if not chars or chars[-1] == "\n":
                return
            if chars[-1] == " ":
                chars[-1] = char if char == "\n" else " "
                origin[-1] = index
                return
        elif len(chars) >= 2 and chars[-1] == chars[-2] == char and char.isalpha():
            return  # "sooo" -> "soo", "numbbb" -> "numbb"
        chars.append(char)
        origin.append(index)

    for index, char in enumerate(raw):
        if char in _APOSTROPHES or char in _INVISIBLE:
            continue
        if char in _TRANSLATE:
            put(_TRANSLATE[char], index)
        elif char in "\r\n\u2028\u2029" or _is_emoji(char):
            put("\n", index)
        elif char.isspace():
            put(" ", index)
        else:
            for piece in char.lower():
                put(piece, index)
    while chars and chars[-1] in " \n":
        chars.pop()
        origin.pop()
    return Prepared(raw=raw, text="".join(chars), origin=tuple(origin))


# A full stop ends a sentence unless it sits inside a number ("38.5").
_HARD_BOUNDARY = re.compile(r"[!?;\n]|(?<!\d)\.|\.(?!\d)")
WORD = re.compile(r"\w+")


@dataclass(frozen=True, kw_only=True)
class Segments:
    """Ordered, non-overlapping ``[start, end)`` spans covering the text (sentences or clauses)."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def index_of(self, position: int) -> int:
        return max(bisect.bisect_right(self.starts, position) - 1, 0)

    def span_of(self, position: int) -> tuple[int, int]:
        i = self.index_of(position)
        return self.starts[i], self.ends[i]


def _segments(length: int, cuts: list[int]) -> Segments:
    edges = sorted({0, length, *(c for c in cuts if 0 < c < length)})
    return Segments(starts=tuple(edges[:-1]) or (0,), ends=tuple(edges[1:]) or (0,))


def sentences(text: str) -> Segments:
    return _segments(len(text), [m.end() for m in _HARD_BOUNDARY.finditer(text)])


def phrases(text: str, terminators: re.Pattern[str]) -> Segments:
    """Sentences cut again at words such as "but", "however", "now": where one context stops applying."""
    cuts = [m.end() for m in _HARD_BOUNDARY.finditer(text)]
    cuts += [m.start() for m in terminators.finditer(text)]
    return _segments(len(text), cuts)


def clauses(text: str, terminators: re.Pattern[str], openers: re.Pattern[str]) -> Segments:
    """Phrases cut again where "and"/","/"&" starts a new subject or verb ("no fever and I can't pee")."""
    cuts = [m.end() for m in _HARD_BOUNDARY.finditer(text)]
    cuts += [m.start() for m in terminators.finditer(text)]
    cuts += [m.start() for m in openers.finditer(text)]
    return _segments(len(text), cuts)


def words_between(text: str, start: int, end: int) -> int:
    return len(WORD.findall(text, start, end)) if end > start else 0
