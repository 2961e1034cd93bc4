"""Aftercare's free-text safety net: screen any message a patient sends for red and amber symptoms.

``screen(text)`` finds symptom phrases from the lexicon (flows/data/symptoms.yaml), sets aside those that are
negated, in the past, hypothetical or about someone else (each recorded with the reason, for the safety
officer), and returns the findings with the worst level. The bias is deliberate: when the context is unclear
the finding stays, because a false alarm costs a phone call and a missed red flag can cost a spine.
Approach, figures and limits: docs/clinical-safety/safety-net.md.

Pure: no I/O beyond reading the packaged lexicon once, no clock, no logging (never log message text).
``screen`` never raises: if screening itself fails, the message is returned as AMBER so a person reads it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from flows.levels import Level, worst
from flows.screening._context import PhraseContext, Span, analyse, merged
from flows.screening._lexicon import (
    EXPECTED_ANAESTHETIC,
    OPT_IN_REASONS,
    REASONS,
    Lexicon,
    LexiconError,
    Pattern,
    Reason,
    Rule,
    lexicon,
)
from flows.screening._model import safety_model
from flows.screening._text import Prepared, normalise, sentences

__all__ = ["SCREENING_FAILED", "Discounted", "Finding", "LexiconError", "Screening", "rule_ids", "screen"]

# The finding returned when screening itself failed: a person must read the message.
SCREENING_FAILED = "amber.unwell.screening_failed"


@dataclass(frozen=True, kw_only=True)
class Finding:
    rule: str  # stable rule id, e.g. "red.ces.saddle_numbness"
    level: Level
    advice: str  # advice id in flows/data/advice.yaml
    start: int  # character span of the matched phrase in the original text
    end: int


@dataclass(frozen=True, kw_only=True)
class Discounted:
    """A phrase that matched a rule but was set aside, with why (for the safety officer's triage tool)."""

    rule: str
    reason: Reason
    start: int
    end: int


@dataclass(frozen=True, kw_only=True)
class Screening:
    level: Level  # worst finding, GREEN if none
    findings: tuple[Finding, ...]
    discounted: tuple[Discounted, ...]
    # Ask when unsure: the red-flag questions to ask at once (question ids), and the ask ids that chose them.
    # Empty when the message is red: its card is the answer, and staff are already told.
    asks: tuple[str, ...] = ()
    ask_rules: tuple[str, ...] = ()
    # When the statistical layer asked: the questions it added, and the words that pushed it towards red.
    model_asks: tuple[str, ...] = ()
    model_reasons: tuple[str, ...] = ()

    @property
    def rules(self) -> tuple[str, ...]:
        """Rule ids of the findings, worst first."""
        return tuple(finding.rule for finding in self.findings)


@dataclass(frozen=True, kw_only=True)
class _Match:
    concept: str
    span: Span


NOTHING_FOUND = Screening(level=Level.GREEN, findings=(), discounted=())


def rule_ids() -> tuple[str, ...]:
    """Every rule id in the lexicon, in file order (for the triage tool and the tests)."""
    return tuple(rule.id for rule in lexicon().rules)


def _to_celsius_or_mmol(value: float, unit: str) -> float | None:
    if unit == "temperature":
        if 34 <= value <= 43:
            return value
        if 93 <= value <= 110:  # Fahrenheit
            return (value - 32) * 5 / 9
        return None  # not a body temperature
    if unit == "glucose":
        return value / 18 if value > 35 else value  # above ~35 it can only be mg/dL
    return value


def _find(text: str, concept: str, patterns: Sequence[Pattern]) -> list[_Match]:
    """The concept's phrases in the text; overlapping matches of several patterns become one phrase."""
    spans: list[Span] = []
    for pattern in patterns:
        for m in pattern.regex.finditer(text):
            if pattern.unit is not None:
                value = _to_celsius_or_mmol(
                    float(m.group("value").replace(",", ".").replace(" ", "")), pattern.unit
                )
                if value is None or not pattern.accepts(value):
                    continue
            spans.append(m.span())
    return [_Match(concept=concept, span=span) for span in merged(spans)]


class _Evaluation:
    def __init__(self, prepared: Prepared, lex: Lexicon) -> None:
        self.prepared = prepared
        text = prepared.text
        self.matches: dict[str, list[_Match]] = {
            name: _find(text, name, patterns) if lex.any_phrase[name].search(text) else []
            for name, patterns in lex.concepts.items()
        }
        self.found_any = any(self.matches.values())
        self.contextless = lex.contextless
        if not self.found_any:  # most messages ("4", "no"): nothing to read the context of
            return
        self.context: dict[Span, PhraseContext] = analyse(
            text, lex.cues, [m.span for found in self.matches.values() for m in found]
        )
        self.sentence_of = sentences(text).index_of

    def set_aside(self, rule: Rule, match: _Match) -> tuple[bool, Reason | None]:
        """(counted, reason): whether the phrase counts for this rule, and why not when a context applies."""
        context = self.context[match.span]
        expected = context.expected_anaesthetic
        if (rule.unless == EXPECTED_ANAESTHETIC and expected) or (
            rule.only_if == EXPECTED_ANAESTHETIC and not expected
        ):
            return False, None  # belongs to the other rule of the pair: not "set aside"
        for reason in () if match.concept in self.contextless else (*REASONS, *OPT_IN_REASONS):
            distance = context.reasons.get(reason)
            if distance is None or reason not in rule.discount_by:
                continue
            window = {"other_person": rule.other_person_window, "negated": rule.negation_window}.get(reason)
            if window is not None and distance > window:
                continue
            return False, reason
        return True, None

    def fire(self, rule: Rule) -> tuple[_Match | None, list[tuple[_Match, Reason]]]:
        """The anchor phrase when the rule applies; else the set-aside phrases that would have fired it."""
        set_aside: list[tuple[_Match, Reason]] = []
        for alternative in rule.when:
            if not all(self.matches[concept] for concept in alternative):
                continue  # a concept with no phrase at all: neither fires nor has anything set aside
            counted: dict[str, list[_Match]] = defaultdict(list)
            aside: dict[str, list[tuple[_Match, Reason]]] = defaultdict(list)
            for concept in alternative:
                for match in self.matches[concept]:
                    ok, reason = self.set_aside(rule, match)
                    if ok:
                        counted[concept].append(match)
                    elif reason is not None:
                        aside[concept].append((match, reason))
            anchor = self.anchor(rule, alternative, counted)
            if anchor is not None:
                return anchor, []
            if all(counted[c] or aside[c] for c in alternative):
                set_aside += [aside[c][0] for c in alternative if not counted[c]]
        return None, set_aside

    def anchor(
        self, rule: Rule, alternative: Sequence[str], counted: Mapping[str, list[_Match]]
    ) -> _Match | None:
        if not all(counted[c] for c in alternative):
            return None
        if rule.within == "message":
            return counted[alternative[0]][0]
        for match in counted[alternative[0]]:
            sentence = self.sentence_of(match.span[0])
            if all(any(self.sentence_of(m.span[0]) == sentence for m in counted[c]) for c in alternative[1:]):
                return match
        return None

    def screening(self, lex: Lexicon) -> Screening:
        if not self.found_any:  # no phrase of any concept: no rule can fire or have anything set aside
            return NOTHING_FOUND
        fired: dict[str, tuple[Rule, _Match]] = {}
        aside: list[Discounted] = []
        for rule in lex.rules:
            anchor, set_aside = self.fire(rule)
            if anchor is not None:
                fired[rule.id] = (rule, anchor)
            for match, reason in set_aside:
                start, end = self.prepared.original_span(*match.span)
                aside.append(Discounted(rule=rule.id, reason=reason, start=start, end=end))
        suppressed = {s for rule, _ in fired.values() for s in rule.suppresses}
        findings = []
        for rule, anchor in fired.values():
            if rule.id not in suppressed:
                start, end = self.prepared.original_span(*anchor.span)
                findings.append(
                    Finding(rule=rule.id, level=rule.level, advice=rule.advice, start=start, end=end)
                )
        findings.sort(key=lambda f: (-f.level.rank, f.start, f.rule))
        discounted = tuple(
            dict.fromkeys(d for d in aside if d.rule not in fired and d.rule not in suppressed)
        )
        level = worst(*(f.level for f in findings))
        ask_rules: list[str] = []
        questions: list[str] = []
        if level is not Level.RED:
            for ask in lex.asks:
                if any(ask.covered(rule_id) for rule_id in fired):
                    continue
                if self.fire(ask.rule)[0] is not None:
                    ask_rules.append(ask.id)
                    questions += [q for q in ask.questions if q not in questions]
        return Screening(
            level=level,
            findings=tuple(findings),
            discounted=discounted,
            asks=tuple(questions),
            ask_rules=tuple(ask_rules),
        )


MODEL_ASK = "ask.model"  # the ask id recorded when the statistical layer chose the question


def _with_model(found: Screening, text: str, lex: Lexicon) -> Screening:
    """The statistical layer, after the rules: a message they neither graded red nor asked about, but that
    reads like the corpus's red messages, gets the red-flag questions of its two likeliest areas. It only
    ever adds a question."""
    if found.level is Level.RED or found.asks or lex.model is None:
        return found  # a red card, or the rules already asked about the area: nothing to add
    if sum(1 for word in text.split() if any(ch.isalpha() for ch in word)) < lex.model.min_words:
        return found
    model = safety_model()
    level, pushes = model.level.scores(text)
    if level.get("red", 0.0) < lex.model.ask_at:
        return found
    domain, _ = model.domain.scores(text)
    # The two likeliest areas: the area model is less sure than the red-or-not model, and a question too many
    # costs a tap where the wrong question alone could miss the point.
    areas = sorted(domain, key=lambda name: domain[name], reverse=True)[:2]
    questions = list(
        dict.fromkeys(q for a in areas for q in lex.model.questions.get(a, ()) if q not in found.asks)
    )
    words = set(text.lower().split())
    readable = [term for weight, term in pushes if weight > 0 and all(w in words for w in term.split())]
    reasons = tuple(readable[:5])  # whole words and word pairs: what a clinician can read
    return replace(
        found,
        asks=found.asks + tuple(questions),
        ask_rules=found.ask_rules + ((MODEL_ASK,) if questions else ()),
        model_asks=tuple(questions),
        model_reasons=reasons if questions else (),
    )


def screen(text: str) -> Screening:
    """Screen one patient message. Never raises; a failure comes back as AMBER for a person to read."""
    try:
        lex = lexicon()
        return _with_model(_Evaluation(normalise(text), lex).screening(lex), text, lex)
    except Exception:  # a safety net must not tear: whatever went wrong, a person reads this message
        length = len(text) if isinstance(text, str) else 0
        failed = Finding(rule=SCREENING_FAILED, level=Level.AMBER, advice="amber.unwell", start=0, end=length)
        return Screening(level=Level.AMBER, findings=(failed,), discounted=())
