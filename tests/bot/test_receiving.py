"""Never stop listening (bot/receiving.py, bot/polling.py, bot/inbound.py), end to end by long polling, on
SQLite and PostgreSQL: an update the Telegram library cannot parse is quarantined and the red flag behind it
is still answered and escalated; a restart after it does not fail; a NUL in a message is stored and processed
and the kept JSON still holds it; a reused update_id with new content is processed, a repeat is not; a
processing task that dies is restarted and health shows it; stopping drains what is under way and ends
cleanly. The webhook side of the same path is in test_webhook.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select

import bot.inbound
import bot.polling
from bot.emulator import EmulatorUser, FaultKind
from bot.inbound import NOT_PROCESSED, UNREADABLE
from flows.levels import Level
from storage.db import session_scope
from storage.inbound import inbound_health
from storage.migrate import upgrade
from storage.models import Answer, InboundStatus, InboundUpdate, OutboundMessage, OutboundStatus
from tests.bot.world import World
from tests.conftest import PostgresServer

RED_TEXT = "I've wet myself twice today and couldn't feel it"
A_AND_E = "Go to A&E now."


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_file(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The world's database: a SQLite file, then a new, migrated PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
        upgrade(url)
        yield url
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        upgrade(url)
        yield url
    finally:
        server.drop_database(url)


def unreadable_poll(phone: EmulatorUser) -> dict[str, Any]:
    """A message carrying a poll without the fields python-telegram-bot 22.8 requires (total_voter_count,
    is_closed, ...): PTB's Update.de_json raises on it."""
    chat = {"id": phone.chat_id, "type": "private", "first_name": "Sam"}
    sender = {"id": phone.chat_id, "is_bot": False, "first_name": "Sam"}
    poll = {"id": "5012", "question": "Which day?", "options": []}
    return {"message": {"message_id": 90, "date": 1764000000, "chat": chat, "from": sender, "poll": poll}}


async def send_through_control_api(world: World, update: dict[str, Any], **extra: object) -> int:
    """Queue an update at the emulator as Telegram would send it (its control API, as a script would)."""
    async with httpx.AsyncClient(base_url=world.live.servers[0].base_url) as client:
        answer = await client.post("/_emulator/updates", json={"update": update, **extra})
    assert answer.status_code == 200, answer.text
    update_id: int = answer.json()["result"]["update_id"]
    return update_id


def inbound_rows(world: World) -> list[InboundUpdate]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(InboundUpdate).order_by(col(InboundUpdate.id))).all())


def answers(world: World) -> list[Answer]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Answer).order_by(col(Answer.id))).all())


async def test_an_unreadable_update_is_quarantined_and_the_red_flag_behind_it_is_still_answered(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await send_through_control_api(world, unreadable_poll(phone))
    await world.reply(phone, RED_TEXT, A_AND_E)  # polling went on past the bad update
    await world.until(lambda: len(world.escalations()) == 2, "the red flag and the system escalation")

    quarantined = next(row for row in inbound_rows(world) if "poll" in row.payload_json)
    assert quarantined.status is InboundStatus.FAILED
    assert (quarantined.error or "").startswith("unreadable: TypeError: Poll.__init__() missing")
    assert json.loads(quarantined.payload_json)["message"]["poll"]["question"] == "Which day?"  # kept
    system, red = world.escalations()
    assert (system.rule, system.level, system.patient_id) == (
        UNREADABLE,
        Level.AMBER,
        world.patient(phone).id,
    )
    assert system.inbound_message_id == quarantined.id
    assert red.level is Level.RED and RED_TEXT in red.trigger_text
    await world.bot_says(phone, "Sorry, something went wrong on our side")  # the patient is told to call
    with session_scope(world.engine) as session:
        assert inbound_health(session=session).quarantined == 1


async def test_an_unreadable_update_from_a_chat_we_do_not_know_is_raised_without_a_patient(
    world: World,
) -> None:
    stranger = world.emulator.new_user("Alex")
    await send_through_control_api(world, unreadable_poll(stranger))
    await world.until(lambda: len(world.escalations()) == 1, "the system escalation")
    [system] = world.escalations()
    assert (system.rule, system.patient_id) == (UNREADABLE, None)
    assert world.bot_messages(stranger) == []  # nobody to apologise to


async def test_a_restart_after_an_unreadable_update_does_not_fail_and_it_is_not_quarantined_twice(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await world.stop()
    await send_through_control_api(world, unreadable_poll(phone))
    await world.restart()
    await world.reply(phone, RED_TEXT, A_AND_E)
    await world.restart()
    await world.reply(phone, "thanks", "Thank you for your message")
    assert [row.status for row in inbound_rows(world)].count(InboundStatus.FAILED) == 1
    assert [e.rule for e in world.escalations()].count(UNREADABLE) == 1


async def test_a_nul_in_a_message_is_stored_and_processed_and_the_kept_json_still_holds_it(
    world: World,
) -> None:
    phone = await world.join("Sam")
    text = "I\x00've wet myself twice today and couldn't feel it\r\nhelp"
    await world.reply(phone, text, A_AND_E)
    [red] = [e for e in world.escalations() if e.level is Level.RED]
    assert red.trigger_text == "I've wet myself twice today and couldn't feel it\nhelp"  # safe, all there
    row = inbound_rows(world)[-1]
    assert row.status is InboundStatus.PROCESSED
    assert json.loads(row.payload_json)["message"]["text"] == text  # exactly what the patient sent
    assert "\\u0000" in row.payload_json


async def test_a_nul_in_a_message_recorded_before_a_crash_does_not_stop_the_next_start(world: World) -> None:
    phone = await world.join("Sam")
    await world.stop()
    await phone.send("my legs are both numb\x00 and weak")
    pending = world.emulator.updates.pending()

    def crash_after_recording() -> None:
        assert len(world.service.inbound.record(pending)) == 1
        world.emulator.updates.acknowledge(int(pending[-1]["update_id"]) + 1)

    await world.restart(before_start=crash_after_recording)
    await world.until(lambda: inbound_rows(world)[-1].status is InboundStatus.PROCESSED, "the backlog")
    await world.reply(phone, "thanks", "Thank you for your message")  # and the service runs on
    assert [e.rule for e in world.escalations() if e.rule == NOT_PROCESSED] == []


async def test_a_reused_update_id_with_new_content_is_processed_and_a_repeat_is_not(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "all fine today", "Thank you for your message")
    first = inbound_rows(world)[-1]
    earlier = json.loads(first.payload_json)
    await world.stop()  # a week without updates: Telegram picks the next id anew, here one it used before
    message = {**earlier["message"], "message_id": earlier["message"]["message_id"] + 5, "text": RED_TEXT}
    await send_through_control_api(world, {"message": message}, update_id=first.update_id)
    await send_through_control_api(world, {"message": message}, update_id=first.update_id)  # and again
    await world.restart()
    await world.bot_says(phone, A_AND_E)
    await world.delivered(phone)
    assert sum(A_AND_E in m.text for m in world.bot_messages(phone)) == 1
    assert [e.level for e in world.escalations()] == [Level.RED]
    assert [row.update_id for row in inbound_rows(world)].count(first.update_id) == 2


async def test_getupdates_refused_or_cut_off_never_stops_polling(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = await world.join("Sam")
    monkeypatch.setattr(bot.polling, "FIRST_PAUSE", 0.05)  # the back-off, without a test's worth of waiting
    # A 429 is RetryAfter (no NetworkError: it used to end polling for good); then a 500, a cut connection.
    for kind in (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.DROP):
        world.emulator.faults.script(kind, methods={"getUpdates"}, retry_after=1)
    await world.reply(phone, "thanks", "Thank you for your message")  # the poll under way ends; the next fail
    faults = world.emulator.faults.injected
    await world.until(lambda: len(faults) == 3, "three getUpdates calls to fail")
    await world.reply(phone, RED_TEXT, A_AND_E)
    assert [fault.kind for fault in faults] == [FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.DROP]


async def test_a_processing_task_that_dies_is_restarted_and_health_shows_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    await world.reply(phone, RED_TEXT, A_AND_E)  # processed once processing is running again
    assert failures == [1] and world.service.receiver.restarts == 1
    with session_scope(world.engine) as session:
        health = inbound_health(session=session)
    assert (health.processing_restarts, health.last_processing_restart_error) == (1, "OperationalError")
    assert health.mode == "polling" and health.last_delivery_at is not None
    assert (health.waiting, health.quarantined) == (0, 0)  # nothing lost, nothing quarantined


async def test_stopping_drains_what_is_under_way_and_ends_cleanly_even_if_a_part_had_died(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    phone = await world.join("Sam")
    await world.stop()
    await phone.send(RED_TEXT)  # waits at Telegram; processed and answered as the service starts
    outbox_run = type(world.service.outbox).run

    async def sender_that_dies_at_the_end(outbox: Any, stop: Any) -> None:
        await outbox_run(outbox, stop)
        raise RuntimeError("the sender failed as it stopped")

    monkeypatch.setattr(type(world.service.outbox), "run", sender_that_dies_at_the_end)
    await world.restart()
    await world.bot_says(phone, A_AND_E)
    await world.stop()  # no "This Application is still running!", nothing raised
    assert not world.service.application.running
    with session_scope(world.engine) as session:
        unsent = session.exec(
            select(OutboundMessage).where(col(OutboundMessage.status) != OutboundStatus.SENT)
        ).all()
    assert unsent == []  # the urgent advice and the staff alert both went before it ended


@pytest.mark.parametrize("polling", [False])  # no poller of the world's own noting deliveries meanwhile
async def test_telegram_answering_is_noted_for_health_at_most_every_5_seconds(world: World) -> None:
    """Each empty long poll answers within 20 s, and health only needs minutes: not a write for each."""
    receiver = world.service.receiver

    def last_delivery() -> datetime | None:
        with session_scope(world.engine) as session:
            return inbound_health(session=session).last_delivery_at

    assert last_delivery() is None
    await receiver.accept([])
    first = last_delivery()
    assert first is not None
    world.clock.advance(timedelta(seconds=4))
    await receiver.accept([])  # a busy poller: nothing written
    assert last_delivery() == first
    world.clock.advance(timedelta(seconds=1))
    await receiver.accept([])
    later = last_delivery()
    assert later is not None and later - first >= timedelta(seconds=5)
