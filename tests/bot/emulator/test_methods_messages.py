"""Message methods over HTTP: formatting, keyboards, flags, edits, deletion and callback answers."""

import httpx
import pytest

from bot.emulator import Emulator, EmulatorUser, create_app
from tests.bot.emulator.conftest import call

# These tests send several messages a second to one chat; the sending limits have their own tests.
pytestmark = pytest.mark.usefixtures("unlimited")


async def test_html_becomes_text_with_entities_in_utf16_units(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    text = "🦵 <b>Knee</b> &amp; <a href='https://www.nhs.uk/'>NHS</a>"
    message = (
        await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text=text, parse_mode="HTML")
    ).json()
    assert message["result"]["text"] == "🦵 Knee & NHS"
    assert message["result"]["entities"] == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 10, "length": 3, "type": "text_link", "url": "https://www.nhs.uk/"},
    ]


async def test_inline_keyboard_is_echoed_and_reply_keyboards_tracked(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    inline = {
        "inline_keyboard": [
            [{"text": "Yes", "callback_data": "y"}, {"text": "Leaflet", "url": "https://nhs.uk"}]
        ]
    }
    sent = (
        await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="Q", reply_markup=inline)
    ).json()
    assert sent["result"]["reply_markup"] == inline
    keyboard = {
        "keyboard": [["0", "1"], [{"text": "Share phone", "request_contact": True}]],
        "one_time_keyboard": True,
    }
    await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="Score?", reply_markup=keyboard)
    chat = emulator.chats[patient.chat_id]
    assert chat.reply_keyboard is not None and chat.reply_keyboard.keyboard[0] == [
        {"text": "0"},
        {"text": "1"},
    ]
    await patient.send("1")
    assert chat.reply_keyboard is None, "a one-time keyboard hides after use"
    await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="again", reply_markup=keyboard)
    await call(
        http,
        emulator,
        "sendMessage",
        chat_id=patient.chat_id,
        text="done",
        reply_markup={"remove_keyboard": True},
    )
    assert chat.reply_keyboard is None


async def test_protect_content_and_silent_flags(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    sent = await call(
        http,
        emulator,
        "sendMessage",
        chat_id=patient.chat_id,
        text="private",
        protect_content=True,
        disable_notification=True,
    )
    assert sent.json()["result"]["has_protected_content"] is True
    shown = patient.transcript()[-1]
    assert (shown.protect_content, shown.silent) == (True, True)


async def test_edits_apply_and_identical_edits_are_refused(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    sent = (
        await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="Q", reply_markup=keyboard)
    ).json()
    message_id = sent["result"]["message_id"]
    same = await call(
        http,
        emulator,
        "editMessageText",
        chat_id=patient.chat_id,
        message_id=message_id,
        text="Q",
        reply_markup=keyboard,
    )
    assert same.json()["description"].startswith("Bad Request: message is not modified")
    edited = await call(
        http, emulator, "editMessageText", chat_id=patient.chat_id, message_id=message_id, text="Q (answered)"
    )
    assert "reply_markup" not in edited.json()["result"], (
        "editing text without reply_markup drops the buttons"
    )
    assert edited.json()["result"]["edit_date"] > 0
    assert patient.transcript()[-1].text == "Q (answered)"
    missing = await call(http, emulator, "editMessageText", chat_id=patient.chat_id, message_id=999, text="x")
    assert missing.json()["description"] == "Bad Request: message to edit not found"
    theirs = await call(http, emulator, "editMessageText", chat_id=patient.chat_id, message_id=1, text="x")
    assert theirs.json()["description"] == "Bad Request: message can't be edited"


async def test_edit_reply_markup_and_delete(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    sent = (
        await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="Q", reply_markup=keyboard)
    ).json()
    message_id = sent["result"]["message_id"]
    cleared = await call(
        http, emulator, "editMessageReplyMarkup", chat_id=patient.chat_id, message_id=message_id
    )
    assert "reply_markup" not in cleared.json()["result"]
    again = await call(
        http, emulator, "editMessageReplyMarkup", chat_id=patient.chat_id, message_id=message_id
    )
    assert again.json()["description"].startswith("Bad Request: message is not modified")
    deleted = await call(http, emulator, "deleteMessage", chat_id=patient.chat_id, message_id=message_id)
    assert deleted.json() == {"ok": True, "result": True}
    assert [entry.message_id for entry in patient.transcript()] == [1]
    twice = await call(http, emulator, "deleteMessage", chat_id=patient.chat_id, message_id=message_id)
    assert twice.json()["description"] == "Bad Request: message to delete not found"


async def test_answer_callback_query_rules(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
    await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="Q", reply_markup=keyboard)
    query_id = await patient.press_button("Yes")
    too_long = await call(http, emulator, "answerCallbackQuery", callback_query_id=query_id, text="x" * 201)
    assert too_long.json()["description"] == "Bad Request: MESSAGE_TOO_LONG"
    ok = await call(
        http, emulator, "answerCallbackQuery", callback_query_id=query_id, text="Thanks", show_alert=True
    )
    assert ok.json() == {"ok": True, "result": True}
    twice = await call(http, emulator, "answerCallbackQuery", callback_query_id=query_id)
    assert twice.json()["description"] == (
        "Bad Request: query is too old and response timeout expired or query ID is invalid"
    )
    assert [(n.text, n.show_alert) for n in emulator.chats[patient.chat_id].notices] == [("Thanks", True)]


async def test_a_button_press_answered_too_late_is_refused() -> None:
    now = [100.0]
    emulator = Emulator(monotonic=lambda: now[0])
    patient = emulator.new_user("Ann")
    await patient.start()
    transport = httpx.ASGITransport(app=create_app(emulator))
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator.test") as http:
        keyboard = {"inline_keyboard": [[{"text": "Yes", "callback_data": "y"}]]}
        await call(http, emulator, "sendMessage", chat_id=patient.chat_id, text="Q", reply_markup=keyboard)
        query_id = await patient.press_button("Yes")
        now[0] += 16
        late = await call(http, emulator, "answerCallbackQuery", callback_query_id=query_id)
    assert late.status_code == 400
    assert "query is too old" in late.json()["description"]
