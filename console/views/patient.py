"""A patient's page: reachability, each episode with its pain chart, and one timeline of everything that
happened (check-ins, answers with level and rule, advice, escalations, messages sent or failed).

Patient text (answers, trigger text, messages) is passed through as data; the templates escape it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from console.formatting import CHECKIN_STATUS_LABELS, OUTCOME_LABELS, PURPOSE_LABELS, label, plain_text
from console.views.chart import PainChart, pain_chart
from console.views.common import episode_protocol, procedure_title
from flows.clinic import Clinic
from flows.levels import Level
from flows.schedule import day_of
from storage.answers import answers_for_episode
from storage.checkins import checkins_for_episode
from storage.escalations import escalations_for_patient
from storage.models import (
    CheckIn,
    CheckInStatus,
    Episode,
    EpisodeStatus,
    Escalation,
    EscalationStatus,
    MessagePurpose,
    OutboundMessage,
    OutboundStatus,
    Patient,
    PatientStatus,
)
from storage.patients import episodes_for_patient

SENDABLE = (PatientStatus.ACTIVE,)
MESSAGEABLE = (PatientStatus.ACTIVE, PatientStatus.PAUSED, PatientStatus.COMPLETED)


@dataclass(frozen=True, kw_only=True)
class TimelineEntry:
    at: datetime
    kind: str  # enrolled, checkin, answer, escalation, advice, message
    title: str
    text: str | None = None  # what the patient wrote, or the message sent (escaped by the template)
    level: Level | None = None
    rule: str | None = None
    status: str | None = None
    problem: bool = False  # failed or unanswered: make it stand out
    link: str | None = None


@dataclass(frozen=True, kw_only=True)
class EpisodeView:
    episode: Episode
    title: str
    day_today: int
    checkins: list[CheckIn]
    chart: PainChart | None
    next_scheduled: CheckIn | None

    @property
    def active(self) -> bool:
        return self.episode.status is EpisodeStatus.ACTIVE


@dataclass(frozen=True, kw_only=True)
class PatientView:
    patient: Patient
    episodes: list[EpisodeView]
    timeline: list[TimelineEntry]
    open_escalations: list[Escalation]
    reachability: list[str]
    awaiting_reply: bool

    @property
    def current(self) -> EpisodeView | None:
        active = [view for view in self.episodes if view.active]
        return active[-1] if active else (self.episodes[-1] if self.episodes else None)

    @property
    def can_send_next(self) -> bool:
        current = self.current
        return (
            self.patient.status in SENDABLE
            and self.patient.telegram_chat_id is not None
            and current is not None
            and current.active
            and current.next_scheduled is not None
        )

    @property
    def can_pause(self) -> bool:
        return self.patient.status in (PatientStatus.ACTIVE, PatientStatus.INVITED)

    @property
    def can_resume(self) -> bool:
        return self.patient.status is PatientStatus.PAUSED

    @property
    def can_message(self) -> bool:
        return self.patient.telegram_chat_id is not None and self.patient.status in MESSAGEABLE

    @property
    def can_reinvite(self) -> bool:
        current = self.current
        return (
            current is not None
            and current.active
            and self.patient.status is PatientStatus.INVITED
            and self.patient.telegram_chat_id is None
        )


def patient_view(db: Session, patient: Patient, *, clinic: Clinic, now: datetime) -> PatientView:
    assert patient.id is not None
    timeline: list[TimelineEntry] = []
    views: list[EpisodeView] = []
    awaiting = False
    for episode in episodes_for_patient(session=db, patient_id=patient.id):
        assert episode.id is not None
        protocol = episode_protocol(db, episode)
        title = protocol.title if protocol else procedure_title(episode.procedure_id)
        checkins = checkins_for_episode(session=db, episode_id=episode.id)
        answers = answers_for_episode(session=db, episode_id=episode.id)
        scheduled = [c for c in checkins if c.status is CheckInStatus.SCHEDULED]
        awaiting = awaiting or any(c.status is CheckInStatus.AWAITING_REPLY for c in checkins)
        views.append(
            EpisodeView(
                episode=episode,
                title=title,
                day_today=day_of(now, performed_at=episode.performed_at, clinic=clinic),
                checkins=checkins,
                chart=pain_chart(answers, performed_at=episode.performed_at),
                next_scheduled=scheduled[0] if scheduled else None,
            )
        )
        timeline.append(
            TimelineEntry(
                at=episode.created_at,
                kind="enrolled",
                title=f"Enrolled: {title}",
                status=episode.status.value,
            )
        )
        keys = {c.id: c.key for c in checkins}
        # The timeline is what has happened: check-ins still to come are in the episode's table.
        timeline += [_checkin_entry(c) for c in checkins if c.status is not CheckInStatus.SCHEDULED]
        for answer in answers:
            question = protocol.questions.get(answer.question_id) if protocol else None
            where = (
                f" (check-in {keys[answer.checkin_id]})" if answer.checkin_id in keys else " (own message)"
            )
            timeline.append(
                TimelineEntry(
                    at=answer.answered_at,
                    kind="answer",
                    title=(question.text if question else answer.question_id) + where,
                    text=answer.text,
                    level=answer.level,
                    rule=answer.rule,
                )
            )
    escalations = escalations_for_patient(session=db, patient_id=patient.id)
    for escalation in escalations:
        outcome = f", {label(escalation.outcome, OUTCOME_LABELS).lower()}" if escalation.outcome else ""
        timeline.append(
            TimelineEntry(
                at=escalation.created_at,
                kind="escalation",
                title=f"Escalated to staff: {escalation.rule}",
                text=escalation.trigger_text,
                level=escalation.level,
                rule=escalation.rule,
                status=f"{escalation.status.value}{outcome}",
                link=f"/escalations/{escalation.id}",
            )
        )
    for message in _messages(db, patient.id):
        failed = message.status in (OutboundStatus.FAILED, OutboundStatus.DEAD)
        kind = "advice" if message.purpose is MessagePurpose.ADVICE else "message"
        timeline.append(
            TimelineEntry(
                at=message.sent_at or message.created_at,
                kind=kind,
                title="Advice given" if kind == "advice" else label(message.purpose, PURPOSE_LABELS),
                text=plain_text(message.text),
                status=message.status.value,
                problem=failed,
            )
        )
    timeline.sort(key=lambda entry: entry.at)
    open_escalations = [e for e in escalations if e.status is not EscalationStatus.CLOSED]
    return PatientView(
        patient=patient,
        episodes=views,
        timeline=timeline,
        open_escalations=open_escalations,
        reachability=_reachability(db, patient),
        awaiting_reply=awaiting,
    )


def _checkin_entry(checkin: CheckIn) -> TimelineEntry:
    status = label(checkin.status, CHECKIN_STATUS_LABELS)
    problem = checkin.status in (CheckInStatus.MISSED, CheckInStatus.UNANSWERED)
    return TimelineEntry(
        at=checkin.sent_at or checkin.due_at,
        kind="checkin",
        title=f"Check-in {checkin.key}",
        status=status,
        problem=problem,
    )


def _messages(db: Session, patient_id: int) -> list[OutboundMessage]:
    query = select(OutboundMessage).where(OutboundMessage.patient_id == patient_id)
    return list(db.exec(query.order_by(col(OutboundMessage.created_at), col(OutboundMessage.id))).all())


def _reachability(db: Session, patient: Patient) -> list[str]:
    """What stands between the clinic and this patient on Telegram, in words."""
    notes = []
    if patient.telegram_chat_id is None:
        notes.append("Has not opened their Telegram invite link yet: no messages can reach them.")
    elif patient.status is PatientStatus.INVITED:
        notes.append("Opened the invite link but has not agreed to messages yet: no check-ins go out.")
    if patient.status is PatientStatus.UNREACHABLE:
        notes.append("Telegram refuses delivery (bot blocked or account deleted): call the patient.")
    if patient.status is PatientStatus.OPTED_OUT:
        notes.append("Asked us to stop messaging them: no further messages will be sent.")
    if patient.status is PatientStatus.PAUSED:
        notes.append("Follow-up is paused by staff: no check-ins go out until it is resumed.")
    assert patient.id is not None
    dead = db.exec(
        select(OutboundMessage).where(
            OutboundMessage.patient_id == patient.id, OutboundMessage.status == OutboundStatus.DEAD
        )
    ).first()
    if dead is not None and patient.status is not PatientStatus.UNREACHABLE:
        notes.append("At least one message could not be delivered.")
    return notes
