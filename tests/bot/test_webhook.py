"""Webhook mode (bot/webhook.py), end to end: a request without the right secret gets 403 and nothing is
recorded; with it, the update is recorded before the 200 and then processed. Telegram's side is the
emulator's setWebhook delivery (retries included)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import datetime

import httpx
import pytest
from sqlmodel import select

from bot.emulator.server import start_server
from bot.heartbeat import HeartbeatWriter
from bot.webhook import SECRET_HEADER, create_webhook_app, process_forever
from storage.db import session_scope
from storage.heartbeats import Heartbeat, last_heartbeats
from storage.models import InboundStatus, InboundUpdate
from tests.bot.world import World

SECRET = "s3cret-for-tests-0123456789abcdef"
PATH = "/telegram/webhook"


@pytest.fixture
def polling() -> bool:
    return False  # this module's world takes updates by webhook only


@pytest.fixture
async def webhook(world: World) -> AsyncIterator[str]:
    """Our webhook endpoint on loopback, processing in the background as `aftercare run` does."""
    app, queue = create_webhook_app(world.service.inbound, secret=SECRET, path=PATH)
    server = await start_server(app)
    processing = asyncio.create_task(process_forever(world.service.inbound, queue))
    yield f"{server.base_url}{PATH}"
    processing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await processing
    await server.aclose()


def _recorded(world: World) -> list[InboundUpdate]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(InboundUpdate)).all())


def _update(update_id: int, chat_id: int, text: str) -> dict[str, object]:
    chat = {"id": chat_id, "type": "private", "first_name": "Sam"}
    message = {
        "message_id": 1,
        "date": 1,
        "chat": chat,
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam"},
        "text": text,
    }
    return {"update_id": update_id, "message": message}


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}],
    ids=["missing", "wrong", "almost"],
)
async def test_a_request_without_the_right_secret_gets_403_and_nothing_is_recorded(
    world: World, webhook: str, headers: dict[str, str]
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(webhook, json=_update(500, 700_000_999, "hello"), headers=headers)
    assert response.status_code == 403
    assert _recorded(world) == []


async def test_a_right_secret_records_the_update_before_the_200_then_processes_it(
    world: World, webhook: str
) -> None:
    phone = world.emulator.new_user("Sam")
    await phone.send("hello")  # no webhook set at Telegram yet: we deliver the update ourselves
    [update] = world.emulator.updates.pending()
    async with httpx.AsyncClient() as client:
        response = await client.post(webhook, json=update, headers={SECRET_HEADER: SECRET})
        assert response.status_code == 200
        assert [row.update_id for row in _recorded(world)] == [
            update["update_id"]
        ]  # committed before the 200
        malformed = await client.post(webhook, content=b"{not json", headers={SECRET_HEADER: SECRET})
        assert malformed.status_code == 400
    await world.emulator.wait_until(
        lambda: _recorded(world)[0].status is InboundStatus.PROCESSED, what="the update to be processed"
    )
    assert len(_recorded(world)) == 1
    # An unknown chat learns nothing, but does get an answer.
    await world.bot_says(phone, "only works with the personal link")


async def test_telegrams_webhook_delivery_reaches_the_bot_only_with_the_secret(
    world: World, webhook: str
) -> None:
    bot = world.service.application.bot
    await bot.set_webhook(url=webhook, secret_token="not-the-secret-we-expect-0000")
    phone = world.emulator.new_user("Sam")
    await phone.start(world.enrol(name="Sam"))
    await world.emulator.wait_until(
        lambda: "403" in (world.emulator.webhook.last_error_message if world.emulator.webhook else ""),
        what="a refused delivery",
    )
    assert _recorded(world) == []
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1 and "403" in (info.last_error_message or "")
    await bot.set_webhook(url=webhook, secret_token=SECRET)  # the pending update is delivered now
    welcome = await world.bot_says(phone, "Is it OK for us to message you")
    await world.press(phone, "Yes, that's OK", "Your first check-in will come")
    assert welcome.text.startswith("A message from the Pain Clinic")
    assert [json.loads(row.payload_json)["update_id"] for row in _recorded(world)] == [1, 2]
    assert {row.status for row in _recorded(world)} == {InboundStatus.PROCESSED}


async def test_an_accepted_post_is_the_webhooks_heartbeat_and_a_refused_one_is_not(world: World) -> None:
    writer = HeartbeatWriter(engine=world.engine, name=Heartbeat.WEBHOOK, now=world.clock.now)
    app, _ = create_webhook_app(world.service.inbound, secret=SECRET, path=PATH, on_accepted=writer.beat)
    server = await start_server(app)
    url = f"{server.base_url}{PATH}"

    def beats() -> dict[str, datetime]:
        with session_scope(world.engine) as session:
            return last_heartbeats(session=session)

    try:
        async with httpx.AsyncClient() as client:
            refused = await client.post(
                url, json=_update(600, 700_000_998, "hi"), headers={SECRET_HEADER: "no"}
            )
            assert refused.status_code == 403
            await writer.settle()
            assert Heartbeat.WEBHOOK not in beats()
            before = world.clock.now()
            accepted = await client.post(
                url, json=_update(601, 700_000_998, "hi"), headers={SECRET_HEADER: SECRET}
            )
            assert accepted.status_code == 200
        await writer.settle()
        assert before <= beats()[Heartbeat.WEBHOOK] <= world.clock.now()
    finally:
        await server.aclose()
