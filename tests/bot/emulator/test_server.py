"""Serving: a free port on 127.0.0.1, Telegram's 404 for stray Bot API paths, a clean stop."""

import httpx
import pytest

from bot.emulator import Emulator, RunningServer, serve


async def test_port_zero_picks_a_free_port_and_urls_point_at_it(
    emulator: Emulator, server: RunningServer
) -> None:
    assert server.port > 0
    assert server.bot_api_url == f"http://127.0.0.1:{server.port}/bot"
    assert server.file_url == f"http://127.0.0.1:{server.port}/file/bot"
    async with httpx.AsyncClient() as client:
        me = await client.get(f"{server.bot_api_url}{emulator.token}/getMe")
        stray = await client.post(f"{server.base_url}/bot{emulator.token}/")
        page = await client.get(f"{server.base_url}/")
    assert me.json()["result"]["id"] == emulator.bot_id
    assert stray.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert page.status_code == 200


async def test_two_emulators_run_side_by_side_and_stop_cleanly() -> None:
    first, second = Emulator(), Emulator(token="42:OtherBotToken")
    one, two = await serve(first), await serve(second)
    assert one.port != two.port
    await one.aclose()
    async with httpx.AsyncClient() as client:
        assert (await client.get(f"{two.bot_api_url}42:OtherBotToken/getMe")).json()["result"]["id"] == 42
        await two.aclose()
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{one.base_url}/")


def test_a_malformed_token_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="token"):
        Emulator(token="not a token")
