"""The statistical layer (flows/screening/_model.py): scikit-learn's features and arithmetic reproduced with
the standard library, and a layer that can only ask, never grade."""

from __future__ import annotations

import math

import pytest

from flows.levels import Level
from flows.screening import MODEL_ASK, screen
from flows.screening._lexicon import lexicon
from flows.screening._model import _TOKEN, _char_wb, _word_ngrams, safety_model


def test_the_letter_groups_are_scikit_learns() -> None:
    # scikit-learn 1.9.1: TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5)).build_analyzer()("Hot legs")
    assert _char_wb("hot legs", 2, 5) == [
        " h", "ho", "ot", "t ", " ho", "hot", "ot ", " hot", "hot ", " hot ",
        " l", "le", "eg", "gs", "s ", " le", "leg", "egs", "gs ", " leg", "legs", "egs ", " legs", "legs ",
    ]  # fmt: skip


def test_the_words_are_scikit_learns() -> None:
    # TfidfVectorizer(ngram_range=(1, 2)).build_analyzer()("I can't feel my legs, a b")
    tokens = _TOKEN.findall("i can't feel my legs, a b")
    assert _word_ngrams(tokens, 1, 2) == ["can", "feel", "my", "legs", "can feel", "feel my", "my legs"]


@pytest.mark.parametrize("text", ["legs feel funny", "temp 38.9", "", "thank you so much, lovely nurses"])
def test_the_probabilities_are_probabilities(text: str) -> None:
    probabilities, _ = safety_model().level.scores(text)
    assert set(probabilities) == {"red", "amber", "green"}
    assert math.isclose(sum(probabilities.values()), 1.0)


def test_wording_no_rule_knows_that_reads_like_a_red_flag_gets_a_question_never_a_grade() -> None:
    found = screen("I keep going over on my ankle")
    assert found.level is Level.GREEN  # the layer never grades
    assert MODEL_ASK in found.ask_rules
    assert "rf.leg_weakness" in found.asks
    assert found.model_reasons  # explainable: the words that pushed it towards red


@pytest.mark.parametrize(
    "text",
    [
        "4",
        "ok",
        "Thanks, see you at the clinic in six weeks",
        "Had a lovely day at the seaside with the grandkids",
    ],
)
def test_everyday_messages_are_not_asked_about(text: str) -> None:
    assert MODEL_ASK not in screen(text).ask_rules


def test_a_red_message_is_left_to_its_card() -> None:
    assert screen("numb down below when I wipe").ask_rules == ()


def test_the_areas_it_can_ask_about_have_questions() -> None:
    model = lexicon().model
    assert model is not None
    assert set(safety_model().domain.classes) <= set(model.questions)
