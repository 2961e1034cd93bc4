"""Garbage in, a Telegram-shaped refusal out: the emulator never crashes, whatever a client sends.

Seeded random garbage (no hypothesis): every method, every parameter name it reads, values that are
empty, huge, malformed JSON, wrong types, odd Unicode, sent as form, JSON and query string.
"""

import json
import random
from typing import Any

import httpx

from bot.emulator import Emulator
from bot.emulator.bot_api import METHODS

PARAMETERS = [
    "chat_id", "text", "parse_mode", "entities", "reply_markup", "reply_parameters", "reply_to_message_id",
    "message_id", "message_ids", "callback_query_id", "show_alert", "action", "offset", "limit", "timeout",
    "allowed_updates", "url", "secret_token", "max_connections", "drop_pending_updates", "commands", "scope",
    "language_code", "menu_button", "file_id", "inline_message_id", "protect_content", "disable_notification",
]  # fmt: skip
TELEGRAM_CODES = {400, 401, 403, 404, 409, 429}


def garbage(rng: random.Random, chat_ids: list[int]) -> Any:
    choices: list[Any] = [
        "",
        " ",
        "0",
        "-1",
        "9" * 5000,
        str(rng.choice(chat_ids)),
        "{",
        "[[[",
        '{"inline_keyboard": [[{"text": 1}]]}',
        '{"inline_keyboard": "x"}',
        '{"keyboard": [[{"text": ["x"]}]]}',
        '[{"type": "bold", "offset": "a", "length": null}]',
        '{"message_id": "x"}',
        "<b><i>unclosed",
        "<a href=>x</a>",
        "&#0; &#xD800; &#99999999;",
        "\u0000\u202e\ud7ff\U0001f600",
        "HTML",
        "MarkdownV2",
        "true",
        "null",
        "x" * rng.randint(1, 9000),
        json.dumps({"type": "chat", "chat_id": "?"}),
        json.dumps([{"command": "", "description": ""}]),
        rng.random(),
        rng.randint(-(2**70), 2**70),
        [1, "two", None],
        {"nested": {"deeper": [True]}},
        None,
    ]
    return rng.choice(choices)


def form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


async def test_garbage_parameters_always_get_a_telegram_shaped_answer(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    emulator.enforce_limits = False
    patient = emulator.new_user("Ann")
    await patient.start()
    group = emulator.create_group(title="Staff", member_ids=[patient.id])
    rng = random.Random(20261121)
    methods = [name for name, _ in METHODS.values()]
    for round_number in range(600):
        method = rng.choice(methods)
        params = {
            name: garbage(rng, [patient.chat_id, group.id])
            for name in rng.sample(PARAMETERS, rng.randint(0, 6))
        }
        params.pop("timeout", None)  # a long poll would only make the test slower
        url = f"/bot{emulator.token}/{method}"
        style = round_number % 3
        if style == 0:
            response = await http.post(url, data={k: form_value(v) for k, v in params.items()})
        elif style == 1:
            response = await http.post(url, json=params)
        else:
            response = await http.get(url, params={k: form_value(v) for k, v in params.items()})
        body = response.json()
        assert set(body) in ({"ok", "result"}, {"ok", "error_code", "description"}), (method, params, body)
        if body["ok"] is False:
            assert body["error_code"] == response.status_code in TELEGRAM_CODES, (method, params, body)
            assert body["description"], (method, params)


async def test_unreadable_bodies_are_bad_requests(emulator: Emulator, http: httpx.AsyncClient) -> None:
    url = f"/bot{emulator.token}/sendMessage"
    bodies = [
        ("application/json", b"{not json"),
        ("application/json", b"[1, 2]"),
        ("application/json", b"\xff\xfe"),
        ("multipart/form-data; boundary=zzz", b"--zzz\r\ngarbage"),
        ("application/x-www-form-urlencoded", b"chat_id=%ZZ&text=%"),
    ]
    for content_type, body in bodies:
        response = await http.post(url, content=body, headers={"content-type": content_type})
        assert response.status_code == 400, (content_type, body, response.text)
        assert response.json()["ok"] is False
