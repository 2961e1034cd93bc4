"""One option from a list, as patients type it: the option's id or label, its number, or its key words.

How a reply is matched, in order:
1. the whole reply is an option's id or label (any case, punctuation ignored);
2. the reply is a number: the option at that place ("2" -> the second); refused if a label has digits;
3. the reply's words are part of exactly one label ("getting worse" -> "Yes, getting worse");
4. the reply's words point at exactly one option: a word that only that option's label or id contains
   ("getting worse now" -> "Yes, getting worse"), or one typing slip from such a word ("wrose").
Safety: a reply whose words point at two options, or whose key word is negated ("not worse"), is refused as
choice.ambiguous; nothing matched is choice.no_match. Must not: import anything outside the standard library
and this package.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flows.parsers.result import Parsed, read, unreadable
from flows.parsers.text import edit_distance_at_most_one, normalise, words

_STOPWORDS = {
    "a", "an", "the", "i", "im", "ive", "it", "its", "is", "was", "are", "my", "me", "of", "or", "and",
    "to", "in", "on", "at", "so", "be", "been", "very", "just", "now", "today", "but", "has", "have", "had",
    "thanks", "thank", "you", "please", "option", "number", "think", "would", "say", "id", "ok", "okay",
    "well", "bit", "quite",
}  # fmt: skip
_NEGATORS = {
    "not", "no", "never", "isnt", "hasnt", "havent", "arent", "dont", "doesnt", "didnt", "wasnt", "without",
    "nor", "neither", "cant",
}  # fmt: skip
_NUMBER_REPLY = re.compile(
    r"(?:(?:option|number|no\.?|#)\s*)?([0-9]+)\s*[).:]?(?:\s*(?:please|thanks|thank you))?"
)
_LONE_NUMBER = re.compile(r"(?<![0-9.,])[0-9]+(?![0-9.,])")


def parse_choice(text: str, options: Sequence[tuple[str, str]]) -> Parsed[str]:
    """The id of the option the reply picks; unreadable if it fits none or more than one."""
    s = normalise(text)
    if not s:
        return unreadable("answer.empty")
    exact = {oid for oid, label in options if _is_exactly(s, oid, label)}
    if exact:
        return read(exact.pop()) if len(exact) == 1 else unreadable("choice.ambiguous")
    numbered = not any(re.search(r"[0-9]", oid + label) for oid, label in options)
    number = _NUMBER_REPLY.fullmatch(s)
    if number and not numbered:
        return unreadable("choice.ambiguous")  # "2" with labels "1 day", "2 days": the second, or "2 days"?
    if number:
        place = int(number.group(1)) if len(number.group(1)) < 4 else 0
        return read(options[place - 1][0]) if 1 <= place <= len(options) else unreadable("choice.no_match")
    inside = {oid for oid, label in options if _is_inside(words(s), words(label))}
    if len(inside) == 1:
        return read(inside.pop())  # "it has settled" is part of "Yes, it has settled" and no other label
    return _by_key_words(s, options, numbered=numbered)


def _is_exactly(s: str, oid: str, label: str) -> bool:
    """The reply is the option's id or label, give or take case, punctuation and emoji."""
    said = words(s)
    return s in (normalise(oid), normalise(label)) or (bool(said) and said in (words(oid), words(label)))


def _is_inside(said: list[str], label: list[str]) -> bool:
    """The reply's words appear together, in order, in the label, and are more than filler words."""
    if not said or all(w in _STOPWORDS for w in said):
        return False
    n = len(said)
    return any(label[i : i + n] == said for i in range(len(label) - n + 1))


def _by_key_words(s: str, options: Sequence[tuple[str, str]], *, numbered: bool) -> Parsed[str]:
    vocabulary: dict[str, set[str]] = {}
    for oid, label in options:
        for word in words(oid) + words(label):
            if word not in _STOPWORDS:
                vocabulary.setdefault(word, set()).add(oid)
    negators = _NEGATORS - vocabulary.keys()  # "not" in "Yes, not settled yet" is part of the option
    said = words(s)
    hits: list[set[str]] = []
    for i, word in enumerate(said):
        if word in _STOPWORDS:
            continue
        matches = vocabulary.get(word) or _slip_of(word, vocabulary)
        if not matches:
            continue
        if negators & set(said[max(0, i - 2) : i]):
            return unreadable("choice.ambiguous")  # "not worse": which option is that?
        hits.append(matches)
    if numbered:
        for token in _LONE_NUMBER.findall(s):
            place = int(token) if len(token) < 4 else 0
            hits.append({options[place - 1][0]} if 1 <= place <= len(options) else set())
    if not hits:
        return unreadable("choice.no_match")
    picked = set.union(*(h for h in hits if len(h) == 1)) if any(len(h) == 1 for h in hits) else set()
    if len(picked) == 1 and all(picked <= h for h in hits):
        return read(picked.pop())
    return unreadable("choice.ambiguous")


def _slip_of(word: str, vocabulary: dict[str, set[str]]) -> set[str]:
    """Options whose key word is one typing slip from ``word``; only for words of 5+ letters, where a slip
    cannot turn one real word into another as easily ("sore"/"sure", "same"/"some")."""
    if len(word) < 5:
        return set()
    near = [ids for key, ids in vocabulary.items() if len(key) >= 5 and edit_distance_at_most_one(word, key)]
    return set.union(*near) if len(near) == 1 else set()
