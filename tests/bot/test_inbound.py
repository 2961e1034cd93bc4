"""Updates arrive once, in order, and survive a restart, end to end: a repeated update is processed once;
after a restart the patient's answer carries the check-in on; an update recorded but not processed before a
crash is processed at the next start; a button pressed twice, or from an old check-in, never re-applies."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.desk import Desk
from bot.emulator import EmulatorUser
from bot.inbound import Inbound
from flows.levels import Level
from flows.messages import say
from storage.db import session_scope
from storage.models import Answer, CheckInStatus, InboundStatus, InboundUpdate
from tests.bot.world import World

RED_TEXT = "I've wet myself twice today and couldn't feel it"
CLOSED = say("checkin.closed")


def _inbound(world: World) -> list[InboundUpdate]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(InboundUpdate).order_by(col(InboundUpdate.id))).all())


def _answers(world: World) -> list[Answer]:
    with session_scope(world.engine) as session:
        return list(session.exec(select(Answer).order_by(col(Answer.id))).all())


def _notices(world: World, phone: EmulatorUser) -> list[str]:
    return [notice.text for notice in world.emulator.chats[phone.chat_id].notices]


async def _first_question(world: World, phone: EmulatorUser) -> None:
    await world.advance(timedelta(hours=4))  # 13:00: the day-0 check-in
    await world.bot_says(phone, "Do you have any numbness or heaviness")
    await world.delivered(phone)


async def test_the_same_update_delivered_twice_is_processed_once(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, RED_TEXT, "Go to A&E now.")
    await world.delivered(phone)
    row = _inbound(world)[-1]
    assert row.status is InboundStatus.PROCESSED
    payload = json.loads(row.payload_json)
    assert await _record_and_process(world, [payload]) == []
    assert await _record_and_process(world, [payload, payload]) == []
    assert [e.rule for e in world.escalations()] == ["red.ces.bladder"]
    assert sum("Go to A&E now." in m.text for m in world.bot_messages(phone)) == 1
    assert len(_inbound(world)) == 3  # /start, the consent button, the message: each recorded once


async def _record_and_process(world: World, payloads: list[dict[str, Any]]) -> list[int]:
    """Telegram delivering these again: recorded once at most, processed once at most."""
    fresh = world.service.inbound.record(payloads)
    await world.service.inbound.process_many(fresh)
    return fresh


async def test_a_new_update_repeated_within_one_batch_is_recorded_once(world: World) -> None:
    phone = await world.join("Sam")
    await world.stop()  # nobody polling: the message waits at Telegram
    await phone.send("thanks, all fine")
    [pending] = world.emulator.updates.pending()
    assert len(world.service.inbound.record([pending, pending])) == 1
    world.emulator.updates.acknowledge(int(pending["update_id"]) + 1)
    await world.restart()
    await world.bot_says(phone, "Thank you for your message")
    await world.delivered(phone)
    assert sum("Thank you for your message" in m.text for m in world.bot_messages(phone)) == 1


async def test_after_a_restart_the_patients_answer_carries_the_check_in_on(world: World) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    await world.restart()  # a new process: nothing in memory, the same database and Telegram
    await world.press(phone, "No numbness", "Since the injection, have you had a new rash")
    await world.restart()
    done = await world.press(phone, "No", "That's all for now")
    assert "Your next check-in will come tomorrow" in done.text
    assert [a.question_id for a in _answers(world)] == ["numbness.day0", "allergy.day0"]
    assert world.checkins(phone)[0].status is CheckInStatus.COMPLETED


async def test_an_update_recorded_but_not_processed_before_a_crash_is_processed_at_the_next_start(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    await world.stop()
    await phone.press_button("Yes, getting worse")
    [pending] = world.emulator.updates.pending()

    def crash_after_recording() -> None:
        # What a webhook does before its 200 (and polling before the next getUpdates): record, then crash.
        assert len(world.service.inbound.record([pending])) == 1
        world.emulator.updates.acknowledge(int(pending["update_id"]) + 1)  # Telegram will not send it again

    await world.restart(before_start=crash_after_recording)
    await world.bot_says(phone, "Where is the numbness or weakness?")
    assert _inbound(world)[-1].status is InboundStatus.PROCESSED
    assert [a.rule for a in _answers(world)] == ["red.numbness.worsening_day0"]


async def test_a_button_pressed_twice_applies_once_and_says_so_kindly(world: World) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    question = world.bot_messages(phone)[-1]
    data = question.button("No numbness").callback_data or ""
    await phone.press(question.message_id, data)
    await world.bot_says(phone, "have you had a new rash", after=question.message_id)
    await world.delivered(phone)
    await phone.press(question.message_id, data)
    await world.until(lambda: CLOSED in _notices(world, phone), "the 'already answered' notice")
    assert [a.question_id for a in _answers(world)] == ["numbness.day0"]  # the repeat "no" changed nothing
    assert world.escalations() == []
    # A late tap on a worse answer is still graded and acted on: never dropped as "already answered".
    await phone.press(question.message_id, question.button("Yes, getting worse").callback_data or "")
    await world.until(lambda: world.escalations() != [], "the late answer's escalation")
    assert [a.question_id for a in _answers(world)] == ["numbness.day0", "numbness.day0"]
    assert world.escalations()[0].level is not Level.GREEN


async def test_a_button_from_an_old_check_in_never_reapplies(world: World) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(days=1, hours=1))  # Tuesday 10:00, day 1
    screen = await world.bot_says(phone, "Since your injection, have you had any of these")
    await world.answer(phone, "No")
    await world.advance(timedelta(days=1))  # Wednesday 10:00: day 1's check-in is closed, day 2's starts
    await world.bot_says(phone, "Since your injection, have you had any of these", after=screen.message_id)
    await world.delivered(phone)
    day1 = next(c for c in world.checkins(phone) if c.key == "day1.morning")
    assert day1.status is CheckInStatus.UNANSWERED
    before = world.last_message_id(phone)
    await phone.press(screen.message_id, screen.button("Yes").callback_data or "")  # yesterday's button
    # Never re-opens the check-in, but a late "yes" to the red-flag screen is acted on at once.
    await world.bot_says(phone, "Go to A&E now", after=before)
    assert [a.question_id for a in _answers(world) if a.checkin_id == day1.id] == ["rf.ces", "rf.ces"]
    assert [e.level for e in world.escalations()] == [Level.AMBER, Level.RED]  # unanswered, then the tap
    assert day1.status is CheckInStatus.UNANSWERED


async def test_a_button_of_a_check_in_cancelled_by_stopping_does_not_restart_it(world: World) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    question = world.bot_messages(phone)[-1]
    await world.reply(phone, "/stop", "Do you want to stop")
    await world.press(phone, "Yes, stop them", "Your check-ins have stopped")
    await world.delivered(phone)
    before = world.last_message_id(phone)
    await phone.press(question.message_id, question.button("No numbness").callback_data or "")
    await world.until(lambda: CLOSED in _notices(world, phone), "the 'closed' notice")
    assert world.bot_messages(phone, after=before) == []
    assert {c.status for c in world.checkins(phone)} == {CheckInStatus.CANCELLED}


async def test_a_reply_goes_out_straight_after_its_transaction_not_through_the_outboxs_next_claim(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    outbox = world.service.outbox
    claimed_by_outbox: list[int] = []
    claim = outbox._claim

    def watched_claim(limit: int) -> list[Any]:
        batch = claim(limit)
        claimed_by_outbox.extend(message.id for message in batch)
        return batch

    outbox._claim = watched_claim  # type: ignore[method-assign]
    await world.press(phone, "No numbness", "Since the injection, have you had a new rash")
    await world.delivered(phone)
    reply = [m for m in world.outbox() if m.chat_id == phone.chat_id][-1]
    assert "new rash" in reply.text and reply.attempts == 1
    assert reply.id not in claimed_by_outbox


async def test_the_next_poll_goes_out_while_a_batch_is_being_processed(world: World) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    inbound = world.service.inbound
    process_many = inbound.process_many
    first_taken, go_on = asyncio.Event(), asyncio.Event()

    async def slow_first(updates: Any) -> None:
        if not first_taken.is_set():
            first_taken.set()
            await go_on.wait()  # processing takes a while
        await process_many(updates)

    inbound.process_many = slow_first  # type: ignore[method-assign]
    before = len(_inbound(world))
    await phone.press_button("No numbness")
    await asyncio.wait_for(first_taken.wait(), timeout=10)
    await phone.send("my back aches a bit")
    # Recorded (ours, and acknowledged to Telegram) while the first is still being processed.
    await world.until(lambda: len(_inbound(world)) == before + 2, "the second update to be recorded")
    assert [row.status for row in _inbound(world)[-2:]] == [InboundStatus.RECEIVED] * 2
    go_on.set()
    await world.bot_says(phone, "Since the injection, have you had a new rash")
    await world.until(lambda: _inbound(world)[-1].status is InboundStatus.PROCESSED, "both processed")
    assert [a.question_id for a in _answers(world)][:1] == ["numbness.day0"]  # in the order received


async def test_on_stop_what_was_received_is_processed_before_the_service_ends(world: World) -> None:
    phone = await world.join("Sam")
    await _first_question(world, phone)
    inbound = world.service.inbound
    process_many = inbound.process_many
    taken = asyncio.Event()

    async def slow(updates: Any) -> None:
        taken.set()
        await asyncio.sleep(0.2)
        await process_many(updates)

    inbound.process_many = slow  # type: ignore[method-assign]
    await phone.press_button("No numbness")
    await asyncio.wait_for(taken.wait(), timeout=10)
    await world.stop()
    assert _inbound(world)[-1].status is InboundStatus.PROCESSED
    assert [a.question_id for a in _answers(world)] == ["numbness.day0"]


async def test_updates_received_together_share_a_transaction_and_one_that_fails_fails_alone(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ann, bea, cal = [await world.join(name) for name in ("Ann", "Bea", "Cal")]
    await world.advance(timedelta(hours=4))  # 13:00: everyone's day-0 check-in
    for phone in (ann, bea, cal):
        await world.bot_says(phone, "Do you have any numbness or heaviness")
        await world.delivered(phone)
    await world.stop()  # so that the three answers wait at Telegram and arrive together
    await ann.press_button("No numbness")
    await bea.send("I can't say")
    await cal.press_button("No numbness")
    text = Desk.text

    def breaks_on_bea(desk: Desk, session: Any, *, chat_id: int, **kwargs: Any) -> None:
        if chat_id == bea.chat_id:
            raise RuntimeError("a bug in the desk")
        text(desk, session, chat_id=chat_id, **kwargs)

    batches: list[int] = []
    process_many = Inbound.process_many

    async def counted(inbound: Inbound, updates: Any) -> None:
        batches.append(len(updates))
        await process_many(inbound, updates)

    monkeypatch.setattr(Desk, "text", breaks_on_bea)
    monkeypatch.setattr(Inbound, "process_many", counted)
    await world.start()
    await world.bot_says(ann, "Since the injection, have you had a new rash")
    await world.bot_says(cal, "Since the injection, have you had a new rash")
    apology = await world.bot_says(bea, "Sorry, something went wrong on our side")
    assert "NHS 111" in apology.text
    assert batches[0] == 3  # one transaction for the three
    statuses = {row.chat_id: row.status for row in _inbound(world)[-3:]}
    assert statuses == {
        ann.chat_id: InboundStatus.PROCESSED,
        bea.chat_id: InboundStatus.FAILED,
        cal.chat_id: InboundStatus.PROCESSED,
    }
    [escalation] = world.escalations()
    assert (escalation.rule, escalation.trigger_text) == ("amber.system.message_not_processed", "I can't say")
    assert escalation.patient_id == world.patient(bea).id
    assert [a.question_id for a in _answers(world)] == ["numbness.day0", "numbness.day0"]  # Ann's and Cal's
