"""The scheduler's tick, end to end with the movable clock: contact hours, what happens after downtime
(late within the grace, missed beyond it, never a burst), the reminder, an unanswered check-in raised to
staff, and a red alert posted again until someone acknowledges it."""

from __future__ import annotations

from datetime import time, timedelta

from flows.levels import Level
from storage.models import CheckInStatus, EscalationStatus, MessagePurpose
from tests.bot.world import World

CONTACT_OPENS, CONTACT_CLOSES = time(8, 0), time(20, 0)


async def test_no_check_in_or_reminder_goes_out_outside_contact_hours(world: World) -> None:
    phone = await world.join("Sam", diabetic=True)  # diabetic: evening glucose check-ins at 18:00 too
    joined = len(world.outbox())
    await world.advance_in_steps(timedelta(days=4), step=timedelta(hours=1))  # Sam never answers
    await world.delivered(phone)
    routine = [m for m in world.outbox()[joined:] if m.chat_id == phone.chat_id]
    purposes = [m.purpose for m in routine]
    # Days 0-3: six check-ins, and a reminder for each of the four that are not at 18:00.
    assert (purposes.count(MessagePurpose.CHECKIN_QUESTION), purposes.count(MessagePurpose.REMINDER)) == (
        6,
        4,
    )
    for message in routine:
        assert CONTACT_OPENS <= world.local(message.created_at).time() < CONTACT_CLOSES, message.created_at
    evening = [c for c in world.checkins(phone) if c.sent_at and world.local(c.sent_at).time() >= time(18)]
    # The 18:00 check-ins' reminders would fall after 20:00: they are not sent at all.
    assert len(evening) == 2 and all(c.reminder_sent_at is None for c in evening)


async def test_a_check_in_due_during_downtime_is_sent_late_within_its_grace(world: World) -> None:
    phone = await world.join("Sam")
    [day0] = [c for c in world.checkins(phone) if c.key == "day0.evening"]
    await world.advance_to(day0.due_at + timedelta(hours=4))  # down from 09:00 to 17:00; 6 h grace
    late = await world.bot_says(phone, "it's time for your check-in")
    assert "Do you have any numbness or heaviness" in late.text
    assert world.checkins(phone)[0].status is CheckInStatus.AWAITING_REPLY


async def test_after_long_downtime_older_check_ins_are_missed_and_only_the_current_one_is_sent(
    world: World,
) -> None:
    phone = await world.join("Sam")
    before = world.last_message_id(phone)
    await world.advance(timedelta(days=2, hours=2))  # down from Monday 09:00 to Wednesday 11:00
    await world.bot_says(phone, "it's time for your check-in", after=before)
    await world.delivered(phone)
    assert len(world.bot_messages(phone, after=before)) == 1  # no burst of stale check-ins
    statuses = {c.key: c.status for c in world.checkins(phone)}
    assert statuses["day0.evening"] is CheckInStatus.MISSED
    assert statuses["day1.morning"] is CheckInStatus.MISSED
    assert statuses["day2.morning"] is CheckInStatus.AWAITING_REPLY
    assert world.escalations() == []  # missed while we were down is not the patient's silence


async def test_silence_gets_one_reminder_then_the_unanswered_red_flag_screen_goes_to_staff(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(days=1, hours=1))  # Tuesday 10:00, day 1: the red-flag screen
    question = await world.bot_says(phone, "Since your injection, have you had any of these")
    await world.advance(timedelta(hours=2, minutes=59))
    await world.delivered(phone)
    assert world.bot_messages(phone, after=question.message_id) == []
    await world.advance(timedelta(minutes=1))  # 3 hours on
    reminder = await world.bot_says(phone, "Just a reminder, Sam", after=question.message_id)
    assert reminder.text.splitlines()[0] == "Your check-in from the Pain Clinic"
    assert "Since your injection, have you had any of these" in reminder.text
    assert reminder.button_texts == ["Yes", "No", "Not sure"]  # a red-flag question: unsure is an answer
    await world.advance(timedelta(hours=3))
    await world.delivered(phone)
    assert world.bot_messages(phone, after=reminder.message_id) == []  # one reminder, not nagging
    assert world.escalations() == []
    await world.advance(timedelta(hours=1))  # 7 hours after it was sent
    day1 = next(c for c in world.checkins(phone) if c.key == "day1.morning")
    assert day1.status is CheckInStatus.UNANSWERED
    [escalation] = world.escalations()
    assert (escalation.level, escalation.rule) == (Level.AMBER, "amber.unanswered.red_flag_screen")
    assert escalation.checkin_id == day1.id
    alert = await world.bot_says(world.staff_chat_id, f"AMBER escalation #{escalation.id}")
    assert "amber.unanswered.red_flag_screen" in alert.text


async def test_an_unacknowledged_red_alert_is_posted_again_after_an_hour_until_acknowledged(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "I can't feel my bottom when I wipe", "Go to A&E now.")
    [red] = world.escalations()
    first = await world.bot_says(world.staff_chat_id, f"RED escalation #{red.id}")
    await world.advance(timedelta(minutes=59))
    await world.delivered(world.staff_chat_id)
    assert world.bot_messages(world.staff_chat_id, after=first.message_id) == []
    await world.advance(timedelta(minutes=2))
    again = await world.bot_says(world.staff_chat_id, "Still not acknowledged", after=first.message_id)
    assert f"RED escalation #{red.id}" in again.text and world.patient(phone).reference in again.text
    assert "Sam" not in again.text and "1 h 01 min waiting" in again.text
    nurse = next(iter(world.emulator.chats[world.staff_chat_id].member_ids))
    await world.emulator.press(
        nurse, again.message_id, again.button("Acknowledge").callback_data or "", chat_id=world.staff_chat_id
    )
    await world.until(lambda: world.escalations()[0].status is EscalationStatus.ACKNOWLEDGED, "acknowledged")
    await world.advance_in_steps(timedelta(hours=3), step=timedelta(minutes=30))
    await world.delivered(world.staff_chat_id)
    assert world.bot_messages(world.staff_chat_id, after=again.message_id) == []


async def test_an_amber_alert_is_posted_once(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "/stop", "Do you want to stop")
    await world.press(phone, "Yes, stop them", "Your check-ins have stopped")
    first = await world.bot_says(world.staff_chat_id, "AMBER escalation")
    await world.advance_in_steps(timedelta(hours=3), step=timedelta(minutes=30))
    await world.delivered(world.staff_chat_id)
    assert world.bot_messages(world.staff_chat_id, after=first.message_id) == []
