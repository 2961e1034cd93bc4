"""Bot methods over HTTP: chat actions, commands, menu button, getChat, the staff group and getFile."""

import httpx
import pytest

from bot.emulator import Emulator, EmulatorUser
from tests.bot.emulator.conftest import call

# These tests send several messages a second to one chat; the sending limits have their own tests.
pytestmark = pytest.mark.usefixtures("unlimited")


async def test_chat_action_commands_menu_and_get_chat(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    assert (await call(http, emulator, "sendChatAction", chat_id=patient.chat_id, action="typing")).json()[
        "result"
    ]
    bad_action = await call(http, emulator, "sendChatAction", chat_id=patient.chat_id, action="dancing")
    assert bad_action.json()["description"] == "Bad Request: wrong parameter action in request"
    commands = [{"command": "start", "description": "Begin"}, {"command": "help", "description": "Get help"}]
    assert (await call(http, emulator, "setMyCommands", commands=commands)).json()["result"] is True
    assert (await call(http, emulator, "getMyCommands")).json()["result"] == commands
    bad = await call(
        http, emulator, "setMyCommands", commands=[{"command": "Bad-Command", "description": "x"}]
    )
    assert bad.json()["description"] == "Bad Request: BOT_COMMAND_INVALID"
    await call(http, emulator, "deleteMyCommands")
    assert (await call(http, emulator, "getMyCommands")).json()["result"] == []
    menu = await call(http, emulator, "setChatMenuButton", menu_button={"type": "commands"})
    assert menu.json()["result"] is True
    chat = (await call(http, emulator, "getChat", chat_id=patient.chat_id)).json()["result"]
    assert (chat["type"], chat["first_name"]) == ("private", "Ann")


async def test_group_chat_the_bot_can_post_to(emulator: Emulator, http: httpx.AsyncClient) -> None:
    nurse = emulator.new_user("Nia")
    staff = emulator.create_group(title="Clinic staff", member_ids=[nurse.id])
    alert = {"inline_keyboard": [[{"text": "I'll call", "callback_data": "ack:1"}]]}
    sent = (
        await call(http, emulator, "sendMessage", chat_id=staff.id, text="Red flag", reply_markup=alert)
    ).json()
    assert sent["result"]["chat"] == {"id": staff.id, "title": "Clinic staff", "type": "group"}
    await emulator.press(nurse.id, sent["result"]["message_id"], "ack:1", chat_id=staff.id)
    await emulator.user_sends(nurse.id, "chatting among staff", chat_id=staff.id)
    await emulator.user_sends(nurse.id, "/help", chat_id=staff.id)
    updates = (await call(http, emulator, "getUpdates")).json()["result"]
    assert updates[0]["callback_query"]["message"]["chat"]["id"] == staff.id
    assert [u["message"]["text"] for u in updates[1:]] == ["/help"], "privacy mode: bots see commands only"


async def test_user_media_can_be_fetched_with_get_file(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    photo = await patient.send_photo("my wound")
    file_id = photo["photo"][-1]["file_id"]
    file = (await call(http, emulator, "getFile", file_id=file_id)).json()["result"]
    download = await http.get(f"/file/bot{emulator.token}/{file['file_path']}")
    assert download.status_code == 200 and len(download.content) == file["file_size"]
    assert (await call(http, emulator, "getFile", file_id="nope")).json()[
        "description"
    ] == "Bad Request: invalid file_id"
