"""ConText-style context for matched symptom phrases: negated, in the past, hypothetical, about someone else.

Given the normalised message and the spans of every matched phrase, find the context triggers (cue lists in
symptoms.yaml) and decide, phrase by phrase, which contexts apply. Scopes are deliberately narrow: a cue that
reaches too far would hide a red flag, while one that reaches too little only costs a false alarm. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from flows.screening._lexicon import Reason
from flows.screening._text import Segments, clauses, phrases, sentences, words_between

Span = tuple[int, int]

# A negated list goes on only through these joiners ("no fever, numbness or bladder problems").
_LIST_JOINER = re.compile(r"\b(?:or|nor)\b|/")
# A new verb or the patient's "I" between two phrases means a new statement, not a list.
_NEW_STATEMENT = re.compile(
    r"\b(?:is|are|am|im|was|were|been|be|feel|feels|felt|got|gone|going|keep|keeps|kept|can|cant|cannot|could"
    r"|couldnt|have|has|had|will|wont|started|i|its|theyre|now|but)\b"
)
# Backwards, a list needs an explicit joiner ("bladder and bowel problems fine"), never a bare comma.
_BACKWARD_JOINER = re.compile(r"^\s*(?:and|or|n|&|/)\s*(?:\w+\s+){0,2}$")
_FIRST_TARGET_STOP = re.compile(r",|\band\b|&")
_FORWARD_REACH = 5  # words from a negation to the phrase it negates
_BACKWARD_REACH = 4


@dataclass(frozen=True, kw_only=True)
class PhraseContext:
    """What applies to one matched phrase. ``reasons`` maps a reason to its distance in words from the cue."""

    reasons: Mapping[Reason, int] = field(default_factory=dict)
    expected_anaesthetic: bool = False


@dataclass(frozen=True, kw_only=True)
class _Trigger:
    kind: str
    start: int
    end: int


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merged(spans: Sequence[Span]) -> list[Span]:
    """Overlapping spans joined: how many separate phrases were named."""
    joined: list[Span] = []
    for span in sorted(spans):
        if joined and span[0] < joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], span[1]))
        else:
            joined.append(span)
    return joined


def _triggers(text: str, cues: Mapping[str, re.Pattern[str]], targets: Sequence[Span]) -> list[_Trigger]:
    """Every cue in the text, minus those inside a pseudo-cue or a symptom phrase; the longest wins."""
    taken = [m.span(1) for m in cues["pseudo"].finditer(text)] + list(targets)
    found: list[_Trigger] = []
    for kind in (
        "negated_forward",
        "negated_backward",
        "resolved_earlier",
        "past",
        "hypothetical",
        "other_person",
        "kin",
    ):
        for m in cues[kind].finditer(text):
            span = m.span()
            if span[0] == span[1] or any(_overlaps(span, t) for t in taken):
                continue
            found.append(_Trigger(kind=kind, start=span[0], end=span[1]))
    kept: list[_Trigger] = []
    for trigger in sorted(found, key=lambda t: t.start - t.end):
        if not any(_overlaps((trigger.start, trigger.end), (k.start, k.end)) for k in kept):
            kept.append(trigger)
    return sorted(kept, key=lambda t: t.start)


class _Analysis:
    def __init__(self, text: str, cues: Mapping[str, re.Pattern[str]], targets: Sequence[Span]) -> None:
        self.text = text
        self.cues = cues
        self.targets = sorted(set(targets))
        self.sentences: Segments = sentences(text)
        self.phrases: Segments = phrases(text, cues["terminators"])
        openers = re.compile(rf"(?:,|\band\b|&|\bn\b)\s*(?={cues['clause_openers'].pattern})")
        self.clauses: Segments = clauses(text, cues["terminators"], openers)
        self.reasons: dict[Span, dict[Reason, int]] = {t: {} for t in self.targets}
        self.triggers = _triggers(text, cues, self.targets)
        self.trigger_spans = [(t.start, t.end) for t in self.triggers]

    def mark(self, target: Span, reason: Reason, distance: int = 0) -> None:
        current = self.reasons[target].get(reason)
        if current is None or distance < current:
            self.reasons[target][reason] = distance

    def together(self, first: Span) -> list[Span]:
        """The phrase and any other concept's match over the same words."""
        return [t for t in self.targets if _overlaps(t, first)]

    # ---- negation
    def negate_forward(self, trigger: _Trigger) -> None:
        clause_end = self.clauses.span_of(trigger.start)[1]
        stop = _FIRST_TARGET_STOP.search(self.text, trigger.end, clause_end)
        limit = stop.start() if stop else clause_end
        # A phrase that runs past "apart from"/"but" is an exception to the negation, not part of it.
        after = [t for t in self.targets if trigger.end <= t[0] < limit and t[1] <= clause_end]
        if not after or words_between(self.text, trigger.end, after[0][0]) > _FORWARD_REACH:
            return
        phrase_end = self.phrases.span_of(trigger.start)[1]
        reach = after[0][1]
        distance = words_between(self.text, trigger.end, after[0][0])
        for target in self.together(after[0]):
            self.mark(target, "negated", distance)
            reach = max(reach, target[1])
        for target in (t for t in self.targets if reach <= t[0] and t[1] <= phrase_end):
            glue = self.text[reach : target[0]]
            joined = _LIST_JOINER.search(glue) or (
                "," in glue and _LIST_JOINER.search(self.text, target[0], self.clauses.span_of(target[0])[1])
            )
            if not joined or _NEW_STATEMENT.search(glue) or words_between(self.text, reach, target[0]) > 4:
                break
            for same in self.together(target):
                self.mark(same, "negated", words_between(self.text, trigger.end, same[0]))
                reach = max(reach, same[1])

    def negate_backward(self, trigger: _Trigger) -> None:
        clause_start = self.clauses.span_of(max(trigger.start - 1, 0))[0]
        before = sorted(
            (t for t in self.targets if t[1] <= trigger.start and t[0] >= clause_start), key=lambda t: -t[1]
        )
        if not before:
            return
        glue = self.text[before[0][1] : trigger.start]
        if "," in glue or words_between(self.text, before[0][1], trigger.start) > _BACKWARD_REACH:
            return
        edge = before[0][0]
        for target in before:
            # Same words as the phrase already negated, or joined to it by "and"/"or" ("bladder and bowels").
            if target[1] > edge or _BACKWARD_JOINER.match(self.text[target[1] : edge]):
                self.mark(target, "negated")
                edge = min(edge, target[0])
            else:
                break

    def resolve_earlier(self, trigger: _Trigger) -> None:
        # "legs were numb after the injection but it's all worn off now": only when one thing was named.
        start, _ = self.clauses.span_of(max(trigger.start - 1, 0))
        before = [t for t in self.targets if start <= t[0] and t[1] <= trigger.start]
        if len(merged(before)) == 1:
            for target in before:
                self.mark(target, "negated")

    # ---- past, hypothetical, someone else
    def blocked(self, blockers: re.Pattern[str], start: int, end: int) -> bool:
        return any(
            not any(_overlaps(m.span(), s) for s in self.trigger_spans)
            for m in blockers.finditer(self.text, start, end)
        )

    def past(self, trigger: _Trigger) -> None:
        low, high = self.phrases.span_of(trigger.start)
        own_clause = self.clauses.index_of(trigger.start)
        worse = self.cues["worse_again"].search(self.text, high, self.sentences.span_of(trigger.start)[1])
        if worse:
            return  # "I've always had a weak bladder but it's worse now"
        for target in self.targets:
            if low <= target[0] < high:
                c_start, c_end = self.clauses.span_of(target[0])
                c_end = max(c_end, target[1])
                if self.clauses.index_of(target[0]) != own_clause and not self.cues["past_tense"].search(
                    self.text, c_start, c_end
                ):
                    continue  # another clause, not in the past tense: "I've been bleeding, ... years ago"
                if not self.blocked(self.cues["past_blockers"], c_start, c_end):
                    self.mark(target, "past")

    def hypothetical(self, trigger: _Trigger) -> None:
        _, high = self.phrases.span_of(trigger.start)
        for target in self.targets:
            if trigger.end <= target[0] < high:
                c_end = max(self.clauses.span_of(target[0])[1], target[1])
                if not self.blocked(self.cues["hypothetical_blockers"], trigger.end, c_end):
                    self.mark(target, "hypothetical")

    def other_person(self, trigger: _Trigger) -> None:
        _, high = self.phrases.span_of(trigger.start)
        own = self.cues["self_words"].search(self.text, trigger.end, high)
        if own:
            high = own.start()
        for target in self.targets:
            if trigger.end <= target[0] < high:
                self.mark(target, "other_person", words_between(self.text, trigger.end, target[0]))

    def expected_anaesthetic(self) -> set[int]:
        """Sentences that say the numbing medicine is still working today (and nothing worse)."""
        spans = list(enumerate(zip(self.sentences.starts, self.sentences.ends, strict=True)))
        said, blocker = self.cues["expected_anaesthetic"], self.cues["expected_anaesthetic_blockers"]
        if said.search(self.text) and not blocker.search(self.text):
            # "Legs heavy and numb. Had the injection this afternoon": the day is said in another sentence,
            # and nothing anywhere in the message says worse, spreading, yesterday or bladder.
            return {i for i, _ in spans}
        return {
            i
            for i, (start, end) in spans
            if said.search(self.text, start, end) and not blocker.search(self.text, start, end)
        }


def analyse(
    text: str, cues: Mapping[str, re.Pattern[str]], targets: Sequence[Span]
) -> dict[Span, PhraseContext]:
    """The context of every target span (a matched symptom phrase) in the normalised ``text``."""
    analysis = _Analysis(text, cues, targets)
    proxy = cues["proxy"].search(text) is not None
    # Mum, dad, husband, wife... are taken to be the patient (a relative writing on the patient's phone),
    # unless the writer says they are the patient and well ("I'm fine, it's my husband who has a temp").
    kin_apart = not proxy and cues["self_well"].search(text) is not None
    for trigger in analysis.triggers:
        if trigger.kind == "negated_forward":
            analysis.negate_forward(trigger)
        elif trigger.kind == "negated_backward":
            analysis.negate_backward(trigger)
        elif trigger.kind == "resolved_earlier":
            analysis.resolve_earlier(trigger)
        elif trigger.kind == "past":
            analysis.past(trigger)
        elif trigger.kind == "hypothetical":
            analysis.hypothetical(trigger)
        elif (trigger.kind == "other_person" and not proxy) or (trigger.kind == "kin" and kin_apart):
            # A relative writing for the patient ("this is his daughter") is not talking about someone else.
            analysis.other_person(trigger)
    # A phrase inside a negated phrase is negated with it ("no bladder or bowel problems": both).
    for inner in analysis.targets:
        if not analysis.reasons[inner]:
            for outer in analysis.targets:
                negated = analysis.reasons[outer].get("negated")
                if outer != inner and negated is not None and outer[0] <= inner[0] and inner[1] <= outer[1]:
                    analysis.mark(inner, "negated", negated)
    expected = analysis.expected_anaesthetic()
    for target in analysis.targets:
        sentence = analysis.sentences.index_of(target[0])
        if sentence in expected:
            start, end = analysis.sentences.starts[sentence], analysis.sentences.ends[sentence]
            if cues["wearing_off"].search(text, start, end):
                analysis.mark(target, "wearing_off")
    return {
        target: PhraseContext(
            reasons=reasons, expected_anaesthetic=analysis.sentences.index_of(target[0]) in expected
        )
        for target, reasons in analysis.reasons.items()
    }
