"""End to end: the real PTB Application against the emulator over HTTP. Enrolment, check-ins on schedule,
answers by button and by text, red flags with urgent advice and escalation, staff acknowledgement."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select

from flows.levels import Level
from flows.state import Phase
from storage.db import session_scope
from storage.models import (
    CheckIn,
    CheckInStatus,
    EscalationStatus,
    MessagePurpose,
    Patient,
    PatientStatus,
    Priority,
)
from tests.bot.world import World, calm_answer


async def test_a_patient_opens_their_link_is_greeted_by_name_and_asked_for_consent(world: World) -> None:
    token = world.enrol(name="Margaret")
    phone = world.emulator.new_user("Maggie")
    await phone.start(token)
    welcome = await world.bot_says(phone, "Hello Margaret")
    assert (
        welcome.text.splitlines()[0] == "A message from the Pain Clinic"
    )  # nothing clinical on a lock screen
    assert "999" in welcome.text and "not watched all the time" in welcome.text
    assert [b.text for row in welcome.buttons for b in row] == ["Yes, that's OK", "No thanks"]
    with session_scope(world.engine) as session:
        patient = session.exec(select(Patient)).one()
        assert patient.status == PatientStatus.INVITED  # no check-ins before consent
    await world.press(phone, "Yes, that's OK", "Your first check-in will come")
    with session_scope(world.engine) as session:
        assert session.exec(select(Patient)).one().status == PatientStatus.ACTIVE


async def test_bad_used_and_expired_links_give_a_clear_message_and_no_data(world: World) -> None:
    stranger = world.emulator.new_user("Eve")
    await stranger.start("not-a-real-token")
    await world.bot_says(stranger, "that link did not work")
    token = world.enrol(name="Sam")
    sam = world.emulator.new_user("Sam")
    await sam.start(token)
    await world.bot_says(sam, "Hello Sam")
    other = world.emulator.new_user("Mallory")
    await other.start(token)
    used = await world.bot_says(other, "already been used")
    assert "Sam" not in used.text
    late = world.enrol(name="Late")
    await world.advance(timedelta(hours=73))
    latecomer = world.emulator.new_user("Late")
    await latecomer.start(late)
    await world.bot_says(latecomer, "has run out")
    nobody = world.emulator.new_user("Nobody")
    await nobody.send("hello?")
    await world.bot_says(nobody, "only works with the personal link")


async def test_check_in_arrives_on_schedule_and_a_red_flag_gets_urgent_advice_and_reaches_staff(
    world: World,
) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(days=1, hours=1))  # Tuesday 10:00: the day-1 check-in
    first = await world.bot_says(phone, "Since your injection, have you had any of these")
    assert first.text.splitlines()[0] == "Your check-in from the Pain Clinic"
    await phone.press(first.message_id, first.buttons[0][0].callback_data or "")  # "Yes"
    urgent = await world.bot_says(phone, "Go to A&E now", after=first.message_id)
    assert urgent.text.splitlines()[0] == "Please read this message now."
    assert "Derriford Emergency Department" in urgent.text
    [escalation] = world.escalations()
    assert (escalation.level, escalation.rule) == (Level.RED, "red.ces.screen_positive")
    alert = await world.bot_says(world.staff_chat_id, "RED escalation")
    assert "Sam" not in alert.text and "Yes" not in alert.text  # a reference and a rule, never the answer
    nurse = world.emulator.chats[world.staff_chat_id].member_ids.copy().pop()
    await world.emulator.press(
        nurse, alert.message_id, alert.buttons[0][0].callback_data or "", chat_id=world.staff_chat_id
    )
    await world.until(lambda: world.escalations()[0].status == EscalationStatus.ACKNOWLEDGED, "acknowledged")


async def test_each_message_takes_its_place_in_the_outbox_from_what_it_says(world: World) -> None:
    """Urgent advice (crisis lines included) and red alerts to staff first, replies next, the scheduler's
    check-ins last: chosen where each is queued, from the level of what is sent, never from its text."""
    phone = await world.join("Sam")
    await world.advance(timedelta(days=1, hours=1))  # Tuesday 10:00: the day-1 check-in
    first = await world.bot_says(phone, "Since your injection, have you had any of these")
    await phone.press(first.message_id, first.buttons[0][0].callback_data or "")  # "Yes"
    await world.bot_says(phone, "Go to A&E now", after=first.message_id)
    await world.bot_says(world.staff_chat_id, "RED escalation")
    await world.reply(phone, "I keep thinking I'm going to end it all", "You do not have to cope alone")
    await world.reply(phone, "thanks, feeling a bit better now", "Thank you for your message")

    queued = [(m.purpose, Priority(m.priority), m.text) for m in world.outbox()]
    by_purpose = {(purpose, priority) for purpose, priority, _ in queued}
    assert (MessagePurpose.CHECKIN_QUESTION, Priority.ROUTINE) in by_purpose  # the scheduler's
    assert (MessagePurpose.STAFF_ALERT, Priority.URGENT) in by_purpose  # red escalations
    advice = [(priority, text) for purpose, priority, text in queued if purpose is MessagePurpose.ADVICE]
    assert [priority for priority, _ in advice] == [Priority.URGENT, Priority.URGENT]
    assert "cope alone" in advice[1][1]  # the crisis lines
    replies = {priority for purpose, priority, _ in queued if purpose is MessagePurpose.REPLY}
    assert replies == {Priority.REPLY}  # the welcome, thank-yous: answers to the patient


async def test_a_red_flag_typed_at_any_time_is_caught(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "I've wet myself twice today and couldn't feel it", "Go to A&E now")
    assert [e.level for e in world.escalations()] == [Level.RED]


async def test_negated_symptoms_are_not_escalated(world: World) -> None:
    phone = await world.join("Sam")
    await world.reply(phone, "no fever, no numbness, just a bit sore. thanks", "Thank you for your message")
    assert world.escalations() == []


async def test_a_whole_follow_up_with_calm_answers_completes_every_check_in(world: World) -> None:
    phone = await world.join("Sam")
    calm = {
        "Yes": "No",
        "No numbness": None,
        "Yes, all gone": None,
        "Fine": None,
        "Better": None,
        "No flare": None,
        "Fewer": None,
    }
    for _ in range(400):
        with session_scope(world.engine) as session:
            pending = session.exec(
                select(CheckIn).where(CheckIn.status == CheckInStatus.SCHEDULED).order_by(col(CheckIn.due_at))
            ).first()
            awaiting = session.exec(
                select(CheckIn).where(CheckIn.status == CheckInStatus.AWAITING_REPLY)
            ).first()
        if awaiting is None and pending is None:
            break
        if awaiting is None:
            assert pending is not None
            await world.advance_to(pending.due_at)
            continue
        last = [e for e in world.emulator.transcript(phone.chat_id) if e.from_bot][-1]
        labels = [b.text for row in last.buttons for b in row]
        if "No" in labels:
            await phone.press_button("No")
        elif labels and labels[0] in calm:
            await phone.press_button(labels[0])
        elif labels and labels[0] == "0":
            await phone.press_button("2")
        elif labels and labels[0] == "1":
            await phone.press_button("3")
        else:
            await phone.send(
                "no thanks"
                if "anything else" in last.text.lower() or "how long" in last.text.lower()
                else "40"
            )
        sent = world.last_message_id(phone)
        await world.emulator.wait_for_bot_message(phone.chat_id, after_message_id=sent)
    with session_scope(world.engine) as session:
        statuses = {c.status for c in session.exec(select(CheckIn)).all()}
    assert statuses == {CheckInStatus.COMPLETED}
    assert world.escalations() == []
    assert "That's all for this check-in" in world.emulator.transcript(phone.chat_id)[-1].text


async def test_a_whole_epidural_follow_up_for_a_diabetic_patient_asks_glucose_and_headache_and_completes(
    world: World,
) -> None:
    phone = await world.join("Ann", procedure="epidural-steroid-injection", diabetic=True)
    asked: list[str] = []
    answered_at: list[datetime] = []
    for _ in range(200):
        question, phase = world.open_question(phone)
        if question is not None:
            if phase is Phase.CONFIRMING:
                await world.answer(phone, "Yes")
                continue
            asked.append(question.id)
            answered_at.append(world.clock.now())
            reply = await world.answer(phone, calm_answer(question))
            assert reply.text.splitlines()[0] == "Your check-in from the Pain Clinic"
            continue
        scheduled = [c for c in world.checkins(phone) if c.status is CheckInStatus.SCHEDULED]
        if not scheduled:
            break
        before = world.last_message_id(phone)
        await world.advance_to(scheduled[0].due_at)
        await world.bot_says(phone, "it's time for your check-in", after=before)
    assert {c.status for c in world.checkins(phone)} == {CheckInStatus.COMPLETED}
    assert len(world.checkins(phone)) == 11
    assert asked.count("glucose") == 6  # day 0, and mornings and evenings of days 1 and 2, and day 3
    assert asked.count("epidural.headache") == 5 and asked[0] == "epidural.passed_urine"
    assert world.escalations() == []
    assert all(world.settings.clinic.may_message(moment) for moment in answered_at)
    assert "That's all for this check-in" in world.bot_messages(phone)[-1].text
