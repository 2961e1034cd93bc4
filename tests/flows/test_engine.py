"""The check-in engine: answers in, decisions out. Pure, so every case runs in microseconds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flows.catalogue import ResolvedProtocol
from flows.effects import (
    AskConfirmation,
    AskQuestion,
    CompleteCheckIn,
    Ending,
    Escalate,
    GiveAdvice,
    RecordAnswer,
    SendEducation,
)
from flows.engine import (
    MAX_TRIES,
    Answer,
    IllegalStep,
    Transition,
    answer_outside_checkin,
    begin,
    excerpt,
    screen_message,
    step,
    unanswered,
)
from flows.levels import Level
from flows.schedule import Patient
from flows.state import CheckInState, Phase
from flows.triage import PastReading

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def start(
    protocol: ResolvedProtocol,
    checkin: str = "day1.morning",
    *,
    diabetic: bool = False,
    day: int = 1,
    history: tuple[PastReading, ...] = (),
) -> Transition:
    return begin(protocol, checkin, patient=Patient(diabetic=diabetic), day=day, history=history, now=NOW)


def reply(
    protocol: ResolvedProtocol,
    state: CheckInState,
    text: str | None = None,
    *,
    option: str | None = None,
    now: datetime = NOW,
) -> Transition:
    return step(protocol, state, Answer(text=text, option=option), now=now)


def asked(transition: Transition) -> str | None:
    questions = [e for e in transition.effects if isinstance(e, AskQuestion)]
    return questions[-1].question_id if questions else None


def escalations(transition: Transition) -> list[Escalate]:
    return [e for e in transition.effects if isinstance(e, Escalate)]


def advice(transition: Transition) -> list[str]:
    return [e.advice_id for e in transition.effects if isinstance(e, GiveAdvice)]


def answer_all_green(protocol: ResolvedProtocol, transition: Transition) -> Transition:
    """Answer each question of the check-in the calm way, until it completes."""
    calm = {
        "yes_no": "no",
        "pain_scale": "3",
        "choice": None,
        "glucose": "7.5",
        "temperature": "36.8",
        "percent_relief": "40",
        "pgic": "3",
        "free_text": "no thanks",
    }
    while transition.state.phase is not Phase.COMPLETE:
        question = protocol.question(transition.state.queue[0].question_id)
        if question.kind.value == "choice":
            transition = reply(protocol, transition.state, option=question.options[0].id)
        elif question.id == "activity.more":
            transition = reply(protocol, transition.state, "yes")
        else:
            transition = reply(protocol, transition.state, calm[question.kind.value])
    return transition


def test_a_check_in_begins_with_its_education_then_the_first_question(sij: ResolvedProtocol) -> None:
    first = start(sij, "day0.evening", diabetic=True, day=0)
    kinds = [type(e) for e in first.effects]
    assert kinds == [SendEducation, SendEducation, SendEducation, AskQuestion]
    assert asked(first) == "numbness.day0"
    assert first.state.phase is Phase.ASKING


def test_education_for_people_with_diabetes_is_only_for_them(sij: ResolvedProtocol) -> None:
    first = start(sij, "day0.evening", diabetic=False, day=0)
    sent = [e.message_id for e in first.effects if isinstance(e, SendEducation)]
    assert "edu.diabetes_checks" not in sent
    assert "glucose" not in [p.question_id for p in first.state.queue]


def test_an_all_well_day_1_completes_without_escalation(sij: ResolvedProtocol) -> None:
    transition = start(sij)
    effects = []
    while transition.state.phase is not Phase.COMPLETE:
        transition = answer_all_green(sij, transition)
        effects += transition.effects
    assert transition.state.worst_level is Level.GREEN
    assert isinstance(transition.effects[-1], CompleteCheckIn)
    assert transition.effects[-1].ending is Ending.ANSWERED


def test_yes_to_the_cauda_equina_screen_sends_to_a_and_e_escalates_and_stops(sij: ResolvedProtocol) -> None:
    first = start(sij)
    assert asked(first) == "rf.ces"
    after = reply(sij, first.state, "yes")
    assert advice(after) == ["red.ces"]
    assert [(e.level, e.rule) for e in escalations(after)] == [(Level.RED, "red.ces.screen_positive")]
    assert after.state.phase is Phase.COMPLETE
    complete = [e for e in after.effects if isinstance(e, CompleteCheckIn)]
    assert complete[0].ending is Ending.STOPPED_FOR_RED_FLAG
    assert asked(after) is None
    # urgent advice is the first thing the patient sees
    assert isinstance(after.effects[0], GiveAdvice)


def test_a_pressed_button_counts_like_typed_text(sij: ResolvedProtocol) -> None:
    after = reply(sij, start(sij).state, option="yes")
    assert advice(after) == ["red.ces"]
    recorded = [e for e in after.effects if isinstance(e, RecordAnswer)]
    assert recorded[0].text == "Yes"


def test_a_red_flag_typed_in_reply_to_any_question_is_caught(sij: ResolvedProtocol) -> None:
    state = start(sij).state
    after = reply(sij, state, "no, but I can't feel my bum when I wipe")
    assert "red.ces" in advice(after)
    assert any(e.level is Level.RED for e in escalations(after))
    assert after.state.phase is Phase.COMPLETE


def test_a_red_flag_typed_as_an_unreadable_pain_score_is_still_caught(sij: ResolvedProtocol) -> None:
    transition = start(sij)
    while asked(transition) != "pain.now":
        question = sij.question(transition.state.queue[0].question_id)
        transition = reply(sij, transition.state, option=question.options[0].id if question.options else "no")
    after = reply(sij, transition.state, "cant say, my legs have both gone weak and numb")
    assert "red.ces" in advice(after)
    assert after.state.phase is Phase.COMPLETE


def test_an_unreadable_answer_is_asked_again_with_a_hint_never_guessed(sij: ResolvedProtocol) -> None:
    state = start(sij).state
    after = reply(sij, state, "banana")
    question = [e for e in after.effects if isinstance(e, AskQuestion)]
    assert question[0].question_id == "rf.ces"
    assert question[0].reask_problem is not None
    assert not [e for e in after.effects if isinstance(e, RecordAnswer)]
    assert after.state.tries == 1


@pytest.mark.parametrize("hedge", ["not sure", "not really", "a bit", "maybe"])
def test_a_hedged_answer_to_a_red_flag_question_is_never_a_clean_no(
    sij: ResolvedProtocol, hedge: str
) -> None:
    after = reply(sij, start(sij).state, hedge)
    assert [(e.level, e.rule) for e in escalations(after)] == [(Level.RED, "red.ces.screen_positive.unsure")]
    assert advice(after) == ["red.ces"]


def test_the_not_sure_button_escalates_like_yes(sij: ResolvedProtocol) -> None:
    first = start(sij)
    assert [label for _, label in next(e for e in first.effects if isinstance(e, AskQuestion)).options] == [
        "Yes",
        "No",
        "Not sure",
    ]
    after = reply(sij, first.state, option="unsure")
    assert [e.level for e in escalations(after)] == [Level.RED]


def test_a_red_flag_question_still_unclear_after_three_tries_is_escalated(sij: ResolvedProtocol) -> None:
    transition = start(sij)
    for _ in range(MAX_TRIES):
        transition = reply(sij, transition.state, "banana")
    assert advice(transition) == ["amber.unclear"]
    assert [(e.level, e.rule) for e in escalations(transition)] == [(Level.AMBER, "amber.unclear.rf.ces")]
    assert asked(transition) == "rf.leg_weakness"


def test_a_reply_that_touches_a_red_flag_area_gets_that_question_next(sij: ResolvedProtocol) -> None:
    state = start(sij, "day1.evening", diabetic=True).state  # asks only for blood sugar
    after = reply(sij, state, "legs feel funny on the stairs")
    assert asked(after) == "rf.leg_weakness"  # the red-flag question at once, never a reassurance
    assert [p.question_id for p in after.state.queue] == ["rf.leg_weakness", "glucose"]  # then sugar again
    assert not escalations(after)
    yes = reply(sij, after.state, option="yes")
    assert [e.level for e in escalations(yes)] == [Level.RED]


def test_an_unclear_follow_up_after_a_red_answer_is_escalated_red(sij: ResolvedProtocol) -> None:
    transition = start(sij, "day0.evening", day=0)
    transition = reply(sij, transition.state, option="worse")
    assert asked(transition) == "numbness.where"
    for _ in range(MAX_TRIES):
        transition = reply(sij, transition.state, "hmm")
    assert [e.level for e in escalations(transition)] == [Level.RED]


def test_fever_is_red_with_or_without_back_pain(sij: ResolvedProtocol) -> None:
    state = start(sij).state
    state = reply(sij, state, "no").state
    state = reply(sij, state, "no").state
    fever = reply(sij, state, "yes")
    assert advice(fever) == ["red.fever"]
    assert [(e.level, e.rule) for e in escalations(fever)] == [(Level.RED, "red.fever.reported")]
    assert fever.state.phase is Phase.COMPLETE  # red stops the check-in


def test_one_message_gets_one_coherent_reply_the_most_urgent_advice_only(sij: ResolvedProtocol) -> None:
    after = reply(
        sij, start(sij, "day7", day=7).state, "temp 38.6 and the pain is much worse, tablets not touching it"
    )
    assert advice(after) == ["red.fever"]  # not also "call the clinic within 1 working day"
    assert {e.rule for e in escalations(after)} >= {"red.fever", "amber.pain_uncontrolled"}


def _glucose_state(sij: ResolvedProtocol, history: tuple[PastReading, ...] = ()) -> CheckInState:
    transition = start(sij, "day1.evening", diabetic=True, history=history)
    assert asked(transition) == "glucose"
    return transition.state


def test_glucose_above_12_once_is_green_and_twice_in_24_hours_amber(sij: ResolvedProtocol) -> None:
    once = reply(sij, _glucose_state(sij), "12.6")
    assert [e.level for e in escalations(once)] == []
    earlier = (PastReading(question_id="glucose", value=13.1, at=NOW - timedelta(hours=8)),)
    twice = reply(sij, _glucose_state(sij, earlier), "12.6")
    assert [(e.level, e.rule) for e in escalations(twice)] == [
        (Level.AMBER, "amber.glucose.above_12_twice_in_24h")
    ]
    stale = (PastReading(question_id="glucose", value=13.1, at=NOW - timedelta(hours=30)),)
    assert escalations(reply(sij, _glucose_state(sij, stale), "12.6")) == []


@pytest.mark.parametrize(
    ("text", "level", "rule"),
    [
        ("HI", Level.RED, "red.glucose.meter_high"),
        ("LO", Level.RED, "red.glucose.below_3"),
        ("3.4", Level.RED, "red.glucose.hypo_below_4"),
        ("21.5", Level.AMBER, "amber.glucose.above_20"),
        ("6.2", Level.GREEN, "green.glucose.in_range"),
    ],
)
def test_glucose_thresholds(sij: ResolvedProtocol, text: str, level: Level, rule: str) -> None:
    after = reply(sij, _glucose_state(sij), text)
    recorded = [e for e in after.effects if isinstance(e, RecordAnswer)]
    assert (recorded[0].level, recorded[0].rule) == (level, rule)


def test_a_glucose_reading_in_mg_dl_is_confirmed_before_use(sij: ResolvedProtocol) -> None:
    asking = reply(sij, _glucose_state(sij), "216")
    confirm = [e for e in asking.effects if isinstance(e, AskConfirmation)]
    assert confirm and "12.0 mmol/L" in confirm[0].understood_as
    assert asking.state.phase is Phase.CONFIRMING
    yes = reply(sij, asking.state, "yes")
    recorded = [e for e in yes.effects if isinstance(e, RecordAnswer)]
    assert recorded[0].value is not None and recorded[0].value["value"] == 12.0
    no = reply(sij, asking.state, "no")
    assert asked(no) == "glucose"
    assert no.state.phase is Phase.ASKING


def test_a_clock_time_is_not_a_glucose_reading(sij: ResolvedProtocol) -> None:
    after = reply(sij, _glucose_state(sij), "7:30")
    assert not [e for e in after.effects if isinstance(e, RecordAnswer)]
    assert asked(after) == "glucose"


def test_no_benefit_by_two_weeks_is_noted_for_review(sij: ResolvedProtocol) -> None:
    transition = start(sij, "day14", day=14)
    while asked(transition) != "pain.compared":
        question = sij.question(transition.state.queue[0].question_id)
        transition = reply(sij, transition.state, "no" if question.kind.value == "yes_no" else "4")
    assert advice(reply(sij, transition.state, option="same")) == ["green.no_benefit_review"]


def test_illegal_steps_raise_and_leave_the_state_unchanged(sij: ResolvedProtocol) -> None:
    state = start(sij).state
    before = state.to_json()
    for bad in (Answer(), Answer(text="yes", option="yes"), Answer(text="   "), Answer(option="forged")):
        with pytest.raises(IllegalStep):
            step(sij, state, bad, now=NOW)
    with pytest.raises(IllegalStep):
        step(sij, state, Answer(text="yes"), now=NOW.replace(tzinfo=None))
    with pytest.raises(IllegalStep):
        step(sij, replace(state, protocol_version=99), Answer(text="yes"), now=NOW)
    closed = reply(sij, state, "yes").state
    with pytest.raises(IllegalStep, match="closed"):
        step(sij, closed, Answer(text="no"), now=NOW)
    assert state.to_json() == before


def test_state_round_trips_through_json(sij: ResolvedProtocol) -> None:
    transition = start(
        sij, "day1.evening", diabetic=True, history=(PastReading(question_id="glucose", value=13.0, at=NOW),)
    )
    confirming = reply(sij, transition.state, "250")
    for state in (transition.state, confirming.state):
        assert CheckInState.from_json(state.to_json()) == state
    with pytest.raises(ValueError, match="format"):
        CheckInState.from_json('{"format": 99}')


def test_silence_on_a_red_flag_screen_is_raised_to_staff(sij: ResolvedProtocol) -> None:
    closed = unanswered(sij, start(sij).state)
    assert [(e.level, e.rule) for e in escalations(closed)] == [
        (Level.AMBER, "amber.unanswered.red_flag_screen")
    ]
    assert closed.state.phase is Phase.COMPLETE
    quiet = unanswered(sij, start(sij, "day1.evening", diabetic=True).state)
    assert escalations(quiet) == []


def test_free_text_outside_a_check_in_is_screened() -> None:
    red = screen_message("I have wet myself and can't feel it, no idea why")
    assert any(isinstance(e, Escalate) and e.level is Level.RED for e in red)
    assert screen_message("thanks, all good here") == ()
    assert screen_message("no fever and no numbness at all") == ()


ANSWERS = st.one_of(
    st.text(min_size=1, max_size=80).filter(lambda t: t.strip()),
    st.sampled_from(["yes", "no", "7", "12.4", "HI", "38.5", "not sure", "216", "0", "10/10", "👍"]),
)


@settings(max_examples=150, deadline=None)
@given(answers=st.lists(ANSWERS, min_size=1, max_size=25))
def test_any_sequence_of_replies_keeps_a_valid_state(sij: ResolvedProtocol, answers: list[str]) -> None:
    transition = start(sij, diabetic=True)
    for text in answers:
        if transition.state.phase is Phase.COMPLETE:
            break
        transition = reply(sij, transition.state, text)
        assert CheckInState.from_json(transition.state.to_json()) == transition.state
        if transition.state.phase is not Phase.COMPLETE:
            assert any(isinstance(e, AskQuestion | AskConfirmation) for e in transition.effects)
        for effect in transition.effects:
            if isinstance(effect, Escalate) and effect.level is Level.RED:
                assert transition.state.phase is Phase.COMPLETE


def test_staff_see_the_words_that_raised_an_escalation_even_late_in_a_long_message() -> None:
    chatter = "Well the weather has been lovely and the grandchildren came round for tea. " * 40
    long = chatter + "Oh and since last night I cannot feel anything around my bottom when I wipe."
    escalations = [e for e in screen_message(long) if isinstance(e, Escalate)]
    assert escalations and escalations[0].level is Level.RED
    shown = escalations[0].trigger_text
    assert len(shown) <= 2000
    assert "cannot feel anything around my bottom" in shown
    assert shown.startswith("Well the weather")
    assert excerpt("short message", 0, 5) == "short message"


def test_an_answer_outside_a_check_in_is_graded_like_any_answer(sij: ResolvedProtocol) -> None:
    late = answer_outside_checkin(sij.question("rf.ces"), "yes", day=3, now=NOW)
    assert advice(Transition(state=start(sij).state, effects=late)) == ["red.ces"]
    assert [(e.level, e.rule) for e in late if isinstance(e, Escalate)] == [
        (Level.RED, "red.ces.screen_positive")
    ]
    no = answer_outside_checkin(sij.question("rf.ces"), "no", day=3, now=NOW)
    assert [type(e) for e in no] == [RecordAnswer]
    with pytest.raises(IllegalStep):
        answer_outside_checkin(sij.question("rf.ces"), "forged", day=3, now=NOW)
