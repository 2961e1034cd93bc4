"""A small, realistic clinic day for the browser test and the screenshots, made through storage functions.

Invented patients only. Times are relative to `now`; answers, advice and escalations are what the bot
would have recorded for them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from flows.catalogue import bundled_protocols
from flows.clinic import Clinic
from flows.levels import Level
from storage.answers import record_answer
from storage.checkins import (
    checkins_for_episode,
    claim_due_checkins,
    complete_checkin,
    mark_checkin_awaiting_reply,
    mark_unanswered,
)
from storage.db import session_scope
from storage.enrolment import Enrolment, RedeemOutcome, redeem_invite
from storage.escalations import acknowledge_escalation, raise_escalation
from storage.followup import enrol_on_protocol
from storage.messages import claim_outbound, enqueue_message, mark_sent
from storage.models import AckChannel, MessagePurpose, PatientStatus, Priority
from storage.patients import set_patient_status

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
FLARE_ADVICE = (
    "Some people have a flare of pain after the injection. It should last only up to a week or so. "
    "Keep gently moving and take your usual painkillers."
)


@dataclass(frozen=True, kw_only=True)
class Demo:
    red_escalation_id: int
    amber_escalation_id: int
    followed_patient_id: int  # the one with a pain chart and a full timeline


class _Clinic:
    """Enrols and follows up demo patients in one unit of work."""

    def __init__(self, db: Session, clinic: Clinic, now: datetime) -> None:
        self.db, self.clinic, self.now = db, clinic, now
        self.chat_id = 9_200_000_000

    def enrol(self, name: str, procedure: str, *, days_ago: float, diabetic: bool = False) -> Enrolment:
        performed = self.now - timedelta(days=days_ago)
        return enrol_on_protocol(
            session=self.db,
            clinic=self.clinic,
            protocol=bundled_protocols()[procedure],
            display_name=name,
            performed_at=performed,
            diabetic=diabetic,
            invite_ttl=3 * DAY,
            now=performed,
            actor="demo",
        )

    def connect(self, enrolment: Enrolment) -> int:
        """The patient opens their link an hour after the procedure and agrees to messages."""
        assert enrolment.patient.id is not None
        self.chat_id += 1
        opened = enrolment.episode.performed_at + HOUR
        result = redeem_invite(
            session=self.db,
            token=enrolment.invite_token,
            chat_id=self.chat_id,
            user_id=self.chat_id,
            now=opened,
        )
        assert result.outcome is RedeemOutcome.OK
        set_patient_status(
            session=self.db,
            patient_id=enrolment.patient.id,
            status=PatientStatus.ACTIVE,
            actor="demo",
            now=opened,
        )
        return enrolment.patient.id

    def follow_up(self, enrolment: Enrolment, pain: list[int], *, unanswered: set[str]) -> None:
        """Every check-in due before now is sent and answered (or not); pain questions get the next score."""
        episode = enrolment.episode
        assert episode.id is not None
        protocol = bundled_protocols()[episode.procedure_id]
        scores = iter(pain)
        for checkin in checkins_for_episode(session=self.db, episode_id=episode.id):
            if checkin.due_at >= self.now - 2 * HOUR:
                continue
            assert checkin.id is not None
            claimed = claim_due_checkins(
                session=self.db, now=checkin.due_at, owner="demo", lease=HOUR, limit=1
            )
            assert [c.id for c in claimed] == [checkin.id]
            mark_checkin_awaiting_reply(
                session=self.db, checkin_id=checkin.id, owner="demo", state_json="{}", now=checkin.due_at
            )
            if checkin.key in unanswered:
                mark_unanswered(session=self.db, checkin_id=checkin.id, now=checkin.due_at + 6 * HOUR)
                continue
            score = next(scores, None) if "pain.now" in protocol.checkin(checkin.key).questions else None
            if score is not None:
                severe = score >= 8
                record_answer(
                    session=self.db,
                    episode_id=episode.id,
                    checkin_id=checkin.id,
                    question_id="pain.now",
                    text=str(score),
                    value_json=json.dumps({"value": score}),
                    level=Level.AMBER if severe else Level.GREEN,
                    rule="amber.pain.severe_score" if severe else "green.pain.recorded",
                    now=checkin.due_at + 20 * MINUTE,
                )
            complete_checkin(
                session=self.db, checkin_id=checkin.id, state_json="{}", now=checkin.due_at + 25 * MINUTE
            )

    def sent(self, patient_id: int, text: str, purpose: MessagePurpose, at: datetime) -> None:
        enqueue_message(
            session=self.db,
            chat_id=self.chat_id,
            text=text,
            purpose=purpose,
            priority=Priority.URGENT if purpose is MessagePurpose.ADVICE else Priority.ROUTINE,
            patient_id=patient_id,
            now=at,
        )
        for message in claim_outbound(session=self.db, now=at, owner="demo", lease=HOUR, limit=10):
            assert message.id is not None
            mark_sent(session=self.db, message_id=message.id, telegram_message_id=1, now=at)


def seed(engine: Engine, *, clinic: Clinic, now: datetime, nurse_id: int | None = None) -> Demo:
    with session_scope(engine) as db:
        demo = _Clinic(db, clinic, now)

        # Well into follow-up: pain falling, advice given, a missed check-in, an amber flag dealt with.
        mary = demo.enrol("Mary", "sacroiliac-joint-injection", days_ago=8.1)
        mary_id = demo.connect(mary)
        demo.follow_up(mary, [7, 8, 5, 3], unanswered={"day3.morning"})
        demo.sent(mary_id, FLARE_ADVICE, MessagePurpose.ADVICE, now - 6 * DAY)
        wound = raise_escalation(
            session=db,
            patient_id=mary_id,
            episode_id=mary.episode.id,
            level=Level.AMBER,
            rule="amber.wound.signs_of_infection",
            advice_id="amber.wound",
            trigger_text="the skin round the needle mark is red and a bit warm",
            now=now - 6 * DAY,
        )
        assert wound.id is not None
        acknowledge_escalation(
            session=db,
            escalation_id=wound.id,
            staff_id=nurse_id,
            via=AckChannel.CONSOLE,
            now=now - 6 * DAY + HOUR,
        )

        # Today's red flag, and an amber one raised on Friday morning: overdue by Tuesday.
        john = demo.enrol("John", "epidural-steroid-injection", days_ago=1.1, diabetic=True)
        red = raise_escalation(
            session=db,
            patient_id=demo.connect(john),
            episode_id=john.episode.id,
            level=Level.RED,
            rule="red.ces.screen_positive",
            advice_id="red.ces",
            trigger_text="Yes. It feels numb down there when I wipe & I can't feel the toilet paper",
            now=now - 25 * MINUTE,
        )
        priya = demo.enrol("Priya", "facet-joint-injection", days_ago=4.2)
        priya_id = demo.connect(priya)
        demo.follow_up(priya, [6], unanswered={"day2.morning"})
        amber = raise_escalation(
            session=db,
            patient_id=priya_id,
            episode_id=priya.episode.id,
            level=Level.AMBER,
            rule="amber.fever.reported",
            advice_id="amber.fever",
            trigger_text="felt hot and shivery last night, 37.9 this morning",
            now=now - 4 * DAY,
        )

        # Others in the list: one who has not opened the link yet, one paused, one who blocked the bot.
        demo.enrol("A.K.", "medial-branch-block", days_ago=0.2)
        tom = demo.enrol("Tom", "radiofrequency-denervation", days_ago=6)
        set_patient_status(
            session=db, patient_id=demo.connect(tom), status=PatientStatus.PAUSED, actor="demo", now=now - DAY
        )
        bea = demo.enrol("Bea", "sacroiliac-joint-injection", days_ago=9)
        set_patient_status(
            session=db,
            patient_id=demo.connect(bea),
            status=PatientStatus.UNREACHABLE,
            actor="system",
            now=now - 3 * DAY,
        )
        assert red.id is not None and amber.id is not None
        return Demo(red_escalation_id=red.id, amber_escalation_id=amber.id, followed_patient_id=mary_id)
