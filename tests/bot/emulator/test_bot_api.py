"""The Bot API over raw HTTP: routing, tokens, parameter styles, and sendMessage's refusals word for word."""

from typing import Any

import httpx
import pytest

from bot.emulator import Emulator, EmulatorUser
from tests.bot.emulator.conftest import bot_url, call

# These tests send several messages a second to one chat; the sending limits have their own tests.
pytestmark = pytest.mark.usefixtures("unlimited")


async def test_get_me_is_shaped_like_telegram(emulator: Emulator, http: httpx.AsyncClient) -> None:
    body = (await http.get(bot_url(emulator, "getMe"))).json()
    assert body["ok"] is True
    assert body["result"]["is_bot"] is True
    assert body["result"]["username"] == "AftercareLocalBot"


async def test_wrong_token_unknown_and_unsupported_methods(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    wrong = await http.post("/bot123:wrong/getMe")
    malformed = await http.post("/botnonsense/getMe")
    unknown = await http.post(bot_url(emulator, "sendTelepathy"))
    unsupported = await http.post(bot_url(emulator, "sendPhoto"))
    assert (wrong.status_code, wrong.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (malformed.status_code, unknown.status_code) == (404, 404)
    assert unknown.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert unsupported.status_code == 400
    assert "not supported by the local emulator" in unsupported.json()["description"]


async def test_send_message_accepts_form_json_and_query_string(
    emulator: Emulator, http: httpx.AsyncClient, patient: EmulatorUser
) -> None:
    url = bot_url(emulator, "sendMessage")
    by_form = await http.post(url, data={"chat_id": str(patient.chat_id), "text": "form"})
    by_json = await http.post(url, json={"chat_id": patient.chat_id, "text": "json"})
    by_query = await http.get(url, params={"chat_id": str(patient.chat_id), "text": "query"})
    assert [r.json()["result"]["text"] for r in (by_form, by_json, by_query)] == ["form", "json", "query"]
    message = by_form.json()["result"]
    assert message["chat"] == {
        "id": patient.chat_id,
        "first_name": "Ann",
        "last_name": "Smith",
        "username": "ann_smith",
        "type": "private",
    }
    assert message["from"]["is_bot"] is True
    assert [m["message_id"] for m in (by_form.json()["result"], by_json.json()["result"])] == [2, 3]


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "hi"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "abc", "text": "hi"}, "Bad Request: chat not found"),
        ({"chat_id": "CHAT", "text": ""}, "Bad Request: message text is empty"),
        ({"chat_id": "CHAT", "text": "  \n "}, "Bad Request: message must be non-empty"),
        ({"chat_id": "CHAT", "text": "x" * 4097}, "Bad Request: message is too long"),
        ({"chat_id": "CHAT", "text": "hi", "parse_mode": "BBCode"}, "Bad Request: unsupported parse_mode"),
        (
            {"chat_id": "CHAT", "text": "a<br>b", "parse_mode": "HTML"},
            'Bad Request: can\'t parse entities: Unsupported start tag "br" at byte offset 1',
        ),
        (
            {"chat_id": "CHAT", "text": "<b>bold", "parse_mode": "HTML"},
            "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
        ),
        (
            {"chat_id": "CHAT", "text": "hi", "reply_markup": "{"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": "CHAT", "text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "plain"}]]}},
            "Bad Request: can't parse inline keyboard button: "
            "Text buttons are unallowed in the inline keyboard",
        ),
        (
            {
                "chat_id": "CHAT",
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "x", "url": "http://localhost:8000"}]]},
            },
            "Bad Request: BUTTON_URL_INVALID",
        ),
    ],
)
async def test_send_message_refusals(
    emulator: Emulator,
    http: httpx.AsyncClient,
    patient: EmulatorUser,
    params: dict[str, Any],
    description: str,
) -> None:
    params = {key: str(patient.chat_id) if value == "CHAT" else value for key, value in params.items()}
    response = await call(http, emulator, "sendMessage", **params)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "error_code": 400, "description": description}
