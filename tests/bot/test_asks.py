"""Ask when unsure, end to end: free text that touches a red-flag area gets the red-flag question at once with
Yes / No / Not sure buttons; a yes (tapped or typed) escalates; a chat that is not enrolled still gets urgent
advice for a red flag."""

from __future__ import annotations

import json

import pytest
from sqlmodel import col, select

from flows.levels import Level
from storage.db import session_scope
from storage.models import Answer
from tests.bot.world import World

pytestmark = pytest.mark.asyncio


async def test_free_text_that_touches_a_red_flag_area_gets_the_question_and_yes_escalates(
    world: World,
) -> None:
    phone = await world.join("Sam")
    asked = await world.reply(phone, "my legs feel funny on the stairs today", "To be safe, please answer")
    assert "weakness in a leg" in asked.text
    assert [b.text for row in asked.buttons for b in row] == ["Yes", "No", "Not sure"]
    assert world.escalations() == []  # asking is not yet escalating
    await world.press(phone, "Yes", "Get medical help today")
    assert [(e.level, e.rule) for e in world.escalations()] == [(Level.RED, "red.leg_weakness.new_or_worse")]


async def test_a_typed_no_answers_the_question_and_a_typed_not_sure_escalates(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "temp 37.6 tonight", "To be safe, please answer")
    await world.reply(phone, "no", "That is good to hear")
    assert world.escalations() == []
    await world.reply(phone, "now its 37.8", "To be safe, please answer")
    await world.reply(phone, "not sure", "Get medical help today")
    assert [e.level for e in world.escalations()] == [Level.RED]


async def test_pain_said_to_be_worse_is_asked_about_and_a_typed_not_sure_escalates(world: World) -> None:
    # The pain question has no "Not sure" button: a hedge counts as its "yes", never a clean no, and it is
    # not screened again as a new message (the walkthrough found "not sure" asked about self-harm and fever).
    phone = await world.join("Sam")
    await world.reply(phone, "my back is killing me today", "too much for your usual painkillers")
    assert world.escalations() == []
    await world.reply(phone, "not sure", "painkillers")
    assert [(e.level, e.rule) for e in world.escalations()] == [(Level.AMBER, "amber.pain.not_controlled")]


async def test_an_unenrolled_chat_with_a_red_flag_gets_urgent_advice(world: World) -> None:
    stranger = world.emulator.new_user("Alex")
    await stranger.send("my throat is swelling and I cant breathe")
    await world.bot_says(stranger, "Call 999 now")
    await world.bot_says(stranger, "It only works with the personal link")
    assert world.escalations() == []  # no patient, nothing about anyone is stored or shown


async def test_the_question_is_kept_with_why_it_was_asked(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "my legs feel funny on the stairs today", "To be safe, please answer")
    with session_scope(world.engine) as session:
        answers = list(session.exec(select(Answer).order_by(col(Answer.id))).all())
    free_text = [a for a in answers if a.question_id == "free_text"]
    assert json.loads(free_text[-1].value_json or "{}") == {
        "asks": ["rf.leg_weakness"],
        "asked_because": ["ask.legs"],
        "model_terms": [],
    }
