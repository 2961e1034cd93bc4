"""Every red flag, end to end: the patient gets the urgent advice at once (its own message, a neutral first
line), the check-in stops, staff get an escalation in the database and an alert in their chat that names
the rule and the patient's reference, never the patient's name or answer. A red flag typed at any time,
in any state (before consent, mid-check-in, after opting out, in an edit or a photo caption), is caught."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.emulator import EmulatorUser
from flows.catalogue import bundled_protocols
from flows.levels import Level
from flows.messages import say
from storage.models import CheckInStatus, EscalationStatus, PatientStatus
from tests.bot.world import MONDAY_9AM, World

URGENT_PREVIEW = say("preview.urgent")


@dataclass(frozen=True, kw_only=True)
class RedFlag:
    """A path through a check-in to a red outcome: (question, answer) pairs, calm answers in between."""

    name: str
    steps: tuple[tuple[str, str], ...]
    rule: str
    heading: str
    procedure: str = "sacroiliac-joint-injection"
    diabetic: bool = False
    day: int = 1  # 0: the day-0 evening check-in, 1: day-1 morning, 7: day 7

    @property
    def questions(self) -> set[str]:
        return {question for question, _ in self.steps}


RED_FLAGS = [
    RedFlag(
        name="cauda equina screen",
        steps=(("rf.ces", "Yes"),),
        rule="red.ces.screen_positive",
        heading="Go to A&E now.",
    ),
    RedFlag(
        name="new leg weakness",
        steps=(("rf.leg_weakness", "Yes"),),
        rule="red.leg_weakness.new_or_worse",
        heading="Get medical help today.",
    ),
    RedFlag(
        name="fever",
        steps=(("rf.fever", "Yes"),),
        rule="red.fever.reported",
        heading="Get medical help today.",
    ),
    RedFlag(
        name="sudden severe back pain",
        steps=(("rf.severe_back_pain", "Yes"),),
        rule="red.back_pain.sudden_severe",
        heading="Get medical help today.",
    ),
    RedFlag(
        name="allergy with airway signs",
        steps=(("allergy.day0", "Yes"), ("allergy.airway", "Yes")),
        rule="red.anaphylaxis.airway_or_faint",
        heading="Call 999 now.",
        day=0,
    ),
    RedFlag(
        name="numbness worse, both legs",
        steps=(("numbness.day0", "Yes, getting worse"), ("numbness.where", "Both legs")),
        rule="red.ces.numbness_both_legs_or_saddle",
        heading="Go to A&E now.",
        day=0,
    ),
    RedFlag(
        name="numbness not improving, one leg",
        steps=(("numbness.next_day", "Same or worse"), ("numbness.where", "One leg")),
        rule="red.leg_weakness.numbness_one_leg_worsening",
        heading="Get medical help today.",
    ),
    RedFlag(
        name="glucose meter HI",
        steps=(("glucose", "HI"),),
        rule="red.glucose.meter_high",
        heading="Get medical help now.",
        diabetic=True,
        day=0,
    ),
    RedFlag(
        name="glucose below 3",
        steps=(("glucose", "2.4"),),
        rule="red.glucose.below_3",
        heading="Treat your low sugar now.",
        diabetic=True,
        day=0,
    ),
    RedFlag(
        name="very high glucose with DKA symptoms",
        steps=(("glucose", "24"), ("glucose.dka_symptoms", "Yes")),
        rule="red.dka.symptoms_with_high_glucose",
        heading="Call 999 or go to A&E now.",
        diabetic=True,
        day=0,
    ),
    RedFlag(
        name="thoughts of self-harm",
        steps=(("mood", "Yes"), ("mood.self_harm", "Yes")),
        rule="red.crisis.thoughts_of_self_harm",
        heading="Please get help now.",
        day=7,
    ),
    RedFlag(
        name="positional headache with danger signs",
        procedure="epidural-steroid-injection",
        steps=(("epidural.headache", "Yes"), ("epidural.headache_danger", "Yes")),
        rule="red.headache.with_danger_signs",
        heading="Call 999 or go to A&E now.",
    ),
]


def test_every_question_with_a_red_outcome_has_an_end_to_end_case() -> None:
    """A guard: a red-flag question added to the bank or a protocol must get a case above."""
    red_questions = {
        question.id
        for protocol in bundled_protocols().values()
        for question in protocol.questions.values()
        if any(outcome.level is Level.RED for outcome in question.outcomes)
    }
    covered = set().union(*(flag.questions for flag in RED_FLAGS))
    assert red_questions <= covered, f"no end-to-end test for {sorted(red_questions - covered)}"


async def _checkin_for_day(world: World, flag: RedFlag) -> EmulatorUser:
    """The patient, with the check-in of ``flag.day`` open."""
    if flag.day == 7:  # performed a week ago: day 7's check-in is at 10:00 today; earlier ones are long past
        phone = await world.join(
            "Sam",
            procedure=flag.procedure,
            diabetic=flag.diabetic,
            performed_at=MONDAY_9AM - timedelta(days=7),
        )
        await world.advance(timedelta(hours=1))
    else:
        phone = await world.join("Sam", procedure=flag.procedure, diabetic=flag.diabetic)
        await world.advance(timedelta(hours=4) if flag.day == 0 else timedelta(days=1, hours=1))
    await world.bot_says(phone, "it's time for your check-in")
    return phone


@pytest.mark.parametrize("flag", RED_FLAGS, ids=[flag.name for flag in RED_FLAGS])
async def test_a_red_answer_gets_urgent_advice_at_once_and_reaches_staff(world: World, flag: RedFlag) -> None:
    phone = await _checkin_for_day(world, flag)
    for question, answer in flag.steps:
        await world.answer_calmly_until(phone, question)
        sent = world.last_message_id(phone)
        await world.answer(phone, answer)
    urgent = await world.bot_says(phone, flag.heading, after=sent)
    assert urgent.text.splitlines()[0] == URGENT_PREVIEW  # a lock screen shows nothing clinical
    assert "999" in urgent.text or "111" in urgent.text or "A&E" in urgent.text
    red = [e for e in world.escalations() if e.level is Level.RED]
    assert [e.rule for e in red] == [flag.rule]
    assert red[0].status is EscalationStatus.OPEN and red[0].checkin_id is not None
    alert = await world.bot_says(world.staff_chat_id, f"RED escalation #{red[0].id}")
    assert flag.rule in alert.text and world.patient(phone).reference in alert.text
    assert "Sam" not in alert.text
    assert alert.button_texts == ["Acknowledge"]
    # The check-in stopped: no routine question after a red flag.
    [checkin] = [c for c in world.checkins(phone) if c.id == red[0].checkin_id]
    assert checkin.status is CheckInStatus.COMPLETED
    assert world.open_question(phone) == (None, None)
    assert all(not m.buttons for m in world.bot_messages(phone, after=sent))


# --------------------------------------------------------------------------------- typed at any time

RED_TEXT = "I've wet myself twice today and couldn't feel it"


async def _red_text_is_caught(world: World, phone: EmulatorUser, *, after: int) -> None:
    urgent = await world.bot_says(phone, "Go to A&E now.", after=after)
    assert urgent.text.splitlines()[0] == URGENT_PREVIEW
    assert [(e.level, e.rule) for e in world.escalations() if e.level is Level.RED] == [
        (Level.RED, "red.ces.bladder")
    ]
    await world.bot_says(world.staff_chat_id, "RED escalation")


async def test_a_red_flag_typed_before_consent_is_caught(world: World) -> None:
    phone = world.emulator.new_user("Sam")
    await phone.start(world.enrol(name="Sam"))
    await world.bot_says(phone, "Is it OK for us to message you")
    sent = world.last_message_id(phone)
    await phone.send(RED_TEXT)
    await _red_text_is_caught(world, phone, after=sent)


async def test_a_red_flag_typed_in_answer_to_a_routine_question_is_caught(world: World) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(days=1, hours=1))
    await world.answer_calmly_until(phone, "pain.now")
    sent = world.last_message_id(phone)
    await phone.send("7, and I have lost control of my bladder")
    urgent = await world.bot_says(phone, "Go to A&E now.", after=sent)
    assert urgent.text.splitlines()[0] == URGENT_PREVIEW
    assert [e.rule for e in world.escalations() if e.level is Level.RED] == ["red.ces.bladder"]
    assert world.open_question(phone) == (None, None)  # the check-in stopped for it


async def test_a_red_flag_from_a_patient_who_opted_out_is_never_silenced(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "/stop", "Do you want to stop your check-ins?")
    await world.press(phone, "Yes, stop them", "Your check-ins have stopped")
    assert world.patient(phone).status is PatientStatus.OPTED_OUT
    sent = world.last_message_id(phone)
    await phone.send(RED_TEXT)
    await _red_text_is_caught(world, phone, after=sent)


async def test_a_red_flag_added_by_editing_a_message_is_caught(world: World) -> None:
    phone = await world.join("Sam")
    message = await phone.send("feeling ok today")
    await world.bot_says(phone, "Thank you for your message")
    sent = world.last_message_id(phone)
    await phone.edit(message["message_id"], RED_TEXT)
    await _red_text_is_caught(world, phone, after=sent)


async def test_a_red_flag_in_a_photo_caption_is_caught(world: World) -> None:
    phone = await world.join("Sam")
    sent = world.last_message_id(phone)
    await phone.send_photo(caption=RED_TEXT)
    await _red_text_is_caught(world, phone, after=sent)


async def test_a_red_flag_buried_in_a_long_chatty_message_is_caught(world: World) -> None:
    phone = await world.join("Sam")
    chatter = (
        "Went to see my daughter and the grandchildren, lovely weather for it, the garden is coming on. "
    )
    text = chatter * 26 + RED_TEXT + ". " + chatter * 4  # about 3000 characters, the red flag past the 2000th
    assert text.index(RED_TEXT) > 2000 and len(text) < 4096
    sent = world.last_message_id(phone)
    await phone.send(text)
    await _red_text_is_caught(world, phone, after=sent)
