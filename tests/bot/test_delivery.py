"""Getting messages to patients, end to end: a blocked bot, Telegram refusing a send (403), 429s and server
errors (the emulator's fault injection), and Telegram's sending limits kept on our side."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import timedelta

import pytest

from bot.emulator import EmulatorUser, FaultKind, FaultPlan
from bot.limits import SendLimits
from flows.levels import Level
from storage.models import CheckInStatus, OutboundStatus, PatientStatus
from tests.bot.world import World


def _plain(source: str) -> str:
    """Our HTML as the patient reads it."""
    return html.unescape(re.sub(r"<[^>]+>", "", source)).strip()


async def test_a_patient_who_blocks_the_bot_becomes_unreachable_and_staff_are_told(world: World) -> None:
    phone = await world.join("Sam")
    await phone.block()
    await world.until(lambda: world.patient(phone).status is PatientStatus.UNREACHABLE, "unreachable")
    [escalation] = world.escalations()
    assert (escalation.level, escalation.rule) == (Level.AMBER, "amber.unreachable.blocked_bot")
    alert = await world.bot_says(world.staff_chat_id, "AMBER escalation")
    assert world.patient(phone).reference in alert.text and "Sam" not in alert.text
    queued_before = len(world.outbox())
    await world.advance_in_steps(timedelta(hours=12), step=timedelta(hours=2))
    assert [m for m in world.outbox()[queued_before:] if m.chat_id == phone.chat_id] == []  # nothing tried
    assert world.checkins(phone)[0].status is CheckInStatus.MISSED  # the gap shows on the record
    # Unblocking and pressing Start again brings them back.
    await phone.unblock()
    await world.reply(phone, "/start", "you are all set")
    assert world.patient(phone).status is PatientStatus.ACTIVE


async def test_a_send_refused_with_403_marks_the_patient_unreachable_once_and_is_never_retried(
    world: World,
) -> None:
    phone = await world.join("Sam")
    # Blocked, but the "kicked" update has not reached us yet (or the account is deleted): only a send tells.
    world.emulator.users[phone.id].blocked = True
    await world.advance(timedelta(hours=4))  # the day-0 check-in is due
    await world.until(lambda: world.patient(phone).status is PatientStatus.UNREACHABLE, "unreachable")
    refused = [m for m in world.outbox() if m.chat_id == phone.chat_id and m.status is OutboundStatus.DEAD]
    assert len(refused) == 1 and refused[0].attempts == 1 and "Forbidden" in (refused[0].last_error or "")
    [escalation] = world.escalations()
    assert (escalation.level, escalation.rule) == (Level.AMBER, "amber.unreachable.telegram_refused")
    await world.service.tick()  # the outbox raised it; the scheduler's next tick alerts staff
    await world.bot_says(world.staff_chat_id, f"AMBER escalation #{escalation.id}")
    await world.advance_in_steps(timedelta(days=2), step=timedelta(hours=3))
    await world.delivered(phone)
    # Nothing more was queued for them (no reminder, no later check-in) and the refused one was not retried.
    assert [(m.id, m.status, m.attempts) for m in world.outbox() if m.chat_id == phone.chat_id][2:] == [
        (refused[0].id, OutboundStatus.DEAD, 1)
    ]
    assert sum(1 for call in world.emulator.calls if call.error_code == 403) == 1
    # Staff also see that the red-flag screen of the check-in that never reached them was not done.
    assert [e.rule for e in world.escalations()] == [
        "amber.unreachable.telegram_refused",
        "amber.unanswered.red_flag_screen",
    ]


async def _busy_afternoon(world: World, phones: list[EmulatorUser], commands: tuple[str, ...]) -> None:
    """Check-ins for everyone at once, and each patient asking a few things in a row."""
    await world.advance(timedelta(hours=4))
    for phone in phones:
        for command in commands:
            await phone.send(command)


def _assert_all_delivered_in_order(world: World, phones: list[EmulatorUser]) -> None:
    for phone in phones:
        queued = [m for m in world.outbox() if m.chat_id == phone.chat_id]
        assert {m.status for m in queued} == {OutboundStatus.SENT}
        shown = [entry.text.strip() for entry in world.bot_messages(phone)]
        assert shown == [_plain(m.text) for m in queued]  # each once, in the order queued


async def test_429s_and_server_errors_delay_messages_but_all_arrive_in_order(world: World) -> None:
    phones = [await world.join(name) for name in ("Ann", "Bea", "Cal")]
    world.emulator.faults.configure(
        FaultPlan(
            seed=7,
            rate=0.4,
            kinds=(FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR),
            methods=frozenset({"sendMessage"}),
            retry_after=1,
            max_faults=6,
            max_consecutive=2,
        )
    )
    await _busy_afternoon(world, phones, ("/help", "/contact", "/advice"))
    for phone in phones:
        await world.bot_says(phone, "After your injection", timeout=30)
        await world.delivered(phone)
    injected = {fault.kind for fault in world.emulator.faults.injected}
    assert injected == {FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR}
    _assert_all_delivered_in_order(world, phones)
    assert world.escalations() == []  # a delay is not a failure


@pytest.mark.parametrize("limits", [SendLimits()], ids=["telegram-limits"])
async def test_with_telegram_limits_on_our_side_telegram_never_has_to_refuse_a_send(world: World) -> None:
    phones = list(await asyncio.gather(*(world.join(name) for name in ("Ann", "Bea", "Cal"))))
    await _busy_afternoon(world, phones, ("/help",))
    for phone in phones[:2]:  # two red flags: urgent advice, and two alerts to the one staff group
        await phone.send("I can't feel my bottom when I wipe")
    for phone in phones:
        await world.bot_says(phone, "I send short check-ins", timeout=30)
        await world.delivered(phone)
    await world.delivered(world.staff_chat_id)
    assert world.emulator.enforce_limits
    assert world.emulator.limit_throttles == []
    _assert_all_delivered_in_order(world, phones)
    assert len(world.bot_messages(world.staff_chat_id)) == 2
