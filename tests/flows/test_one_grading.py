"""One grading everywhere: the same text gets the same level as an answer in a check-in (flows.engine.step),
from the triage tool and the safety-figure measurements (flows.engine.assess), whatever was asked."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.catalogue import ResolvedProtocol
from flows.effects import Escalate, RecordAnswer
from flows.engine import Answer, assess, step
from flows.levels import Level, worst
from flows.state import CheckInState, Pending, Phase

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
QUESTIONS = ["rf.ces", "rf.fever", "pain.now", "glucose", "site", "numbness.next_day", "mood"]
TEXTS = [
    "sugar 14.2",
    "yes my lips are a bit swollen",
    "not really",
    "7 but my temp is 38.4",
    "about a seven, maybe eight",
    "I had 1 biscuit and feel fine",
    "no, but I cant feel my bum when I wipe",
    "38,6 and shivery",
    "fine thanks",
    "legs feel funny on the stairs",
    "feeling very low, everyone would be better off without me",
    "the site is red and oozing",
    "3.1 feel shaky",
]


def _asking(protocol: ResolvedProtocol, question_id: str) -> CheckInState:
    return CheckInState(
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        checkin_id="day2.morning",
        day=2,
        diabetic=True,
        phase=Phase.ASKING,
        queue=(Pending(question_id=question_id),),
        history=(),
    )


@pytest.mark.parametrize("question_id", QUESTIONS)
@pytest.mark.parametrize("text", TEXTS)
def test_an_answer_gets_the_same_level_in_the_bot_and_in_the_triage_tool(
    sij: ResolvedProtocol, question_id: str, text: str
) -> None:
    question = sij.question(question_id)
    verdict = assess(text, question=question, day=2, now=NOW)
    if verdict.problem == "needs_confirmation":
        pytest.skip("the bot checks the reading first; graded once confirmed")  # (e.g. "216" as mg/dL)
    effects = step(sij, _asking(sij, question_id), Answer(text=text), now=NOW).effects
    in_the_bot = worst(*(e.level for e in effects if isinstance(e, Escalate | RecordAnswer)))
    assert in_the_bot == verdict.level


@pytest.mark.parametrize("text", TEXTS)
def test_free_text_gets_the_level_of_the_safety_net(text: str) -> None:
    from flows.screening import screen

    assert assess(text, now=NOW).level == screen(text).level


def test_hedges_and_swelling_to_a_red_flag_question_are_red(sij: ResolvedProtocol) -> None:
    allergy = sij.question("rf.ces")  # a red-flag yes/no question
    assert assess("not really", question=allergy, now=NOW).level is Level.RED
    assert assess("yes my lips are a bit swollen", question=allergy, now=NOW).level is Level.RED


def test_two_high_sugars_in_one_answer_count_as_twice_above_12(sij: ResolvedProtocol) -> None:
    verdict = assess("14.2, and it was 13.1 at lunch as well", question=sij.question("glucose"), now=NOW)
    assert (verdict.level, verdict.value) == (Level.AMBER, 14.2)


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("No, walking better than I was before, thank you", Level.GREEN),  # a no with good news is a no
        ("No dear, all normal down there, thank you for asking", Level.GREEN),
        ("no, but I cant feel my bum when I wipe", Level.RED),  # the news is the red flag
        ("no, though my legs feel funny on the stairs", Level.RED),  # news in a red-flag area: unsure
    ],
)
def test_a_no_with_news_to_a_red_flag_question_is_read_with_the_safety_net(
    sij: ResolvedProtocol, text: str, level: Level
) -> None:
    assert assess(text, question=sij.question("rf.ces"), now=NOW).level is level


@pytest.mark.parametrize(
    ("question_id", "text"), [("pain.now", "eight out of ten"), ("glucose", "7.8 before breakfast")]
)
def test_an_answer_that_was_read_is_not_second_guessed_by_the_statistical_layer(
    sij: ResolvedProtocol, question_id: str, text: str
) -> None:
    verdict = assess(text, question=sij.question(question_id), now=NOW)
    assert verdict.value is not None
    assert "ask.model" not in verdict.asked_because


def test_two_high_sugars_in_mg_dl_still_count_twice_once_the_reading_is_confirmed(
    sij: ResolvedProtocol,
) -> None:
    asking = _asking(sij, "glucose")
    confirming = step(sij, asking, Answer(text="250 and 240"), now=NOW)  # 13.9 and 13.3: mg/dL, checked first
    assert confirming.state.phase is Phase.CONFIRMING
    confirmed = step(sij, confirming.state, Answer(option="yes"), now=NOW).effects
    record = next(e for e in confirmed if isinstance(e, RecordAnswer))
    assert (record.level, record.rule) == (Level.AMBER, "amber.glucose.above_12_twice_in_24h")
    assert (
        assess("250 and 240", question=sij.question("glucose"), now=NOW).level is Level.AMBER
    )  # as the tool


@pytest.mark.parametrize(
    "text",
    [
        "meter just flashing an error, think the strip was bent",
        "strips ran out, chemist getting more in tomorrow",
    ],
)
def test_a_reason_for_no_sugar_reading_is_not_second_guessed_by_the_statistical_layer(
    sij: ResolvedProtocol, text: str
) -> None:
    # Blind set F: both asked about self-harm and bladder on the model's guess. The rules still screen them.
    verdict = assess(text, question=sij.question("glucose"), now=NOW)
    assert verdict.value is None
    assert verdict.asks == ()


def test_a_glucose_answer_without_a_number_is_still_screened_by_the_rules(sij: ResolvedProtocol) -> None:
    verdict = assess(
        "can't wake up properly, feel awful and confused", question=sij.question("glucose"), now=NOW
    )
    assert verdict.level is Level.RED
