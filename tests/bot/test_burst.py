"""A burst of messages from one patient, and updates that arrive out of order: each is processed once, in the
order it was recorded, and each gets its reply; a red flag in the middle of a burst is still caught."""

from __future__ import annotations

from sqlmodel import col, select

from flows.levels import Level
from storage.db import session_scope
from storage.models import Answer, InboundStatus, InboundUpdate
from tests.bot.world import World

CHATTER = [
    "morning",
    "slept ok",
    "bit sore",
    "had porridge",
    "the cat is fine",
    "going to the shops",
    "back now",
    "watched the news",
    "cup of tea",
    "bit stiff",
    "sat in the garden",
    "phoned my sister",
    "had a nap",
    "feeling ok",
    "oh and I can't feel my bottom when I wipe, started an hour ago",
    "dinner soon",
    "tv later",
    "early night",
    "thanks",
    "bye",
]


def _free_text(world: World) -> list[Answer]:
    with session_scope(world.engine) as session:
        query = select(Answer).where(Answer.question_id == "free_text").order_by(col(Answer.id))
        return list(session.exec(query).all())


async def test_a_burst_of_twenty_messages_is_processed_once_each_in_order_and_the_red_flag_is_caught(
    world: World,
) -> None:
    phone = await world.join("Sam")
    before = len(world.bot_messages(phone))
    for text in CHATTER:
        await phone.send(text)  # as fast as a thumb can go: no waiting for replies
    await world.until(lambda: len(_free_text(world)) == len(CHATTER), "every message handled")
    await world.delivered(phone)
    assert [a.text for a in _free_text(world)] == CHATTER  # once each, in the order sent
    replies = world.bot_messages(phone)[before:]
    assert len(replies) == len(CHATTER)  # a reply to every message
    assert sum("Go to A&E now." in r.text for r in replies) == 1
    [red] = [e for e in world.escalations() if e.level is Level.RED]
    assert "can't feel my bottom" in red.trigger_text


async def test_updates_recorded_out_of_order_are_each_processed_once(world: World) -> None:
    phone = await world.join("Sam")
    await world.stop()  # nobody polling: the messages wait at Telegram
    await phone.send("all fine today")
    await phone.send("my legs have both gone numb and weak")
    first, second = world.emulator.updates.pending()

    def webhook_retries_out_of_order() -> None:
        inbound = world.service.inbound
        assert len(inbound.record([second])) == 1  # the later one arrives first...
        assert len(inbound.record([first])) == 1  # ...then the earlier one
        assert inbound.record([second, first]) == []  # and a retry of both changes nothing
        world.emulator.updates.acknowledge(int(second["update_id"]) + 1)

    await world.restart(before_start=webhook_retries_out_of_order)
    await world.until(lambda: len(_free_text(world)) == 2, "both messages handled")
    await world.delivered(phone)
    with session_scope(world.engine) as session:
        statuses = [u.status for u in session.exec(select(InboundUpdate)).all()]
    assert statuses.count(InboundStatus.PROCESSED) == len(statuses)
    assert sorted(a.text for a in _free_text(world)) == [
        "all fine today",
        "my legs have both gone numb and weak",
    ]
    assert [e.level for e in world.escalations() if e.level is Level.RED] == [Level.RED]
