"""The screener's lexicon: load flows/data/symptoms.yaml once, check it, and compile its patterns.

A mistake in the lexicon is a patient-safety fault, so loading refuses anything doubtful (an unknown concept,
an advice id of another level, a pattern that does not compile) with a message naming the rule. Pure: reads
only the packaged data file, never the network or the clock.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import yaml

from flows.levels import Level

Reason = Literal["negated", "past", "hypothetical", "other_person", "wearing_off"]
# When one phrase is set aside for several reasons, the triage tool shows the first of these.
REASONS: tuple[Reason, ...] = ("other_person", "hypothetical", "past", "negated")
# Numb or heavy legs on the day of the injection, wearing off (reference: green). Only rules that name it
# in discount_by are set aside for it: a fever in the same sentence still counts.
OPT_IN_REASONS: tuple[Reason, ...] = ("wearing_off",)
Unit = Literal["temperature", "glucose", "plain"]
EXPECTED_ANAESTHETIC = "expected_anaesthetic"

_MACRO = re.compile(r"@([a-z][a-z0-9_]*)")
_RULE_ID = re.compile(r"^(red|amber)(\.[a-z0-9_]+)+$")
_CUE_LISTS = (
    "pseudo", "negated_forward", "negated_backward", "resolved_earlier", "past", "past_blockers",
    "past_tense", "worse_again", "hypothetical", "hypothetical_blockers", "other_person", "self_words",
    "proxy", "kin", "self_well", "wearing_off", "terminators", "clause_openers", "expected_anaesthetic",
    "expected_anaesthetic_blockers",
)  # fmt: skip


class LexiconError(ValueError):
    """symptoms.yaml is not usable; the message says where."""


@dataclass(frozen=True, kw_only=True)
class Pattern:
    regex: re.Pattern[str]
    unit: Unit | None = None  # set when the pattern captures a number in the group "value"
    min: float | None = None
    max: float | None = None
    above: float | None = None
    below: float | None = None

    def accepts(self, value: float) -> bool:
        return not (
            (self.min is not None and value < self.min)
            or (self.max is not None and value > self.max)
            or (self.above is not None and value <= self.above)
            or (self.below is not None and value >= self.below)
        )


@dataclass(frozen=True, kw_only=True)
class Rule:
    id: str
    level: Level
    advice: str
    when: tuple[tuple[str, ...], ...]  # alternatives; each names concepts that must all be present
    within: Literal["message", "sentence"]
    suppresses: tuple[str, ...]
    discount_by: frozenset[Reason]
    negation_window: int | None
    other_person_window: int | None
    unless: str | None
    only_if: str | None


@dataclass(frozen=True, kw_only=True)
class Ask:
    """Ask when unsure: a red-flag area touched without a named red flag gets its red-flag questions."""

    id: str  # e.g. "ask.legs": stable, recorded with the message so the ask stays explainable
    questions: tuple[str, ...]  # question ids in flows/data/questions.yaml
    covered_by: tuple[str, ...]  # rule-id prefixes whose finding already settles the question
    rule: Rule  # the phrases that touch the area, evaluated with the same context as any rule

    def covered(self, rule_id: str) -> bool:
        return any(rule_id == p or rule_id.startswith(p + ".") for p in self.covered_by)


@dataclass(frozen=True, kw_only=True)
class ModelAsks:
    """When the statistical layer asks, and which question for which area (``model`` in symptoms.yaml)."""

    ask_at: float
    min_words: int
    questions: Mapping[str, tuple[str, ...]]


def _model_asks(raw: Any) -> ModelAsks | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"ask_at", "min_words", "questions"}:
        raise LexiconError("symptoms.yaml model: expected ask_at, min_words and questions")
    questions = raw["questions"]
    if not isinstance(questions, dict) or not all(
        isinstance(q, list) and q and all(isinstance(i, str) for i in q) for q in questions.values()
    ):
        raise LexiconError("symptoms.yaml model.questions: each area needs a list of question ids")
    ask_at = float(raw["ask_at"])
    if not 0 < ask_at < 1:
        raise LexiconError("symptoms.yaml model.ask_at: a probability between 0 and 1")
    return ModelAsks(
        ask_at=ask_at,
        min_words=int(raw["min_words"]),
        questions={area: tuple(q) for area, q in questions.items()},
    )


@dataclass(frozen=True, kw_only=True)
class Lexicon:
    concepts: Mapping[str, tuple[Pattern, ...]]
    contextless: frozenset[str]  # places and qualifiers ("the injection site"): never set aside themselves
    rules: tuple[Rule, ...]
    asks: tuple[Ask, ...]
    model: ModelAsks | None = None
    cues: Mapping[str, re.Pattern[str]]
    # Per concept, all its patterns as one alternation: a text it finds nothing in has no phrase of that
    # concept, so the patterns one by one need not run (most messages are a number or a word).
    any_phrase: Mapping[str, re.Pattern[str]]


def _bounded(source: str) -> str:
    # A word boundary that also works when the pattern starts or ends with punctuation ("? none").
    return rf"(?:(?<!\w)|(?!\w))(?:{source})(?:(?!\w)|(?<!\w))"


def _expand(source: str, macros: Mapping[str, str], where: str, depth: int = 0) -> str:
    if depth > 5:
        raise LexiconError(f"symptoms.yaml {where}: macros nest too deeply")

    def one(match: re.Match[str]) -> str:
        name, rest = match.group(1), ""
        if name not in macros:  # "@gap3since": the longest macro name it starts with, then the word
            known = [m for m in macros if name.startswith(m)]
            if not known:
                raise LexiconError(f"symptoms.yaml {where}: unknown macro @{name}")
            name = max(known, key=len)
            rest = match.group(1)[len(name) :]
        return "(?:" + _expand(macros[name], macros, where, depth + 1) + ")" + rest

    return _MACRO.sub(one, source)


def _compile(source: str, macros: Mapping[str, str], where: str) -> re.Pattern[str]:
    try:
        regex = re.compile(_bounded(_expand(source, macros, where)))
    except re.error as exc:
        raise LexiconError(f"symptoms.yaml {where}: pattern does not compile: {exc}") from exc
    if regex.search(" ") is not None:  # e.g. a stray "|" at the end: it would match every message
        raise LexiconError(f"symptoms.yaml {where}: pattern matches an empty phrase")
    return regex


def _pattern(item: Any, macros: Mapping[str, str], where: str) -> Pattern:
    if isinstance(item, str):
        return Pattern(regex=_compile(item, macros, where))
    if not isinstance(item, dict) or not isinstance(item.get("pattern"), str):
        raise LexiconError(f"symptoms.yaml {where}: expected a pattern string or {{pattern: ..., unit: ...}}")
    unknown = set(item) - {"pattern", "unit", "min", "max", "above", "below"}
    if unknown or item.get("unit") not in ("temperature", "glucose", "plain"):
        raise LexiconError(f"symptoms.yaml {where}: a number pattern needs unit temperature|glucose|plain")
    regex = _compile(item["pattern"], macros, where)
    if "value" not in regex.groupindex:
        raise LexiconError(f"symptoms.yaml {where}: a number pattern needs a (?P<value>...) group")
    bounds = {key: float(item[key]) for key in ("min", "max", "above", "below") if key in item}
    return Pattern(regex=regex, unit=item["unit"], **bounds)


def _patterns(items: Any, macros: Mapping[str, str], where: str) -> tuple[Pattern, ...]:
    if not isinstance(items, list) or not items:
        raise LexiconError(f"symptoms.yaml {where}: expected a non-empty list of patterns")
    return tuple(_pattern(item, macros, f"{where}[{i}]") for i, item in enumerate(items))


def _rule(raw: Any, index: int, concepts: dict[str, tuple[Pattern, ...]], macros: Mapping[str, str]) -> Rule:
    where = f"rules[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise LexiconError(f"symptoms.yaml {where}: a rule needs an id")
    rule_id = raw["id"]
    where = f"rule {rule_id}"
    allowed = {"id", "level", "advice", "patterns", "when", "within", "suppresses", "discount_by",
               "negation_window", "other_person_window", "unless", "only_if"}  # fmt: skip
    if set(raw) - allowed:
        raise LexiconError(f"symptoms.yaml {where}: unknown keys {sorted(set(raw) - allowed)}")
    if not _RULE_ID.match(rule_id) or not rule_id.startswith(f"{raw.get('level')}."):
        raise LexiconError(
            f"symptoms.yaml {where}: the id must be '<level>.<group>[.<name>]' and match its level"
        )
    advice = raw.get("advice")
    if not isinstance(advice, str) or not (rule_id == advice or rule_id.startswith(advice + ".")):
        raise LexiconError(f"symptoms.yaml {where}: the id must start with its advice id")
    when = [tuple(alt) for alt in raw.get("when", [])]
    if "patterns" in raw:
        concepts[rule_id] = _patterns(raw["patterns"], macros, where)
        when.append((rule_id,))
    if not when or not all(alt and all(isinstance(c, str) for c in alt) for alt in when):
        raise LexiconError(f"symptoms.yaml {where}: needs patterns or a 'when' list of concept lists")
    discount_by = raw.get("discount_by", list(REASONS))
    if not set(discount_by) <= {*REASONS, *OPT_IN_REASONS}:
        raise LexiconError(f"symptoms.yaml {where}: discount_by must be among {REASONS + OPT_IN_REASONS}")
    for key in ("unless", "only_if"):
        if raw.get(key) not in (None, EXPECTED_ANAESTHETIC):
            raise LexiconError(f"symptoms.yaml {where}: {key} may only be {EXPECTED_ANAESTHETIC}")
    if raw.get("within", "message") not in ("message", "sentence"):
        raise LexiconError(f"symptoms.yaml {where}: within must be message or sentence")
    return Rule(
        id=rule_id,
        level=Level(raw["level"]),
        advice=advice,
        when=tuple(when),
        within=raw.get("within", "message"),
        suppresses=tuple(raw.get("suppresses", ())),
        discount_by=frozenset(discount_by),
        negation_window=raw.get("negation_window"),
        other_person_window=raw.get("other_person_window"),
        unless=raw.get("unless"),
        only_if=raw.get("only_if"),
    )


_ASK_ID = re.compile(r"^ask(\.[a-z0-9_]+)+$")


def _ask(raw: Any, index: int, concepts: dict[str, tuple[Pattern, ...]], macros: Mapping[str, str]) -> Ask:
    where = f"asks[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str) or not _ASK_ID.match(raw["id"]):
        raise LexiconError(f"symptoms.yaml {where}: an ask needs an id 'ask.<area>'")
    ask_id = raw["id"]
    where = f"ask {ask_id}"
    if set(raw) - {"id", "questions", "covered_by", "patterns", "when"}:
        raise LexiconError(f"symptoms.yaml {where}: unknown keys {sorted(set(raw) - {'id'})}")
    questions = raw.get("questions")
    if not isinstance(questions, list) or not questions or not all(isinstance(q, str) for q in questions):
        raise LexiconError(f"symptoms.yaml {where}: needs a list of question ids to ask")
    when = [tuple(alt) for alt in raw.get("when", [])]
    if "patterns" in raw:
        concepts[ask_id] = _patterns(raw["patterns"], macros, where)
        when.append((ask_id,))
    if not when:
        raise LexiconError(f"symptoms.yaml {where}: needs patterns or a 'when' list")
    rule = Rule(
        id=ask_id,
        level=Level.GREEN,  # an ask is not a finding: it grades nothing, it asks
        advice="",
        when=tuple(when),
        within="message",
        suppresses=(),
        # Every context, and numbness said to be wearing off on the day of the injection: nothing to ask.
        discount_by=frozenset((*REASONS, *OPT_IN_REASONS)),
        negation_window=None,
        other_person_window=None,
        unless=None,
        only_if=None,
    )
    return Ask(id=ask_id, questions=tuple(questions), covered_by=tuple(raw.get("covered_by", ())), rule=rule)


def parse_lexicon(text: str) -> Lexicon:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LexiconError(f"symptoms.yaml is not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or data.get("version") != 1:
        raise LexiconError("symptoms.yaml: expected a mapping with version: 1")
    macros: dict[str, str] = data.get("macros") or {}
    context = data.get("context") or {}
    cues: dict[str, re.Pattern[str]] = {}
    for name in _CUE_LISTS:
        items = context.get(name)
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items) or not items:
            raise LexiconError(f"symptoms.yaml context.{name}: expected a non-empty list of patterns")
        cues[name] = _compile("|".join(f"(?:{i})" for i in items), macros, f"context.{name}")
    # Pseudo-cues may overlap one another ("wondering if" and "if numb legs are normal"): find them all.
    cues["pseudo"] = re.compile(f"(?=({cues['pseudo'].pattern}))")
    concepts: dict[str, tuple[Pattern, ...]] = {}
    contextless: set[str] = set()
    for name, items in (data.get("concepts") or {}).items():
        if isinstance(items, dict):
            if set(items) - {"patterns", "context"} or items.get("context", True) not in (True, False):
                raise LexiconError(
                    f"symptoms.yaml concepts.{name}: expected patterns and context: true|false"
                )
            if items.get("context") is False:
                contextless.add(name)
            items = items.get("patterns")
        concepts[name] = _patterns(items, macros, f"concepts.{name}")
    rules = tuple(_rule(raw, i, concepts, macros) for i, raw in enumerate(data.get("rules") or []))
    ids = [rule.id for rule in rules]
    if len(set(ids)) != len(ids):
        raise LexiconError(
            f"symptoms.yaml: duplicate rule ids {sorted({i for i in ids if ids.count(i) > 1})}"
        )
    asks = tuple(_ask(raw, i, concepts, macros) for i, raw in enumerate(data.get("asks") or []))
    for rule in (*rules, *(ask.rule for ask in asks)):
        missing = {c for alt in rule.when for c in alt} - set(concepts)
        if missing:
            raise LexiconError(f"symptoms.yaml rule {rule.id}: unknown concepts {sorted(missing)}")
        if set(rule.suppresses) - set(ids):
            raise LexiconError(f"symptoms.yaml rule {rule.id}: suppresses unknown rules")
    return Lexicon(
        concepts=concepts,
        contextless=frozenset(contextless),
        rules=rules,
        asks=asks,
        model=_model_asks(data.get("model")),
        cues=cues,
        any_phrase={name: any_of(patterns) for name, patterns in concepts.items()},
    )


_BACKREFERENCE = re.compile(r"\\[1-9]|\(\?P=")
_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")


def any_of(patterns: Sequence[Pattern]) -> re.Pattern[str]:
    """One regex that matches at a position exactly where one of ``patterns`` does (an alternation tries
    each in turn). Named groups become plain groups: several patterns may name a group "value"."""
    sources = []
    for pattern in patterns:
        if pattern.regex.flags & ~re.UNICODE or _BACKREFERENCE.search(pattern.regex.pattern):
            # Flags would apply to every alternative; group numbers shift when patterns are joined.
            raise LexiconError(f"symptoms.yaml: {pattern.regex.pattern!r}: no flags or backreferences")
        sources.append("(?:" + _NAMED_GROUP.sub("(?:", pattern.regex.pattern) + ")")
    return re.compile("|".join(sources))


@cache
def lexicon() -> Lexicon:
    """The packaged lexicon, loaded and compiled once per process."""
    return parse_lexicon((files("flows") / "data" / "symptoms.yaml").read_text(encoding="utf-8"))
