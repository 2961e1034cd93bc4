"""What patients send besides answers, end to end: photos, stickers, voice notes, a location, edited
messages, very long messages, emoji only, unknown commands. Each gets a kind, clear reply (no silence)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select

from bot.emulator import EmulatorUser
from storage.db import session_scope
from storage.models import Answer
from tests.bot.world import World


async def _reply_to(world: World, phone: EmulatorUser, action: str) -> str:
    before = world.last_message_id(phone)
    if action == "photo":
        await phone.send_photo()
    elif action == "sticker":
        await world.emulator.user_sends_sticker(phone.id)
    elif action == "voice":
        await world.emulator.user_sends_voice(phone.id)
    elif action == "location":
        await phone.send_location(50.4166, -4.1130)
    elif action == "contact":
        await world.emulator.user_sends_contact(phone.id, phone_number="+447700900123")
    else:
        await phone.send(action)
    reply = await world.emulator.wait_for_bot_message(phone.chat_id, after_message_id=before, timeout=10)
    return reply.text


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("photo", "I can only read typed messages"),
        ("sticker", "I can only read typed messages"),
        ("location", "I can only read typed messages"),
        ("contact", "I can only read typed messages"),
        ("voice", "I cannot listen to voice messages"),
        ("👍🙂", "If you meant to answer a question, please tap a button or type your answer"),
        ("/wibble", "I send short check-ins"),
    ],
)
async def test_things_the_bot_cannot_read_get_a_kind_clear_reply(
    world: World, action: str, expected: str
) -> None:
    phone = await world.join("Sam")
    assert expected in await _reply_to(world, phone, action)
    assert world.escalations() == []


async def test_a_photo_during_a_check_in_gets_a_reply_and_the_question_stays_open(world: World) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(hours=4))
    await world.bot_says(phone, "Do you have any numbness or heaviness")
    assert "Please type your answer" in await _reply_to(world, phone, "photo")
    question, _ = world.open_question(phone)
    assert question is not None and question.id == "numbness.day0"
    await world.press(phone, "No numbness", "have you had a new rash")


async def test_an_edited_message_is_acknowledged_and_never_re_answered(world: World) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(hours=4))
    await world.bot_says(phone, "Do you have any numbness or heaviness")
    sent = await phone.send("none at all")
    await world.bot_says(phone, "have you had a new rash")
    await world.delivered(phone)
    before = world.last_message_id(phone)
    await phone.edit(sent["message_id"], "none at all, thanks")
    edited = await world.bot_says(phone, "I saw you changed a message", after=before)
    assert "please send it again" in edited.text
    with session_scope(world.engine) as session:
        answers = session.exec(select(Answer).order_by(col(Answer.id))).all()
    assert [a.question_id for a in answers] == [
        "numbness.day0",
        "free_text",
    ]  # the edit was screened, not re-answered
    question, _ = world.open_question(phone)
    assert question is not None and question.id == "allergy.day0"
    assert world.escalations() == []


async def test_a_very_long_chatty_message_is_thanked_and_kept_in_part(world: World) -> None:
    phone = await world.join("Sam")
    chatter = (
        "Went to see my daughter and the grandchildren, lovely weather for it, the garden is coming on. "
    )
    before = world.last_message_id(phone)
    await phone.send(chatter * 32)  # about 3000 characters
    await world.bot_says(phone, "Thank you for your message", after=before)
    await world.bot_says(phone, "That was a long message", after=before)
    with session_scope(world.engine) as session:
        [kept] = session.exec(select(Answer)).all()
    assert kept.question_id == "free_text" and len(kept.text) == 2000
    assert world.escalations() == []
