"""Tests for flows.screening, the free-text safety net.

Three layers: every rule fires on a realistic message (and every rule in the lexicon has such a test); each
context type sets a phrase aside, and only when it should; and the corpus of patient messages meets the
safety targets (no red missed, amber-or-red recall >= 95%, green specificity >= 90%), printed with -s.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import flows.screening as screening_module
from flows.levels import Level
from flows.screening import SCREENING_FAILED, LexiconError, Screening, rule_ids, screen
from flows.screening._lexicon import Pattern, any_of, lexicon, parse_lexicon
from flows.screening._text import normalise

CORPUS = Path(__file__).parent / "corpus"

# The advice ids agreed with the advice catalogue: a rule may point at no other.
AGREED_ADVICE = frozenset({
    "red.ces", "red.leg_weakness", "red.fever_back_pain", "red.severe_back_pain", "red.sepsis",
    "red.anaphylaxis", "red.chest_pain", "red.headache_meningism", "red.dka", "red.hypo", "red.crisis",
    "amber.wound", "red.fever", "amber.positional_headache", "amber.urine_retention",
    "amber.glucose_high", "amber.itchy_rash", "amber.pain_uncontrolled", "amber.mood",
    "amber.numbness_persisting", "amber.bleeding", "amber.unwell",
})  # fmt: skip

# One realistic message per rule. A rule missing from the lexicon fails its line here.
RULE_EXAMPLES = {
    "red.ces.saddle_numbness": "Had a funny feeling when I wiped, like it's numb round my bum",
    "red.ces.bladder": "I've been trying to wee for an hour and I just can't go",
    "red.ces.bowel": "I didn't even know I needed a poo, it just came out",
    "red.ces.both_legs": "both my legs have gone heavy and numb since tea time",
    "red.ces.sexual": "can't get an erection since the injection, never had that before",
    "red.leg_weakness": "my right leg keeps buckling when I walk",
    "red.fever_back_pain": "temperature 38.4 tonight and my lower back is really sore",
    "red.fever_back_pain.nerve_symptoms": "I've got a fever and my left foot is dragging",
    "red.fever_back_pain.unwell": "I feel really poorly and my back pain is getting worse",
    "red.severe_back_pain": "sudden excruciating pain in my back about an hour ago",
    "red.sepsis.confusion": "Mum is really confused this evening. This is her daughter writing",
    "red.sepsis.shivering": "I can't stop shivering, my teeth are chattering",
    "red.sepsis.muscle_pain": "every muscle in my body is in agony",
    "red.sepsis.no_urine": "I haven't had a wee all day",
    "red.sepsis.breathless": "so breathless I can't finish a sentence",
    "red.sepsis.skin": "my skin has gone all mottled on my legs",
    "red.sepsis.dying": "honestly I feel like I'm dying",
    "red.anaphylaxis.swelling": "my tongue is swelling up",
    "red.anaphylaxis.breathing": "I'm wheezing and struggling to breathe",
    "red.chest_pain": "pain in my chest going into my jaw",
    "red.headache_meningism": "terrible headache and a stiff neck",
    "red.headache_meningism.seizure": "I had a fit this afternoon",
    "red.dka.ketones": "ketones are 3.6",
    "red.dka.symptoms": "sugars 22 and I've been throwing up all night",
    "red.hypo": "sugar 3.2 and I feel really drowsy",
    "red.crisis": "I don't want to be here anymore",
    "amber.mood.sleep_or_mood_for_a_week": "Can't sleep, lying awake till 4, 9 nights now",
    "amber.unwell.blood_pressure": "Blood pressure machine says 196 over 104 this morning",
    "amber.bleeding.after_menopause": "Periods stopped years ago but I've had bleeding since the jab",
    "amber.numbness_persisting.next_day": "Woke up with the numb patch on my shin still there, but smaller",
    "red.leg_weakness.numbness_worse": "The numb bit on my leg is spreading up towards my knee",
    "red.crisis.told_indirectly": "Dad said tonight that everyone would be better off without him",
    "red.ces.bladder.how_it_goes": "I stand at the toilet for ages and the wee just won't start",
    "red.leg_weakness.what_it_cant_do": "I have to lift my leg into the car with my hands now",
    "red.anaphylaxis.rash_faint": "Come out in hives all over and I feel faint",
    "red.crisis.passive_death_wish": "Honestly I'd rather be dead than carry on like this",
    "red.crisis.active_ideation": "I keep thinking I'm going to end it all",
    "red.crisis.plan_or_method": "some nights I think about taking the lot",
    "red.crisis.preparation": "I've been saving up my tablets",
    "red.crisis.self_harm_acts": "I've started cutting myself again at night",
    "amber.wound": "the injection site is swollen and warm",
    "red.fever": "temp 38.3 this evening",
    "amber.positional_headache": "headache every time I stand up, goes when I lie down",
    "amber.urine_retention": "haven't had a wee since I got home 7 hours ago",
    "amber.glucose_high": "blood sugar 16 before bed",
    "amber.glucose_high.ketones": "ketones 1.4",
    "amber.itchy_rash": "I've come out in an itchy rash on my arms",
    "amber.pain_uncontrolled": "the painkillers aren't touching it and the pain is much worse",
    "amber.mood": "I've been feeling really low and tearful",
    "amber.numbness_persisting.one_leg": "my left thigh is still numb",
    "amber.numbness_persisting.after_anaesthetic": "legs still numb from the injection this morning",
    "amber.bleeding": "I'm 60 and I've started bleeding again, heavy",
    "amber.unwell": "I feel really unwell today",
    "amber.unwell.fainted": "I fainted in the shower",
}


def _level_of(rule: str) -> Level:
    return Level(rule.split(".", 1)[0])


@pytest.mark.parametrize(("rule", "text"), sorted(RULE_EXAMPLES.items()))
def test_each_rule_fires_on_a_realistic_message(rule: str, text: str) -> None:
    result = screen(text)
    assert rule in result.rules
    assert result.level >= _level_of(rule)


def test_every_rule_in_the_lexicon_has_an_example_above() -> None:
    assert set(rule_ids()) == set(RULE_EXAMPLES)


def test_rules_point_only_at_agreed_advice_that_the_catalogue_has() -> None:
    lexicon = yaml.safe_load((files("flows") / "data" / "symptoms.yaml").read_text(encoding="utf-8"))
    catalogue = yaml.safe_load((files("flows") / "data" / "advice.yaml").read_text(encoding="utf-8"))
    card_ids = {card["id"] for card in catalogue["cards"]}
    used = {rule["advice"] for rule in lexicon["rules"]}
    assert used <= AGREED_ADVICE
    assert used <= card_ids


def test_findings_carry_level_and_advice_and_worst_comes_first() -> None:
    result = screen("itchy rash on my arms and I can't feel my legs")
    assert result.level is Level.RED
    assert result.rules == ("red.ces.both_legs", "amber.itchy_rash")
    assert [f.advice for f in result.findings] == ["red.ces", "amber.itchy_rash"]


@pytest.mark.parametrize(
    "text", ["thanks", "feeling a bit sore", "pain is a 4 today", "bit of a flare", "face is red and warm",
             "can't sleep last night", "when is my next check in?"],
)  # fmt: skip
def test_everyday_messages_from_the_brief_are_green(text: str) -> None:
    result = screen(text)
    assert result.level is Level.GREEN
    assert result.findings == ()


# ---------------------------------------------------------------- context: each one sets aside, and only then


def _reasons(result: Screening) -> set[tuple[str, str]]:
    return {(d.rule, d.reason) for d in result.discounted}


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("no fever", "red.fever"),
        ("I haven't had any numbness down below", "red.ces.saddle_numbness"),
        ("No fever, numbness or bladder problems", "red.ces.bladder"),
        ("Numb bum? None.", "red.ces.saddle_numbness"),
        ("I'm not suicidal", "red.crisis"),
        ("legs were numb after the injection but it's all worn off now", "red.ces.both_legs"),
    ],
)
def test_negation_sets_the_phrase_aside(text: str, rule: str) -> None:
    result = screen(text)
    assert result.level is Level.GREEN
    assert (rule, "negated") in _reasons(result)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("no fever but I can't feel myself when I wipe", "red.ces.saddle_numbness"),  # "but" ends the scope
        ("no fever, legs numb", "red.ces.both_legs"),  # a comma with no "or" is not a list
        ("no fever legs numb", "red.ces.both_legs"),  # old-style texting, no punctuation
        ("No fever and I can't pee", "red.ces.bladder"),  # "and I" starts a new statement
        ("I'm not able to pee", "red.ces.bladder"),  # the "not" belongs to the symptom
        ("numbness in both legs, not gone yet", "red.ces.both_legs"),  # "not gone" is not a negation
        ("the numbness in both legs has nearly gone", "red.ces.both_legs"),
        ("I don't have any numbness apart from round my back passage", "red.ces.saddle_numbness"),
        ("If the injection doesn't work I'll kill myself", "red.crisis"),  # the "not" negates "work"
        ("numbness - none. bladder - none. weakness - yes both legs", "red.ces.both_legs"),
    ],
)
def test_negation_does_not_reach_a_red_flag_it_does_not_govern(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("years ago I had bladder problems", "red.ces.bladder"),
        ("had a fever last month before the injection", "red.fever"),
        ("wet myself laughing at the telly, nothing new", "red.ces.bladder"),
        ("Back in 2019 I had an epidural and my legs were numb for a day", "red.ces.both_legs"),
    ],
)
def test_the_past_and_long_standing_are_set_aside(text: str, rule: str) -> None:
    result = screen(text)
    assert result.level is Level.GREEN
    assert (rule, "past") in _reasons(result)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I had bladder problems years ago but now I can't pee", "red.ces.bladder"),
        ("I've had bladder problems since the injection", "red.ces.bladder"),
        ("I've always had a weak bladder but it's worse now", "red.ces.bladder"),
        ("I've been bleeding quite heavily, I'm 63 and my periods stopped years ago", "amber.bleeding"),
        ("Had a fever last month, and my legs are weak", "red.ces.both_legs"),
    ],
)
def test_the_past_does_not_hide_what_is_happening_now(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("what if I get a fever?", "red.fever"),
        ("should I worry if my legs go numb?", "red.ces.both_legs"),
        ("The nurse told me to watch out for numbness round my bottom", "red.ces.saddle_numbness"),
        ("Can the injection cause bladder problems?", "red.ces.bladder"),
    ],
)
def test_hypotheticals_are_set_aside(text: str, rule: str) -> None:
    result = screen(text)
    assert result.level is Level.GREEN
    assert (rule, "hypothetical") in _reasons(result)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("What if the numbness in both legs doesn't go away? It's been 2 days", "red.ces.both_legs"),
        ("Should I be worried that I can't feel my bum on the toilet?", "red.ces.saddle_numbness"),
        ("Is it normal to have numbness in both legs?", "red.ces.both_legs"),
        ("What should I do if my temperature goes above 38? It's 38.3 now", "red.fever"),
        # Crisis is never set aside as a question.
        ("If this injection hasn't worked I'd rather not wake up", "red.crisis"),
    ],
)
def test_a_question_about_a_present_symptom_is_not_hypothetical(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("My friend had the same injection and couldn't pee for a day", "red.ces.bladder"),
        ("my son has been self harming, is there someone he can talk to?", "red.crisis"),
    ],
)
def test_someone_elses_symptoms_are_set_aside(text: str, rule: str) -> None:
    result = screen(text)
    assert result.level is Level.GREEN
    assert (rule, "other_person") in _reasons(result)


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("my husband says I have a temperature", "red.fever"),
        ("me and my husband both have a temperature", "red.fever"),
        ("my wife has had a cold all week but now I've got a temp of 38.7", "red.fever"),
        ("This is his daughter. Dad can't pee and he's burning up", "red.ces.bladder"),  # a carer writing
        ("Husband here, she had the injection on Monday and she's not making sense", "red.sepsis.confusion"),
        ("My husband doesn't know but I've been thinking of ending my life", "red.crisis"),
    ],
)
def test_the_patient_or_a_carer_writing_for_them_is_not_someone_else(text: str, rule: str) -> None:
    assert rule in screen(text).rules


def test_numb_legs_on_the_day_of_the_injection_are_amber_not_red() -> None:
    result = screen("legs are numb still from the injection this afternoon")
    assert result.rules == ("amber.numbness_persisting.after_anaesthetic",)


@pytest.mark.parametrize(
    "text",
    [
        "legs are numb still from the injection yesterday",  # no longer the numbing medicine
        "legs numb from the injection this morning and getting worse",
        "my legs are numb",  # no day given: both legs is red
    ],
)
def test_numb_legs_are_red_unless_clearly_the_numbing_medicine_today(text: str) -> None:
    assert "red.ces.both_legs" in screen(text).rules


def test_one_numb_leg_is_amber_and_a_weak_one_is_red() -> None:
    assert screen("my left leg is numb").rules == ("amber.numbness_persisting.one_leg",)
    assert screen("my left leg is weak").rules == ("red.leg_weakness",)


# ---------------------------------------------------------------- numbers, combinations, spans


@pytest.mark.parametrize(
    ("text", "rule", "fires"),
    [
        ("temperature 37.6", "red.fever", False),
        ("temperature 37.9", "red.fever", False),  # 38.0 (NHS England, reference (c)); 37.3-37.9 asks instead
        ("temp 38,6", "red.fever", True),  # a decimal comma
        ("temp 38.0", "red.fever", True),
        ("temp 100.4F", "red.fever", True),
        ("temp 99.5", "red.fever", False),
        ("sugar 12", "amber.glucose_high", False),
        ("sugar 12.5", "amber.glucose_high", True),
        ("blood glucose 300", "amber.glucose_high", True),  # mg/dL, 16.7 mmol/L
        ("sugar 3.5", "red.hypo", True),
        ("sugar 4.5", "red.hypo", False),
        ("ketones 0.4", "amber.glucose_high.ketones", False),
        ("ketones 1.2", "amber.glucose_high.ketones", True),
        ("ketones 3.4", "red.dka.ketones", True),
        (
            "pain 9/10 all day",
            "amber.pain_uncontrolled",
            False,
        ),  # a score alone: the pain question asks about control
        ("pain 9/10 and the tablets are not touching it", "amber.pain_uncontrolled", True),
        ("pain 8/10 today", "amber.pain_uncontrolled", False),
    ],
)
def test_numbers_are_read_against_the_reference_thresholds(text: str, rule: str, fires: bool) -> None:
    assert (rule in screen(text).rules) is fires


def test_fever_with_back_pain_is_red_and_replaces_the_amber_fever() -> None:
    result = screen("temperature 38.4 and my back is killing me")
    assert result.rules == ("red.fever_back_pain",)


def test_fever_with_a_nerve_symptom_reports_both() -> None:
    rules = screen("I've got a fever and my left leg is weak").rules
    assert {"red.fever_back_pain.nerve_symptoms", "red.leg_weakness"} <= set(rules)
    assert "red.fever" not in rules


def test_a_wound_sign_counts_only_in_the_sentence_that_names_the_site() -> None:
    assert screen("The injection site is fine. My face is red").level is Level.GREEN
    assert screen("The injection site is red").rules == ("amber.wound",)


def test_a_red_flag_buried_in_a_long_chatty_message_is_found() -> None:
    chat = "Lovely weather today, went to the garden centre with my sister and had a scone. " * 120
    text = chat + "Oh and I can't feel myself when I wipe, probably nothing. " + chat
    assert len(text) > 10_000
    result = screen(text)
    assert result.rules == ("red.ces.saddle_numbness",)
    finding = result.findings[0]
    assert text[finding.start : finding.end] == "can't feel myself when I wipe"


def test_spans_point_at_the_patients_own_words_despite_emoji_and_curly_quotes() -> None:
    text = "Hiya 😊😊  I CAN\u2019T feel my legs!!"
    finding = screen(text).findings[0]
    assert text[finding.start : finding.end] == "CAN\u2019T feel my legs"


def test_typos_and_slang_are_understood() -> None:
    assert "red.ces.both_legs" in screen("cnt feel my feet.. both..").rules
    assert "red.fever" in screen("got a bit of a temprature").rules
    assert "red.ces.bladder" in screen("peed myself in tesco").rules


# ---------------------------------------------------------------- robustness


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_screen_never_raises_and_spans_stay_inside_the_text(text: str) -> None:
    result = screen(text)
    assert result.level == max((f.level for f in result.findings), default=Level.GREEN)
    spans = [(f.start, f.end) for f in result.findings] + [(d.start, d.end) for d in result.discounted]
    assert all(0 <= start <= end <= len(text) for start, end in spans)
    assert SCREENING_FAILED not in result.rules


def test_a_failure_inside_screening_comes_back_amber_for_a_person(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> None:
        raise RuntimeError("lexicon unreadable")

    monkeypatch.setattr(screening_module, "lexicon", broken)
    result = screen("I can't feel my legs")
    assert result.level is Level.AMBER
    assert result.rules == (SCREENING_FAILED,)


def test_not_even_a_wrong_type_raises() -> None:
    assert screen(cast(str, None)).level is Level.AMBER


def _lexicon_text(**rule: Any) -> str:
    lexicon = yaml.safe_load((files("flows") / "data" / "symptoms.yaml").read_text(encoding="utf-8"))
    lexicon["rules"].append(rule)
    return yaml.safe_dump(lexicon)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "red.ces.new", "level": "red", "advice": "amber.wound", "patterns": ["x"]}, "advice id"),
        ({"id": "amber.fever.x", "level": "red", "advice": "red.fever", "patterns": ["x"]}, "level"),
        ({"id": "red.ces.x", "level": "red", "advice": "red.ces", "when": [["no_such"]]}, "unknown concepts"),
        ({"id": "red.ces.x", "level": "red", "advice": "red.ces", "patterns": ["(open"]}, "does not compile"),
        ({"id": "red.ces.x", "level": "red", "advice": "red.ces", "patterns": ["@nope"]}, "unknown macro"),
        ({"id": "red.ces.bladder", "level": "red", "advice": "red.ces", "patterns": ["x"]}, "duplicate"),
    ],
)
def test_a_doubtful_lexicon_is_refused_with_the_rule_named(rule: dict[str, Any], message: str) -> None:
    with pytest.raises(LexiconError, match=message):
        parse_lexicon(_lexicon_text(**rule))


# ---------------------------------------------------------------- the corpus and its targets


@dataclass(frozen=True, kw_only=True)
class Figures:
    counts: dict[str, int]
    red_missed: list[str]
    red_recall: float
    amber_or_red_recall: float
    green_specificity: float
    expected_rules_found: float

    def line(self, name: str) -> str:
        return (
            f"{name}: {sum(self.counts.values())} messages {self.counts}; red missed {len(self.red_missed)}; "
            f"red recall {self.red_recall:.3f}; amber-or-red recall {self.amber_or_red_recall:.3f}; "
            f"green specificity {self.green_specificity:.3f}; "
            f"expected rule ids found {self.expected_rules_found:.3f}"
        )


def _load(name: str) -> list[dict[str, Any]]:
    lines = (CORPUS / name).read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    known = set(rule_ids())
    for row in rows:
        assert set(row) <= {"text", "expected", "rules", "note"}, row
        assert row["expected"] in {"red", "amber", "green"}, row
        assert set(row["rules"]) <= known, row
        assert (row["expected"] == "green") == (not row["rules"]), row
    return rows


def _figures(rows: list[dict[str, Any]]) -> Figures:
    counts = {level: sum(r["expected"] == level for r in rows) for level in ("red", "amber", "green")}
    results = [(row, screen(row["text"])) for row in rows]
    red = [(row, got) for row, got in results if row["expected"] == "red"]
    flagged = [(row, got) for row, got in results if row["expected"] != "green"]
    green = [(row, got) for row, got in results if row["expected"] == "green"]
    expected_rules = [(rule, got) for row, got in flagged for rule in row["rules"]]
    return Figures(
        counts=counts,
        red_missed=[row["text"] for row, got in red if got.level is not Level.RED],
        red_recall=sum(got.level is Level.RED for _, got in red) / len(red),
        amber_or_red_recall=sum(got.level >= Level.AMBER for _, got in flagged) / len(flagged),
        green_specificity=sum(got.level is Level.GREEN for _, got in green) / len(green),
        expected_rules_found=sum(rule in got.rules for rule, got in expected_rules) / len(expected_rules),
    )


@pytest.mark.parametrize("name", ["messages.jsonl", "holdout.jsonl", "holdout2.jsonl"])
def test_corpus_meets_the_safety_targets(name: str) -> None:
    figures = _figures(_load(name))
    print("\n" + figures.line(name))
    assert figures.red_missed == []
    assert figures.amber_or_red_recall >= 0.95
    assert figures.green_specificity >= 0.90


def test_the_main_corpus_is_big_and_mixed_as_agreed() -> None:
    counts = _figures(_load("messages.jsonl")).counts
    total = sum(counts.values())
    assert total >= 300
    assert 0.30 <= counts["red"] / total <= 0.42  # fever moved from amber to red (reference (d) 6)
    assert 0.18 <= counts["amber"] / total <= 0.30
    assert 0.35 <= counts["green"] / total <= 0.45


def _phrases_found_both_ways(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what screening finds with each concept's one-regex pre-check, what every pattern finds one by one)."""
    lex = lexicon()
    prepared = normalise(text)
    checked = screening_module._Evaluation(prepared, lex).matches
    every = {name: screening_module._find(prepared.text, name, p) for name, p in lex.concepts.items()}
    return checked, every


def test_the_pre_check_finds_exactly_the_phrases_every_pattern_finds_in_the_corpora() -> None:
    texts = [
        row["text"] for name in ("messages.jsonl", "holdout.jsonl", "holdout2.jsonl") for row in _load(name)
    ]
    texts += [text for text in RULE_EXAMPLES.values()]
    for text in texts:
        checked, every = _phrases_found_both_ways(text)
        assert checked == every, text
    assert sum(bool(found) for text in texts for found in _phrases_found_both_ways(text)[0].values()) > len(
        texts
    )


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["no", "fever", "numb", "legs", "wee", "38.5", "sugar 19", "bum", "not", "can't", "feel"]
        )
        | st.text(max_size=12),
        max_size=12,
    )
)
def test_the_pre_check_finds_exactly_the_phrases_every_pattern_finds_in_any_text(words: list[str]) -> None:
    checked, every = _phrases_found_both_ways(" ".join(words))
    assert checked == every


def test_patterns_that_cannot_be_joined_into_one_pre_check_are_refused() -> None:
    with pytest.raises(LexiconError, match="backreferences"):
        any_of([Pattern(regex=re.compile(r"(a)\1"))])
    joined = any_of(
        [Pattern(regex=re.compile(r"(?P<value>\d+) c")), Pattern(regex=re.compile(r"(?P<value>\d+) f"))]
    )
    assert joined.search("it is 38 c") and not joined.search("it is 38 k")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["4", "No", "yes", "10/10", "ok thanks", "", "👍", "not sure"]) | st.text(max_size=20))
def test_a_message_with_no_phrase_at_all_screens_green_without_reading_its_context(text: str) -> None:
    """The shortcut for messages with no phrase of any concept decides what the full evaluation decides."""
    lex = lexicon()
    shortcut = screening_module._Evaluation(normalise(text), lex)
    if shortcut.found_any:
        return  # the full evaluation ran anyway
    full = screening_module._Evaluation(normalise(text), lex)
    full.found_any = True
    full.context = {}
    full.sentence_of = lambda position: 0
    assert shortcut.screening(lex) == full.screening(lex)
    assert screening_module._with_model(shortcut.screening(lex), text, lex) == screen(text)  # then the model
    assert screen(text).level is Level.GREEN


def test_a_temperature_below_the_fever_line_asks_about_fever_instead_of_reassuring() -> None:
    found = screen("temperature 37.9")
    assert found.level is Level.GREEN
    assert found.asks == ("rf.fever",)


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("legs feel funny, bit wobbly on the stairs", ("rf.leg_weakness",)),
        ("things are a bit different on the toilet since Monday", ("rf.ces",)),
        ("feeling really low and fed up with it all", ("mood.self_harm",)),
        ("temp 37.6 and a bit off colour", ("rf.fever",)),
    ],
)
def test_a_message_that_touches_a_red_flag_area_asks_the_matching_question(
    text: str, asks: tuple[str, ...]
) -> None:
    assert set(asks) <= set(screen(text).asks)


@pytest.mark.parametrize(
    "text",
    [
        "legs fine, no fever, waterworks normal",
        "been walking the dog, lovely day",
        "what if I get a fever?",
        "4",
    ],
)
def test_negated_hypothetical_and_everyday_messages_ask_nothing(text: str) -> None:
    assert screen(text).asks == ()


def test_a_red_message_asks_nothing_more_its_card_is_the_answer() -> None:
    assert screen("numb down below and my legs feel funny").asks == ()


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("my husband has a temperature", "red.fever"),
        ("dad's temp is 38.7", "red.fever"),
        ("Mum has wet the bed twice, she never does that", "red.ces.bladder"),
        ("Mum's lips are swelling up and she says her throat feels tight", "red.anaphylaxis.swelling"),
    ],
)
def test_a_relative_writing_about_the_patient_is_about_the_patient(text: str, rule: str) -> None:
    assert rule in screen(text).rules


# Wording from blind set F's misses, tuned after its first run was recorded (see safety-net.md).
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        # "she's" opens a new clause: "gone" there does not set the reading aside
        ("Mum's temp is 38,6 and she's gone a bit quiet", "red.fever"),
        ("not gonna lie been thinkin about ending it", "red.crisis"),
        ("he speak strange, words not clear", "red.sepsis.confusion"),
        ("his skin is cold and grey-blue colour, I cannot wake him good", "red.sepsis.skin"),
        ("my leg keeps giving weigh I nearly fell", "red.leg_weakness"),
        ("feels like i'm sitting on a saddle made of cotton wool", "red.ces.saddle_numbness"),
        ("I haven't been able to have a way since last night", "red.ces.bladder"),
        ("I've no been able tae pass water right since Sunday", "red.ces.bladder"),
        ("My stomach make the toilet alone, I cannot hold. I cannot feel.", "red.ces.bowel"),
        ("things haven't been working in the bedroom department since Thursday", "red.ces.sexual"),
        ("New pain in my back since yesterday and I feel washed out", "red.fever_back_pain.unwell"),
        ("Where is the needle, now it is red and a little liquid come out. I feel good", "amber.wound"),
        # a double negative is not a negation: "can't ... without"
        (
            "can't stay upright for ten minutes without his head pounding, fine once lying down",
            "amber.positional_headache",
        ),
        ("Skin is itching and there are red small points on arms", "amber.itchy_rash"),
    ],
)
def test_wording_from_blind_set_f_is_read(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    "text",
    [
        # the day of the injection said in another sentence: numb legs wearing off are expected
        "Legs still a bit heavy and numb tonight but it's getting better. Had the injection this afternoon",
        "Would a hot flush count as a fever? Not had one, just asking",
        # "no different now" is not "worse now": the past stays the past
        "I had a bladder problem years ago after my hysterectomy, but it's no different now",
        "I've had a bit of a leak when I sneeze since having my kids, no different to before",
    ],
)
def test_green_wording_from_blind_set_f_is_not_escalated(text: str) -> None:
    assert screen(text).level is Level.GREEN


def test_numb_legs_the_day_of_the_injection_still_escalate_when_getting_weaker() -> None:
    assert (
        screen("Had the injection this morning. Now my legs are numb and getting weaker").level is Level.RED
    )


# Wording from blind set G's misses, tuned after its first run was recorded.
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "keep catching me toe on the carpet, left leg feels like a lump of wood",
            "red.leg_weakness.what_it_cant_do",
        ),
        ("my knees keep buckling under me", "red.leg_weakness"),
        ("can't weight bear on the left leg it just gives weigh", "red.leg_weakness"),
        ("have to lift my left leg into bed with both hands now", "red.leg_weakness.what_it_cant_do"),
        ("legs wont do wat i tell them", "red.ces.both_legs"),
        ("I haven't had a way since last night and I don't feel like I need one", "red.ces.bladder"),
        ("Bit of an accident in my trousers, didn't even know I needed to go", "red.ces.bladder"),
        ("My bowel go out by itself, I do not feel it", "red.ces.bowel"),
        ("new pain in back, sudden and SEVERE", "red.severe_back_pain"),
        ("Back's a lot worse and I just feel poorly all over", "red.fever_back_pain.unwell"),
        ("Mum's got a thumping head, she can't bend her neck", "red.headache_meningism"),
        ("I don't see the point in carrying on like this", "red.crisis.told_indirectly"),
        ("they'd all manage fine without me", "red.crisis.told_indirectly"),
        ("I've written letters to the children and put my affairs in order", "red.crisis.told_indirectly"),
        ("Went and stood on the bridge for a long time yesterday", "red.crisis.told_indirectly"),
        ("site all red n angry lookin, bit weepy", "amber.wound"),
        # "if anything" is not a hypothetical, and a flare "gone on" for weeks has not gone
        (
            "The flare-up you warned me about has gone on for three weeks and if anything it's worse",
            "amber.pain_uncontrolled",
        ),
        ("the paracetamol and the naproxen are doing nothing", "amber.pain_uncontrolled"),
        (
            "snappy and weepy and I can't settle to anything, it's going on a fortnight now",
            "amber.mood.sleep_or_mood_for_a_week",
        ),
        ("Epidural at 9am today. Eight hours and I've not been for a wee.", "amber.urine_retention"),
    ],
)
def test_wording_from_blind_set_g_is_read(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    "text",
    [
        "You asked about a temperature and I haven't had one, I've been checking",
        "I've not had any sweats or chills, just checking that's what you meant by fever?",
        "My left foot has dropped since my stroke 6 years ago, no change since the injection.",
        "The numbness in my right foot is the same as it's been for years, it's my neuropathy. Nothing new.",
        # an error code on the meter is not a hypo of 3
        "the meter keeps saying E-3, think the strips got damp",
    ],
)
def test_green_wording_from_blind_set_g_is_not_escalated(text: str) -> None:
    assert screen(text).level is Level.GREEN


@pytest.mark.parametrize("text", ["pain's worse today", "the co-codamol is barely touching it"])
def test_pain_said_to_be_worse_asks_whether_painkillers_control_it(text: str) -> None:
    found = screen(text)
    assert found.level is Level.GREEN
    assert found.asks == ("pain.painkillers_help",)
    assert found.ask_rules == ("ask.pain",)


def test_pain_the_rules_already_grade_asks_nothing_more() -> None:
    found = screen("pain much worse and the painkillers aren't helping")
    assert found.rules == ("amber.pain_uncontrolled",)
    assert "pain.painkillers_help" not in found.asks


# Wording from blind set H's misses, tuned after its first run was recorded.
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("his left knee just folded under him", "red.leg_weakness"),
        ("Me legs are gannin from under us man, both of them", "red.ces.both_legs"),
        ("he can't get his foot up onto the kerb", "red.leg_weakness.what_it_cant_do"),
        ("Margaret has wet herself twice today", "red.ces.bladder"),
        ("Had to borrow one of the wife's pads", "red.ces.bladder"),
        ("I don't seem to know when my waterworks are full any more", "red.ces.bladder"),
        ("leaking when I stand up and I'm not feeling it come at all", "red.ces.bladder"),
        ("Ah've been soilin masel an didnae even ken", "red.ces.bowel"),
        ("a numb patch right where you'd sit on a bike saddle", "red.ces.saddle_numbness"),
        ("My dad had a reading of 100.4 this evening under his arm", "red.fever"),
        ("new back pain, totally different to my normal, its like 10/10", "red.severe_back_pain"),
        (
            "My son is type 1 and had the steroid injection, his sugar is 22 and he's been vomiting",
            "red.dka.symptoms",
        ),
        ("I've been keeping my tablets back in a drawer just in case", "red.crisis.told_indirectly"),
        ("If this injection hasn't worked I'm not carrying on", "red.crisis.told_indirectly"),
        ("Ah'm no wantin tae be here anymair", "red.crisis.told_indirectly"),
        ("the kindest thing for everyone would be if I just wasn't around any more", "red.crisis"),
        ("Site's gone right red and angry, warm an' all", "amber.wound"),
        (
            "Today caudal injection at 11 o clock. Now is 18:30 and I not do urine yet",
            "amber.urine_retention",
        ),
        ("I'm scratching like a dog with fleas, a rash came up on my arms", "amber.itchy_rash"),
        ("the pain is still very strong, the medicine does not help", "amber.pain_uncontrolled"),
        ("I'm worse than before I had it done, even with my tablets", "amber.pain_uncontrolled"),
    ],
)
def test_wording_from_blind_set_h_is_read(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    "text",
    [
        "Nae fever, nae bother wi the waterworks, legs are fine. Just a wee bit stiff.",
        # the bottom numb from the injection today and wearing off: the day-0 check-in asks exactly this
        "the numb feeling in my backside from the injection this afternoon is wearing off now",
    ],
)
def test_green_wording_from_blind_set_h_is_not_escalated(text: str) -> None:
    assert screen(text).level is Level.GREEN


@pytest.mark.parametrize(
    "text",
    [
        "Got hot under the collar watching the rugby last night but no actual temperature, I checked, 36.5",
        "Had a wee accident with the kettle this morning, scalded my hand",
    ],
)
def test_figures_of_speech_from_blind_set_h_ask_nothing(text: str) -> None:
    assert screen(text).asks == ()


def test_the_bottom_numb_on_the_day_and_not_wearing_off_is_still_red() -> None:
    assert screen("my bottom is numb from the injection this afternoon").level is Level.RED


# Wording from blind set I's misses, tuned after its first run was recorded.
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("My knee is going away when I walk. Also both leg feel like wood.", "red.ces.both_legs"),
        ("I can't seem to lift the front of my right foot up", "red.leg_weakness"),
        ("I keep finding my underwear damp and I never felt it happen", "red.ces.bladder"),
        ("I must press on my belly so the urine will come out", "red.ces.bladder"),
        ("cant hold a number 2 at all", "red.ces.bowel"),
        ("the bit you sit on feels dead, both cheeks and in between", "red.ces.saddle_numbness"),
        ("can't get the old fella to stand to attention since the jab", "red.ces.sexual"),
        ("after the injection I have problem with the erection", "red.ces.sexual"),
        ("screamed out with her back, completely different from her usual ache", "red.severe_back_pain"),
        ("a couple of low ones, 3.7 before lunch yesterday and 3.3 this morning", "red.hypo"),
        ("I've given the dog to my neighbour and sorted the will out", "red.crisis.told_indirectly"),
        ("The head is paining when I stand up, when I lie down it is better", "amber.positional_headache"),
        ("ketones 2.4 feel fine T1", "amber.glucose_high.ketones"),
        ("Mum's pain has been through the roof since the injection two weeks ago", "amber.pain_uncontrolled"),
        ("my usual tablets are not making a dent", "amber.pain_uncontrolled"),
        (
            "The heaviness in my leg hasn't quite gone from yesterday's injection",
            "amber.numbness_persisting.next_day",
        ),
    ],
)
def test_wording_from_blind_set_i_is_read(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    "text",
    [
        "Dad's legs were numb coming out of the hospital this afternoon but now he's walking round normally.",
        "Today after the injection the leg was sleeping, now it is waking up slowly.",
        "I can feel everything normally down below when I wipe.",
        "The numbness in my feet is from my diabetes, had it five years. Nothing new.",
        "My erection problems are nothing new, I've been on the little blue pills for years.",
    ],
)
def test_green_wording_from_blind_set_i_is_not_escalated(text: str) -> None:
    assert screen(text).level is Level.GREEN


def test_a_leg_wearing_off_on_the_day_asks_nothing() -> None:
    found = screen(
        "Got home from the injection two hours ago. My right leg still feels a bit dead but it's coming back"
    )
    assert found.level is Level.GREEN
    assert found.asks == ()


# Wording from blind set J's misses, tuned after its first run was recorded.
@pytest.mark.parametrize(
    ("text", "rule"),
    [
        (
            "walking like I've had ten pints, my legs are just not doing what I tell them",
            "red.leg_weakness.what_it_cant_do",
        ),
        ("Woke up wet this morning. Didn't feel a thing.", "red.ces.bladder"),
        ("Number twos just coming out without any warning since Saturday", "red.ces.bowel"),
        (
            "After injection he is not able for the marital relations, he says there is no feeling",
            "red.ces.sexual",
        ),
        ("Since the injection I can't get anything going in the bedroom department at all", "red.ces.sexual"),
        ("This evening very severe pain started in the back, new pain", "red.severe_back_pain"),
        (
            "My husband's back pain suddenly got far far worse, he's gone grey and he's sweating",
            "red.sepsis.skin",
        ),
        ("Blood sugar is 300 mg/dL, I have pain in the stomach and I throw up", "red.dka.symptoms"),
        ("I've been keeping my tablets to one side in a drawer. Just in case.", "red.crisis.told_indirectly"),
        (
            "I have written letters to each of the children. I won't be a burden much longer.",
            "red.crisis.told_indirectly",
        ),
        (
            "she wishes she could just not wake up, and she's been giving her jewellery away",
            "red.crisis.told_indirectly",
        ),
        (
            "Some nights I stand at the top of the stairs and think how easy it would be",
            "red.crisis.told_indirectly",
        ),
        ("the little hole in my back has gone angry looking and is weeping", "amber.wound"),
        # "wife says" reports what she sees on the patient: "s" in a lookahead once matched "says"
        ("wife says the jab mark has gone all red round it and its spreading. i feel grand", "amber.wound"),
        ("Cannot sleep at all. 9 nights now.", "amber.mood"),
        (
            "I cannot sleep properly since more than one week, very tired and sad",
            "amber.mood.sleep_or_mood_for_a_week",
        ),
        (
            "Flare up from the SIJ injection still going strong 12 days on, no better at all",
            "amber.pain_uncontrolled",
        ),
    ],
)
def test_wording_from_blind_set_j_is_read(text: str, rule: str) -> None:
    assert rule in screen(text).rules


@pytest.mark.parametrize(
    "text",
    [
        "Say I started running a temp next week, who do I ring, you or 111?",
        "Legs not weak, no numbness, everything in working order in the bedroom department too!",
        "My right foot has dropped since my stroke in 2019, no change at all since the injection",
    ],
)
def test_green_wording_from_blind_set_j_is_not_escalated(text: str) -> None:
    assert screen(text).level is Level.GREEN
