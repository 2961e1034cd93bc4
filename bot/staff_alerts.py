"""Posting escalations to the clinic's staff Telegram chat, with a button to acknowledge.

The alert carries the level, the rule and the patient's reference: never the patient's answer or name
(a group chat is not the place for clinical detail; the console shows it to a logged-in nurse).
Red escalations are posted again until someone acknowledges them; amber ones once, if settings allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.render import Button, markup_json, plain
from flows.clinic import Clinic
from flows.levels import Level
from flows.schedule import day_of
from storage.escalations import escalations_needing_alert, get_escalation, mark_staff_alerted
from storage.messages import enqueue_message
from storage.models import Escalation, MessagePurpose, Priority
from storage.patients import get_episode, get_patient

ACK_PREFIX = "ack:"


@dataclass(frozen=True, kw_only=True)
class StaffAlerts:
    clinic: Clinic
    staff_chat_id: int | None
    alert_amber: bool = True
    realert_after: timedelta = timedelta(hours=1)

    @property
    def levels(self) -> tuple[Level, ...]:
        return (Level.RED, Level.AMBER) if self.alert_amber else (Level.RED,)

    def alert(self, session: Session, escalation: Escalation, *, now: datetime) -> None:
        """The first alert for a new escalation, queued with the decision that raised it."""
        if self.staff_chat_id is None or escalation.level not in self.levels or escalation.staff_alerted_at:
            return
        self._post(session, escalation, now=now, again=False)

    def realert_due(self, session: Session, *, now: datetime) -> int:
        """Alerts not yet sent (e.g. the staff chat was set later) and repeats for unacknowledged reds."""
        if self.staff_chat_id is None:
            return 0
        due = escalations_needing_alert(
            session=session,
            now=now,
            realert_after=self.realert_after,
            alert_levels=self.levels,
            realert_levels=(Level.RED,),
        )
        for escalation in due:
            self._post(session, escalation, now=now, again=escalation.staff_alerted_at is not None)
        return len(due)

    def _post(self, session: Session, escalation: Escalation, *, now: datetime, again: bool) -> None:
        assert self.staff_chat_id is not None and escalation.id is not None
        patient = (
            get_patient(session=session, patient_id=escalation.patient_id)
            if escalation.patient_id is not None
            else None  # a system escalation about an update from nobody we know
        )
        episode = (
            get_episode(session=session, episode_id=escalation.episode_id) if escalation.episode_id else None
        )
        reference = patient.reference if patient else "?" if escalation.patient_id else "(none known)"
        button = ((Button(label="Acknowledge", data=f"{ACK_PREFIX}{escalation.id}"),),)
        if again:
            waited = _duration(now - escalation.created_at)
            message = plain(
                "staff.realert",
                clinic=self.clinic.short_name,
                level=escalation.level.upper(),
                escalation_id=escalation.id,
                reference=reference,
                waited=waited,
            )
        else:
            day = day_of(now, performed_at=episode.performed_at, clinic=self.clinic) if episode else "?"
            procedure = episode.procedure_id if episode else "no current procedure"
            message = plain(
                "staff.alert",
                clinic=self.clinic.short_name,
                level=escalation.level.upper(),
                escalation_id=escalation.id,
                reference=reference,
                procedure=procedure,
                day=day,
                rule=escalation.rule,
            )
        enqueue_message(
            session=session,
            chat_id=self.staff_chat_id,
            text=message.text,
            purpose=MessagePurpose.STAFF_ALERT,
            # A red escalation is as urgent as the advice the patient got; an amber one answers a patient.
            priority=Priority.URGENT if escalation.level is Level.RED else Priority.REPLY,
            now=now,
            reply_markup_json=markup_json(button),
            dedupe_key=f"staff-alert:{escalation.id}:{now.isoformat()}",
        )
        mark_staff_alerted(session=session, escalation_id=escalation.id, now=now)


def escalation_for_ack(session: Session, data: str) -> Escalation | None:
    if not data.startswith(ACK_PREFIX) or not data[len(ACK_PREFIX) :].isdigit():
        return None
    return get_escalation(session=session, escalation_id=int(data[len(ACK_PREFIX) :]))


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"
