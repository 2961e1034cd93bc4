"""Yes or no, as patients type it: words, dialect, text speak, emoji, and the chatter around them.

Safety rules, which the tests pin down:
- Hedged or mixed answers ("not sure", "maybe", "possibly", "I think so", "not really", "sort of", "kind of",
  "yes and no", a question mark) are unreadable as yes_no.unsure: the engine asks again and, on a red-flag
  question, escalates. They are never read as "no".
- How much, on its own ("a bit", "a little", "slightly", "a touch", "now and then", "on and off",
  "sometimes"), is unsure too: a mild symptom is not a "no", and on a question phrased the other way ("Are
  your painkillers keeping the pain under control?") "a bit" is not a clean "yes" either. With a clear yes
  ("yes my lips are a bit swollen") it is a yes; with a no ("no, just a little") it stays unsure.
- Clear words ("yes", "nope", 👍, "no I haven't") decide. Weaker ones ("ok", "I have") count only when no
  clear word is present, and "ok" or "fine" inside a sentence ("I'm ok") is not taken as yes or no.
- A "no" with more than chatter around it ("no pain but my legs are numb", "I'm not able to pee") is
  unreadable as yes_no.no_with_news: the rest of the message may describe the very symptom asked about. The
  engine reads it as "no" only when the safety net finds nothing in the rest ("No, walking better than
  before, thank you"); otherwise, on a red-flag question, as unsure.
- "Nothing", "none" and "never" mean no only as the whole answer ("none of them"): in "nothing will come
  out" they are not an answer at all.
Must not: import anything outside the standard library and this package.
"""

from __future__ import annotations

import re
from enum import StrEnum

from flows.parsers.result import Parsed, read, unreadable
from flows.parsers.text import normalise, phrases, without_apostrophes, words


class _Said(StrEnum):
    YES = "yes"
    NO = "no"
    WEAK_YES = "weak_yes"  # "i have", "it is": yes when nothing clearer is said
    DEGREE = "degree"  # "a bit", "now and then": how much, not whether; yes only beside a clear yes
    VAGUE = "vague"  # "fine", "ok" in a sentence: polite, but not an answer to the question


_EMOJI = {
    "👍": " yes ", "✅": " yes ", "✔": " yes ", "✓": " yes ", "☑": " yes ", "🆗": " ok ", "👌": " ok ",
    "👎": " no ", "❌": " no ", "✖": " no ", "✗": " no ", "✘": " no ", "❎": " no ", "🚫": " no ",
    "⛔": " no ", "🙅": " no ", "🤷": " not sure ", "🤔": " not sure ", "😕": " not sure ",
    "❓": "?", "❔": "?",
}  # fmt: skip
_HEDGE = re.compile(
    phrases(
        r"not\s+(?:really\s+)?sure", "unsure", "uncertain", r"not\s+certain", "maybe", r"may\s+be", "perhaps",
        "possibly", "probably", "might", r"could\s+be", r"(?:dont|do\s+not)\s+know", "dunno", "idk",
        r"no\s+idea", r"i\s+think", r"think\s+so", r"dont\s+think", r"i\s+guess", r"guess\s+so", r"sort\s+of",
        "sorta", r"kind\s+of", "kinda", r"yes\s+and\s+no", r"yes\s+or\s+no", r"hard\s+to\s+say",
        r"(?:cant|cannot)\s+(?:tell|say)", r"n\s*/\s*a", r"not\s+applicable", r"h+m+", "um+", "erm+",
        r"not\s+(?:too|that|so)\s+bad", r"not\s+bad", r"not\s+much", r"in\s+between", r"a\s+bit\s+of\s+both",
        "depends", r"50\s*/\s*50", r"not\s+really", r"not\s+a\s+lot", r"not\s+(?:massively|hugely|majorly)",
        "ish",
    )
)  # fmt: skip
_PHRASES: dict[_Said, tuple[str, ...]] = {
    _Said.NO: (
        "no+", "n", "nope", "nop", "nah+", "naw", "na", "nay", "nae", r"not\s+at\s+all",
        "nie", "nahi", "nahin", "nao", "nein", "nej",  # no in Polish, Urdu/Hindi, Portuguese, German...
        r"not\s+a\s+bit", r"not\s+one\s+bit",
        r"not\s+in\s+the\s+slightest", r"not\s+even\s+a\s+little", r"not\s+any", r"not\s+yet",
        r"not\s+anymore", r"(?:definitely|certainly|absolutely|of\s+course)\s+not",
        r"not\s+that\s+i(?:ve|\s+have)?\s+(?:know\s+of|noticed)",
        r"(?:i\s+)?(?:havent|have\s+not|hasnt|has\s+not|dont|do\s+not|didnt|did\s+not|wasnt|was\s+not)",
        r"(?:i\s+am|im)\s+not", r"(?:it\s+)?(?:isnt|is\s+not)", r"its\s+not", r"no\s+way",
    ),
    _Said.YES: (
        "y", "y+e+s+", "ye", "yea+", "yeah+", "yeh", "yep+", "yup+", "yh", "ya", "yah", "yse", "yesh", "aye",
        "affirmative", "definitely", "certainly", "absolutely", r"of\s+course", "indeed", "correct", "true",
        r"that\s+is\s+right", r"thats\s+right", r"for\s+sure", "sure", r"yes+\s+please",
        "tak", "haan", "haanji", "ji", "sim", "oui", "da", "si",  # yes in Polish, Urdu/Hindi, Portuguese...
    ),
    # how much, not whether: see the module docstring
    _Said.DEGREE: (
        r"a\s+bit", "bit", r"a\s+little(?:\s+bit)?", r"little\s+bit", "slightly", "mild", "mildly",
        "somewhat", r"a\s+touch", r"a\s+tad", "sometimes", "occasionally", r"on\s+and\s+off",
        r"off\s+and\s+on", r"(?:every\s+)?now\s+and\s+(?:then|again)", r"a\s+few", r"at\s+times",
        r"from\s+time\s+to\s+time", r"here\s+and\s+there", r"a\s+wee\s+bit",
    ),
    _Said.WEAK_YES: (
        r"i\s+(?:have|do|did)", "ive", r"it\s+(?:is|has|does)", r"they\s+(?:are|have|do)", r"i\s+have\s+had",
        r"ive\s+had",
    ),
    _Said.VAGUE: (
        "fine", "good", "alright", r"all\s+right", "ok", "okay", "okey", "okie", "k", "kk", "grand", "well",
    ),
}  # fmt: skip
_ANY = re.compile(phrases(*(p for ps in _PHRASES.values() for p in ps)))
_KIND = [(kind, re.compile(phrases(*ps))) for kind, ps in _PHRASES.items()]
_OK_ALONE = {"ok", "okay", "okey", "okie", "k", "kk"}
# "Nothing", "none", "never" are a clear no on their own, but inside a sentence they are often about something
# else: "nothing will come out" (when trying to pee) is a red flag, not a "no".
_NO_ALONE = re.compile(
    r"(?:none|nothing|never|nil|nowt|negative|false)"
    r"(?:\s+(?:at\s+all|whatsoever|like\s+that|of\s+(?:them|those|these|that|the\s+above)))?"
)
_POLITE = {"thanks", "thank", "you", "ta", "cheers", "then", "love", "dear", "x", "xx", "xxx"}
# A "no" stands only when everything else in its clause is chatter like this, and every other clause is only
# pleasantries. "No pain but my legs are numb", "no pain, fever" or "I'm not able to pee" are not a plain no:
# they read as unsure, so the engine asks again or escalates.
_PLEASANTRIES = _POLITE | {
    "i", "im", "am", "its", "it", "is", "all", "fine", "good", "ok", "okay", "alright", "well", "great",
    "doing", "feeling", "so", "far", "thankfully", "luckily", "everything", "else", "otherwise", "sorry",
    "honestly", "touch", "wood", "dr", "doctor", "nurse", "here", "now",
}  # fmt: skip
_CHATTER = _PLEASANTRIES | {
    "ive", "me", "my", "was", "been", "have", "had", "has", "at", "really", "still", "that", "like", "those",
    "them", "these", "any", "anything", "of", "the", "a", "to", "since", "today", "yet", "either", "problems",
    "problem", "issues", "symptoms", "pain", "fever", "temperature", "temp", "change", "changes", "different",
    "difference", "worries", "new", "noticed", "know", "glad", "pleased", "happy", "say", "seems", "normal",
    "injection", "jab",
}  # fmt: skip
_CLAUSE = re.compile(r"[,.;:!]|(?<![\w'])(?:but|and|though|although|except|apart|only|however|just)(?![\w'])")


def parse_yes_no(text: str) -> Parsed[bool]:
    """True for yes, False for no; unreadable when hedged, mixed or not an answer."""
    s = normalise(text)
    if not s:
        return unreadable("answer.empty")
    for emoji, word in _EMOJI.items():
        s = s.replace(emoji, word)
    s = without_apostrophes(s)
    if "?" in s or _HEDGE.search(s):
        return unreadable("yes_no.unsure")
    said = {_kind(m.group()) for m in _ANY.finditer(s)}
    if {_Said.YES, _Said.NO} <= said or {_Said.NO, _Said.DEGREE} <= said:
        return unreadable("yes_no.unsure")
    if _Said.YES in said:
        return read(True)  # "yes my lips are a bit swollen": a clear yes, however mild
    if _Said.DEGREE in said:
        return unreadable("yes_no.unsure")  # "a bit", "on and off": how much, not yes or no
    if _Said.NO in said:
        return read(False) if _plain_no(s) else unreadable("yes_no.no_with_news")
    content = [w for w in words(s) if w not in _POLITE]
    if _NO_ALONE.fullmatch(" ".join(content)):
        return read(False)
    if content and all(w in _OK_ALONE for w in content):
        return read(True)  # "ok", "ok thanks": a plain agreement
    if _Said.WEAK_YES in said:
        return unreadable("yes_no.unsure") if _Said.VAGUE in said else read(True)
    return unreadable("yes_no.no_answer")


def _plain_no(s: str) -> bool:
    """A "no" with chatter in its clause, and nothing but pleasantries elsewhere."""
    for clause in _CLAUSE.split(s):
        answered = _ANY.search(clause) is not None
        allowed = _CHATTER if answered else _PLEASANTRIES
        if any(w not in allowed for w in words(_ANY.sub(" ", clause))):
            return False
    return True


def _kind(phrase: str) -> _Said:
    for kind, pattern in _KIND:
        if pattern.fullmatch(phrase):
            return kind
    return _Said.VAGUE
