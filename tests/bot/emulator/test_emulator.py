"""Simulated people: realistic update shapes (checked by PTB's own parser), transcripts, waiting."""

import datetime as dt

import pytest
from telegram import Bot, Update

from bot.emulator import Emulator, EmulatorUsageError
from bot.emulator.emulator import ClockStep
from bot.emulator.model import Sender, StoredMessage


def parsed(emulator: Emulator) -> list[Update]:
    """Pending updates as PTB objects: PTB's parser rejects shapes Telegram would never send."""
    bot = Bot(emulator.token)
    return [Update.de_json(update, bot) for update in emulator.updates.pending()]


async def test_start_with_a_token_carries_a_bot_command_entity(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann", last_name="Smith", username="ann", language_code="en")
    await patient.start("tok_123-ABC")
    (update,) = parsed(emulator)
    assert update.message is not None
    assert update.message.text == "/start tok_123-ABC"
    assert update.message.parse_entities(["bot_command"]) == {update.message.entities[0]: "/start"}
    assert update.message.from_user is not None and update.message.from_user.language_code == "en"
    assert update.message.chat.type == "private"


async def test_media_updates_parse_as_telegram_objects(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann")
    await patient.send_photo("the injection site")
    await emulator.user_sends_sticker(patient.id, emoji="😀")
    await emulator.user_sends_voice(patient.id, duration=4)
    await patient.send_location(51.5, -0.12)
    await emulator.user_sends_contact(patient.id, phone_number="+447700900123")
    photo, sticker, voice, location, contact = (update.message for update in parsed(emulator))
    assert photo is not None and photo.photo[-1].width == 1280 and photo.caption == "the injection site"
    assert sticker is not None and sticker.sticker is not None and sticker.sticker.emoji == "😀"
    assert voice is not None and voice.voice is not None and voice.voice.duration.total_seconds() == 4  # type: ignore[union-attr]
    assert location is not None and location.location is not None and location.location.latitude == 51.5
    assert contact is not None and contact.contact is not None and contact.contact.user_id == patient.id


async def test_editing_a_message_sends_edited_message_and_updates_the_transcript(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann")
    sent = await patient.send("pain 8")
    await patient.edit(sent["message_id"], "pain 3")
    _, edit = parsed(emulator)
    assert edit.edited_message is not None and edit.edited_message.text == "pain 3"
    assert edit.edited_message.message_id == sent["message_id"]
    assert [(entry.text, entry.edited) for entry in patient.transcript()] == [("pain 3", True)]


async def test_blocking_and_unblocking_send_my_chat_member(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann")
    await patient.block()
    await patient.block()  # blocking twice changes nothing
    await patient.unblock()
    kicked, member = (update.my_chat_member for update in parsed(emulator))
    assert kicked is not None and (kicked.old_chat_member.status, kicked.new_chat_member.status) == (
        "member",
        "kicked",
    )
    assert member is not None and member.new_chat_member.status == "member"


async def test_pressing_an_old_button_still_works_but_not_a_missing_one(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    chat = emulator.chats[patient.chat_id]
    old = emulator.store_message(
        chat,
        _bot_message(
            emulator, chat.take_message_id(), chat.id, [[{"text": "Yes", "callback_data": "day1:yes"}]]
        ),
    )
    emulator.store_message(chat, _bot_message(emulator, chat.take_message_id(), chat.id, None))
    query_id = await patient.press(old.message_id, "day1:yes")
    press = parsed(emulator)[-1].callback_query
    assert press is not None and press.id == query_id and press.data == "day1:yes"
    assert press.message is not None and press.message.message_id == old.message_id
    with pytest.raises(EmulatorUsageError):
        await patient.press(old.message_id, "day1:no")
    with pytest.raises(EmulatorUsageError):
        await patient.press_button("Maybe")


def _bot_message(emulator: Emulator, message_id: int, chat_id: int, keyboard: object) -> StoredMessage:
    return StoredMessage(
        message_id=message_id,
        chat_id=chat_id,
        sender=Sender.BOT,
        sender_id=emulator.bot_id,
        date=emulator.now(),
        text="Any fever?",
        inline_keyboard=keyboard,  # type: ignore[arg-type]
    )


async def test_things_a_telegram_app_cannot_do_are_refused(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann")
    with pytest.raises(EmulatorUsageError):
        await patient.send("   ")
    with pytest.raises(EmulatorUsageError):
        await emulator.user_sends(999, "who am I?")
    with pytest.raises(EmulatorUsageError):
        emulator.create_user(first_name="Ann", user_id=patient.id)
    await patient.block()
    with pytest.raises(EmulatorUsageError):
        await patient.send("hello?")


async def test_waiting_for_a_bot_message_that_never_comes_says_what_it_waited_for(emulator: Emulator) -> None:
    patient = emulator.new_user("Ann")
    with pytest.raises(TimeoutError, match="a bot message in chat"):
        await patient.next_bot_message(timeout=0.05)


async def test_next_morning_uses_the_host_clock(emulator: Emulator) -> None:
    emulator.clock_now = lambda: dt.datetime(2026, 11, 21, 22, 30, tzinfo=dt.UTC)
    assert emulator.clock_step(ClockStep.MORNING) == dt.timedelta(hours=11, minutes=30)  # to 10:00 next day
    emulator.clock_now = lambda: dt.datetime(2026, 11, 21, 7, 0, tzinfo=dt.UTC)
    assert emulator.clock_step(ClockStep.MORNING) == dt.timedelta(hours=3)
    moved: list[dt.timedelta] = []

    async def advance(by: dt.timedelta) -> str:
        moved.append(by)
        return "Sun 22 Nov 09:00"

    with pytest.raises(EmulatorUsageError):
        await emulator.advance_clock(ClockStep.WEEK)
    emulator.on_advance_clock = advance
    assert await emulator.advance_clock(ClockStep.WEEK) == "Sun 22 Nov 09:00"
    assert moved == [dt.timedelta(days=7)]
