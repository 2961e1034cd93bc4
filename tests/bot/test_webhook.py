"""Webhook mode (bot/webhook.py), end to end: a request without the right secret gets 403 and nothing is
recorded; with it, the update is recorded before the 200 and then processed. The same receiving path as
polling (test_receiving.py): an unreadable update is answered 200 and quarantined, never holding up the
ones behind it; a reused update_id with new content is processed; a processing task that dies is restarted.
Telegram's side is the emulator's setWebhook delivery (retries included)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

import bot.inbound
from bot.emulator.server import start_server
from bot.inbound import UNREADABLE
from bot.webhook import SECRET_HEADER, create_webhook_app
from storage.db import session_scope
from storage.inbound import inbound_health
from storage.models import InboundStatus, InboundUpdate
from tests.bot.test_receiving import A_AND_E, RED_TEXT, send_through_control_api, unreadable_poll
from tests.bot.world import World

SECRET = "s3cret-for-tests-0123456789abcdef"
PATH = "/telegram/webhook"


@pytest.fixture
def polling() -> bool:
    return False  # this module's world takes updates by webhook only


@pytest.fixture
async def webhook(world: World) -> AsyncIterator[str]:
    """Our webhook endpoint on loopback; the running service processes what it receives, as `aftercare run`
    does in webhook mode."""
    server = await start_server(create_webhook_app(world.service.receiver, secret=SECRET, path=PATH))
    yield f"{server.base_url}{PATH}"
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


async def test_an_unreadable_update_is_answered_200_and_quarantined_and_the_red_flag_behind_it_is_answered(
    world: World, webhook: str
) -> None:
    await world.service.application.bot.set_webhook(url=webhook, secret_token=SECRET)
    phone = await world.join("Sam")
    await send_through_control_api(world, unreadable_poll(phone))
    await world.reply(phone, RED_TEXT, A_AND_E)
    await world.until(lambda: len(world.escalations()) == 2, "the system escalation and the red flag")
    assert world.escalations()[0].rule == UNREADABLE
    statuses = [row.status for row in _recorded(world)]
    assert statuses.count(InboundStatus.FAILED) == 1 and statuses.count(InboundStatus.RECEIVED) == 0
    info = await world.service.application.bot.get_webhook_info()
    assert info.pending_update_count == 0 and not info.last_error_message  # Telegram was never refused


async def test_a_reused_update_id_with_new_content_is_processed_by_webhook_too(
    world: World, webhook: str
) -> None:
    await world.service.application.bot.set_webhook(url=webhook, secret_token=SECRET)
    phone = await world.join("Sam")
    await world.reply(phone, "all fine today", "Thank you for your message")
    first = sorted(_recorded(world), key=lambda row: row.id or 0)[-1]
    message = json.loads(first.payload_json)["message"]
    reused = {"message": {**message, "message_id": message["message_id"] + 5, "text": RED_TEXT}}
    await send_through_control_api(world, reused, update_id=first.update_id)
    await world.bot_says(phone, A_AND_E)
    await send_through_control_api(world, reused, update_id=first.update_id)  # delivered again: a repeat
    await world.until(lambda: world.emulator.updates.pending() == [], "the repeat to be delivered")
    await world.delivered(phone)
    assert sum(A_AND_E in m.text for m in world.bot_messages(phone)) == 1


async def test_a_processing_task_that_dies_is_restarted_and_later_updates_are_processed(
    world: World, webhook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.service.application.bot.set_webhook(url=webhook, secret_token=SECRET)
    phone = await world.join("Sam")
    world.service.receiver._restart_delay = 0.05  # not a second's wait in a test
    take = bot.inbound.take_inbound_updates
    failures: list[int] = []

    def database_gone_once(**kwargs: Any) -> Any:
        if not failures:
            failures.append(1)
            raise OperationalError("UPDATE inbound_update ...", {}, Exception("server closed the connection"))
        return take(**kwargs)

    monkeypatch.setattr(bot.inbound, "take_inbound_updates", database_gone_once)
    await world.reply(phone, "all fine today", "Thank you for your message")
    await world.reply(phone, RED_TEXT, A_AND_E)
    assert failures == [1] and world.service.receiver.restarts == 1
    with session_scope(world.engine) as session:
        health = inbound_health(session=session)
    assert (health.mode, health.processing_restarts, health.waiting) == ("webhook", 1, 0)


async def test_an_accepted_post_is_noted_as_a_delivery_for_health_and_a_refused_one_is_not(
    world: World, webhook: str
) -> None:
    def health() -> Any:
        with session_scope(world.engine) as session:
            return inbound_health(session=session)

    async with httpx.AsyncClient() as client:
        refused = await client.post(
            webhook, json=_update(600, 700_000_998, "hi"), headers={SECRET_HEADER: "no"}
        )
        assert refused.status_code == 403
        assert health().last_delivery_at is None
        before = world.clock.now()
        accepted = await client.post(
            webhook, json=_update(601, 700_000_998, "hi"), headers={SECRET_HEADER: SECRET}
        )
        assert accepted.status_code == 200
    noted = health()
    assert noted.mode == "webhook"
    assert noted.last_delivery_at is not None and before <= noted.last_delivery_at <= world.clock.now()
