"""Opting out, end to end: /stop asks first; stopping tells staff (an amber escalation), cancels the
check-ins and no check-in is sent after; /start and a yes resume the follow-up from where it stands."""

from __future__ import annotations

from datetime import timedelta

from flows.levels import Level
from storage.models import CheckInStatus, PatientStatus
from tests.bot.world import World


async def test_stop_asks_first_and_keeping_them_changes_nothing(world: World) -> None:
    phone = await world.join("Sam")
    confirm = await world.reply(phone, "/stop", "Do you want to stop your check-ins?")
    assert confirm.button_texts == ["Yes, stop them", "No, keep them"]
    await world.press(phone, "No, keep them", "OK, your check-ins will carry on.")
    assert world.patient(phone).status is PatientStatus.ACTIVE
    assert world.escalations() == []
    before = world.last_message_id(phone)
    await world.advance(timedelta(hours=4))
    await world.bot_says(phone, "it's time for your check-in", after=before)


async def test_stopping_tells_staff_cancels_check_ins_and_nothing_is_sent_after(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "/stop", "Do you want to stop your check-ins?")
    done = await world.press(phone, "Yes, stop them", "Your check-ins have stopped")
    assert "Send /start" in done.text and "999" in done.text
    assert world.patient(phone).status is PatientStatus.OPTED_OUT
    [escalation] = world.escalations()
    assert (escalation.level, escalation.rule) == (Level.AMBER, "amber.followup.opted_out")
    alert = await world.bot_says(world.staff_chat_id, "AMBER escalation")
    assert "amber.followup.opted_out" in alert.text and "Sam" not in alert.text
    assert {c.status for c in world.checkins(phone)} == {CheckInStatus.CANCELLED}
    quiet_from = world.last_message_id(phone)
    await world.advance_in_steps(timedelta(days=3), step=timedelta(hours=2))
    await world.delivered(phone)
    assert world.bot_messages(phone, after=quiet_from) == []
    # The old confirmation button, pressed again, does not stop anything twice.
    await phone.press_button("Yes, stop them")
    await world.until(
        lambda: any(
            n.text == "Your check-ins are already stopped."
            for n in world.emulator.chats[phone.chat_id].notices
        ),
        "a notice",
    )
    assert len(world.escalations()) == 1


async def test_start_again_after_stopping_resumes_the_follow_up_after_consent(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "/stop", "Do you want to stop your check-ins?")
    await world.press(phone, "Yes, stop them", "Your check-ins have stopped")
    await world.advance(timedelta(hours=20))  # Tuesday 05:00: the day-0 check-in went by while stopped
    welcome = await world.reply(phone, "/start", "Is it OK for us to message you")
    assert "Hello Sam" in welcome.text
    given = await world.press(phone, "Yes, that's OK", "Your first check-in will come")
    assert "tomorrow" in given.text or "today" in given.text
    assert world.patient(phone).status is PatientStatus.ACTIVE
    before = world.last_message_id(phone)
    await world.advance(timedelta(hours=5))  # Tuesday 10:00: day 1's check-in
    first = await world.bot_says(phone, "it's time for your check-in", after=before)
    assert "Since your injection, have you had any of these" in first.text


async def test_declining_consent_tells_staff_and_a_later_yes_starts_the_check_ins(world: World) -> None:
    token = world.enrol(name="Sam")
    phone = world.emulator.new_user("Sam")
    await phone.start(token)
    await world.bot_says(phone, "Is it OK for us to message you")
    await world.press(phone, "No thanks", "We will not send you any check-ins")
    [escalation] = world.escalations()
    assert escalation.rule == "amber.followup.declined"
    quiet_from = world.last_message_id(phone)
    await world.advance(timedelta(hours=4))
    await world.delivered(phone)
    assert world.bot_messages(phone, after=quiet_from) == []
    await world.reply(phone, "/start", "Is it OK for us to message you")
    await world.press(phone, "Yes, that's OK", "Your first check-in will come")
    before = world.last_message_id(phone)
    await world.advance(timedelta(days=1, hours=1))
    await world.bot_says(phone, "it's time for your check-in", after=before)
