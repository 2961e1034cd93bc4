"""The real python-telegram-bot Application, polling the emulator over HTTP on 127.0.0.1."""

import html

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import Emulator, FaultKind, RunningServer
from tests.bot.emulator.conftest import ErrorLog, polling_bot


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(
        f"<b>You said:</b> {html.escape(update.message.text)}", parse_mode=ParseMode.HTML
    )


async def test_echo_round_trip(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    async with polling_bot(server, MessageHandler(filters.TEXT, echo)):
        await patient.send("My knee <still> hurts & aches")
        reply = await patient.next_bot_message()
    assert reply.text == "You said: My knee <still> hurts & aches"
    assert reply.html == "<b>You said:</b> My knee &lt;still&gt; hurts &amp; aches"


async def test_start_with_a_deep_link_token_reaches_the_command_handler(
    emulator: Emulator, server: RunningServer
) -> None:
    seen: list[list[str]] = []

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        seen.append(list(context.args or []))
        await update.effective_message.reply_text("Welcome")

    patient = emulator.new_user("Ann")
    async with polling_bot(server, CommandHandler("start", start)):
        await patient.start("invite_Tok-3n")
        await patient.next_bot_message()
    assert seen == [["invite_Tok-3n"]]


async def test_inline_button_press_is_answered_and_the_message_edited(
    emulator: Emulator, server: RunningServer
) -> None:
    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="q1:yes")]])
        await update.effective_message.reply_text("Any numbness?", reply_markup=keyboard)

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.data == "q1:yes"
        await query.answer("Noted")
        await query.edit_message_text("Any numbness? Yes")

    patient = emulator.new_user("Ann")
    async with polling_bot(server, CommandHandler("start", ask), CallbackQueryHandler(answer)):
        await patient.start()
        question = await patient.next_bot_message()
        query_id = await patient.press_button("Yes")
        await emulator.wait_for_answer(query_id)
        await emulator.wait_until(lambda: patient.transcript()[-1].edited)
    shown = patient.transcript()[-1]
    assert shown.message_id == question.message_id
    assert (shown.text, shown.buttons) == ("Any numbness? Yes", ())
    assert [notice.text for notice in emulator.chats[patient.chat_id].notices] == ["Noted"]


async def test_callback_data_of_65_bytes_is_refused(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    async with polling_bot(server) as application:
        fits = InlineKeyboardMarkup([[InlineKeyboardButton("ok", callback_data="é" * 32)]])  # 64 bytes
        await application.bot.send_message(patient.chat_id, "fits", reply_markup=fits)
        too_long = InlineKeyboardMarkup([[InlineKeyboardButton("no", callback_data="é" * 32 + "x")]])
        with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
            await application.bot.send_message(patient.chat_id, "too long", reply_markup=too_long)
    assert [entry.text for entry in patient.transcript() if entry.from_bot] == ["fits"]


async def test_text_over_4096_characters_is_refused(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    async with polling_bot(server) as application:
        await application.bot.send_message(patient.chat_id, "a" * 4096)
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await application.bot.send_message(patient.chat_id, "a" * 4097)


async def test_injected_429_surfaces_as_retry_after(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    async with polling_bot(server) as application:
        emulator.faults.script(FaultKind.RATE_LIMIT, methods={"sendMessage"}, retry_after=7)
        with pytest.raises(RetryAfter) as raised:
            await application.bot.send_message(patient.chat_id, "hello")
        await application.bot.send_message(patient.chat_id, "hello again")
    assert raised.value.retry_after.total_seconds() == 7  # type: ignore[union-attr]
    assert [t.reason for t in emulator.throttles] == ["fault"]
    assert [entry.text for entry in patient.transcript() if entry.from_bot] == ["hello again"]


async def test_injected_500_surfaces_as_network_error(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    async with polling_bot(server) as application:
        emulator.faults.script(FaultKind.SERVER_ERROR, methods={"sendMessage"})
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await application.bot.send_message(patient.chat_id, "hello")


async def test_blocked_user_gives_forbidden_and_my_chat_member_kicked(
    emulator: Emulator, server: RunningServer
) -> None:
    statuses: list[str] = []

    async def membership(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.my_chat_member is not None
        statuses.append(update.my_chat_member.new_chat_member.status)

    patient = emulator.new_user("Ann")
    await patient.start()
    async with polling_bot(server, ChatMemberHandler(membership)) as application:
        await patient.block()
        await emulator.wait_until(lambda: statuses == ["kicked"])
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await application.bot.send_message(patient.chat_id, "Time for your check-in")
        await patient.unblock()
        await emulator.wait_until(lambda: statuses == ["kicked", "member"])
        await application.bot.send_message(patient.chat_id, "Welcome back")


async def test_bot_cannot_write_first_to_someone_who_never_pressed_start(
    emulator: Emulator, server: RunningServer
) -> None:
    patient = emulator.new_user("Ann")
    async with polling_bot(server) as application:
        with pytest.raises(Forbidden, match="can't initiate conversation"):
            await application.bot.send_message(patient.chat_id, "Hello")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await application.bot.send_message(123, "Hello")


async def test_polling_acknowledges_what_it_fetched(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    errors = ErrorLog()
    async with polling_bot(server, MessageHandler(filters.TEXT, echo), errors=errors):
        await patient.send("one")
        await patient.next_bot_message()
    assert emulator.updates.pending() == []
    assert errors.errors == []


async def test_forty_rapid_sends_to_one_chat_meet_the_limit(
    emulator: Emulator, server: RunningServer
) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    refused = 0
    async with polling_bot(server) as application:
        for number in range(40):
            try:
                await application.bot.send_message(patient.chat_id, f"message {number}")
            except RetryAfter:
                refused += 1
    assert refused > 0
    assert len(emulator.limit_throttles) == refused
    assert all(throttle.chat_id == patient.chat_id for throttle in emulator.limit_throttles)


async def test_limits_can_be_switched_off(emulator: Emulator, server: RunningServer) -> None:
    emulator.enforce_limits = False
    patient = emulator.new_user("Ann")
    await patient.start()
    async with polling_bot(server) as application:
        for number in range(40):
            await application.bot.send_message(patient.chat_id, f"message {number}")
    assert emulator.throttles == []
