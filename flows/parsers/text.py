"""Clean-up shared by the answer parsers: Unicode, keycap emoji, dashes, apostrophes, spacing.

``normalise`` keeps meaning and drops noise: NFKC (full-width digits, "℃"), keycaps ("7️⃣" -> "7"), vulgar
fractions ("6½" -> "6.5", before NFKC would make it "61⁄2"), one kind of dash and apostrophe, lower case,
single spaces, no trailing full stops or exclamation marks. Emoji are kept: 👍 means yes to the yes/no
parser; the number parsers ignore them. Must not: decide what an answer means. Standard library only.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

# Private-use stand-ins let a fraction survive NFKC, which would turn "6½" into "61⁄2" (a different number).
_FRACTION_VALUES = {"½": Decimal("0.5"), "¼": Decimal("0.25"), "¾": Decimal("0.75")}
_FRACTION_MARKS = {ch: chr(0xE000 + i) for i, ch in enumerate(_FRACTION_VALUES)}
_MARK_VALUES = {_FRACTION_MARKS[ch]: value for ch, value in _FRACTION_VALUES.items()}
_FRACTION = re.compile(r"(?<![0-9])([0-9]*)[ \t]?([" + "".join(_MARK_VALUES) + "])")

_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_APOSTROPHES = "\u2018\u2019\u02bc\u0060\u00b4\u2032"
_TRANSLATE = {ord(c): "-" for c in _DASHES} | {ord(c): "'" for c in _APOSTROPHES} | {0x2044: "/"}
_TRANSLATE |= {ord(c): m for c, m in _FRACTION_MARKS.items()}
_TRANSLATE |= {0x1F51F: " 10 "}  # the "keycap ten" emoji
# Variation selectors, the keycap mark, skin tones: "7️⃣" is 7 and "👍🏽" is 👍.
_INVISIBLE = {0xFE0E, 0xFE0F, 0x20E3} | set(range(0x1F3FB, 0x1F400))
_SPACES = re.compile(r"\s+")
_TRAILING = " .,!;:~*\t"


def normalise(text: str, *, keep_case: bool = False) -> str:
    """The answer with Unicode and spacing tidied; lower case unless ``keep_case`` (the glucose HI check)."""
    text = text.translate(_TRANSLATE)
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_TRANSLATE)
    text = "".join(_visible(ch) for ch in text)
    text = _FRACTION.sub(_fraction, text)
    if not keep_case:
        text = text.lower()
    return _SPACES.sub(" ", text).strip().rstrip(_TRAILING)


def _visible(ch: str) -> str:
    if ord(ch) in _INVISIBLE:
        return ""
    category = unicodedata.category(ch)
    if category in ("Cc", "Cs", "Zl", "Zp"):
        return " "
    if category == "Cf":  # zero-width space and joiner, soft hyphen, byte-order mark
        return " " if ch == "\u200b" else ""
    return ch


def _fraction(match: re.Match[str]) -> str:
    whole = Decimal(match.group(1)) if match.group(1) else Decimal(0)
    return " " + str(whole + _MARK_VALUES[match.group(2)]) + " "


def without_apostrophes(text: str) -> str:
    """ "don't" and "dont" read the same; so do "it's" and "its"."""
    return text.replace("'", "")


def phrases(*fragments: str) -> str:
    """A regex alternation of whole-word fragments, longest first so "not at all" beats "not"."""
    ordered = sorted(set(fragments), key=len, reverse=True)
    return r"(?<![\w'])(?:" + "|".join(ordered) + r")(?![\w'])"


def words(text: str) -> list[str]:
    """Lower-case words without apostrophes; underscores split words ("no_flare" -> no, flare)."""
    return re.findall(r"[^\W_]+", without_apostrophes(text.lower()))


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when a and b differ by one typed slip: a letter added, dropped, changed, or two swapped."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diffs = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        if len(diffs) == 1:
            return True
        if len(diffs) != 2 or diffs[1] != diffs[0] + 1:
            return False
        i, j = diffs
        return a[i] == b[j] and a[j] == b[i]
    short, long = (a, b) if len(a) < len(b) else (b, a)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))
