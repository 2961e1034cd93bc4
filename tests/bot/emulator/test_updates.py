"""getUpdates over HTTP: acknowledgement by offset, long polling, one poller at a time, allowed_updates."""

import asyncio
import json

import httpx

from bot.emulator import Emulator, RunningServer
from tests.bot.emulator.conftest import bot_url


async def get_updates(http: httpx.AsyncClient, emulator: Emulator, **params: object) -> httpx.Response:
    data = {key: value if isinstance(value, str) else json.dumps(value) for key, value in params.items()}
    return await http.post(bot_url(emulator, "getUpdates"), data=data)


async def test_offset_acknowledges_earlier_updates(emulator: Emulator, http: httpx.AsyncClient) -> None:
    patient = emulator.new_user("Ann")
    for text in ("one", "two", "three"):
        await patient.send(text)
    first = (await get_updates(http, emulator)).json()["result"]
    again = (await get_updates(http, emulator)).json()["result"]
    assert [u["message"]["text"] for u in first] == ["one", "two", "three"]
    assert again == first, "nothing is acknowledged without an offset"
    after = (await get_updates(http, emulator, offset=first[1]["update_id"] + 1)).json()["result"]
    assert [u["message"]["text"] for u in after] == ["three"]
    assert [u["message"]["text"] for u in (await get_updates(http, emulator)).json()["result"]] == ["three"]


async def test_limit_and_negative_offset(emulator: Emulator, http: httpx.AsyncClient) -> None:
    patient = emulator.new_user("Ann")
    for text in ("one", "two", "three"):
        await patient.send(text)
    assert len((await get_updates(http, emulator, limit=2)).json()["result"]) == 2
    last = (await get_updates(http, emulator, offset=-1)).json()["result"]
    assert [u["message"]["text"] for u in last] == ["three"]


async def test_update_ids_strictly_increase_across_kinds(emulator: Emulator, http: httpx.AsyncClient) -> None:
    patient = emulator.new_user("Ann")
    sent = await patient.send("hello")
    await patient.edit(sent["message_id"], "hello again")
    await patient.block()
    updates = (await get_updates(http, emulator)).json()["result"]
    ids = [u["update_id"] for u in updates]
    assert ids == sorted(set(ids)) and len(ids) == 3
    assert [next(k for k in u if k != "update_id") for u in updates] == [
        "message",
        "edited_message",
        "my_chat_member",
    ]


async def test_long_poll_returns_as_soon_as_an_update_arrives(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    patient = emulator.new_user("Ann")
    poll = asyncio.create_task(get_updates(http, emulator, timeout=30))
    await emulator.wait_until(lambda: emulator.updates.poll_waiting)
    await patient.send("are you there?")
    response = await asyncio.wait_for(poll, 10)
    assert [u["message"]["text"] for u in response.json()["result"]] == ["are you there?"]


async def test_a_second_poller_ends_the_first_with_conflict(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    first = asyncio.create_task(get_updates(http, emulator, timeout=30))
    await emulator.wait_until(lambda: emulator.updates.poll_waiting)
    second = await get_updates(http, emulator, timeout=0)
    refused = await asyncio.wait_for(first, 10)
    assert second.json() == {"ok": True, "result": []}
    assert refused.status_code == 409
    assert refused.json()["description"] == (
        "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
    )


async def test_allowed_updates_filters_what_is_stored(emulator: Emulator, http: httpx.AsyncClient) -> None:
    patient = emulator.new_user("Ann")
    await get_updates(http, emulator, allowed_updates=["callback_query"])
    await patient.send("ignored")
    assert (await get_updates(http, emulator)).json()["result"] == []
    await get_updates(http, emulator, allowed_updates=[])
    await patient.send("seen")
    assert [u["message"]["text"] for u in (await get_updates(http, emulator)).json()["result"]] == ["seen"]


async def test_shutdown_releases_a_waiting_poll(emulator: Emulator, server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        poll = asyncio.create_task(client.post(bot_url(emulator, "getUpdates"), data={"timeout": "50"}))
        await emulator.wait_until(lambda: emulator.updates.poll_waiting)
        await emulator.aclose()
        response = await asyncio.wait_for(poll, 10)
    assert response.json() == {"ok": True, "result": []}
