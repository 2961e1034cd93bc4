"""Running a patient's check-ins: the engine decides; this module records the decisions and queues messages.

Everything one step decides (answers, escalations, staff alerts, the state, the replies) is written in the
caller's transaction, so a crash cannot keep half of it: either the reply and the escalation are both
queued, or neither is and the update is processed again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.render import Scene, confirm_buttons, render
from bot.staff_alerts import StaffAlerts
from bot.wording import date_words, when
from flows.catalogue import ResolvedProtocol
from flows.clinic import Clinic
from flows.effects import AskConfirmation, AskQuestion, CompleteCheckIn, Ending, Escalate, RecordAnswer
from flows.engine import Answer, Transition, begin, step, unanswered
from flows.messages import say
from flows.schedule import Patient as PatientFacts
from flows.schedule import plan
from flows.state import CheckInState, Phase
from flows.triage import PastReading, options_for
from storage.answers import answers_for_episode, create_callback_tokens, record_answer, retire_callback_tokens
from storage.checkins import (
    OPEN_STATUSES,
    CheckInContext,
    checkins_for_episode,
    complete_checkin,
    mark_checkin_awaiting_reply,
    mark_unanswered,
    save_checkin_state,
)
from storage.enrolment import start_episode
from storage.escalations import raise_escalation
from storage.followup import pinned_protocol
from storage.messages import enqueue_message
from storage.models import CheckInStatus, Episode, EpisodeStatus, MessagePurpose, Patient, Priority
from storage.patients import end_episode, episodes_for_patient

CHECKIN_BUTTON = "c:"
CONFIRM_VALUE = "confirm:"
# What is kept of a long message (Telegram allows 4096 characters). All of it is screened for red flags first.
MAX_KEPT_TEXT = 2000
HISTORY_WINDOW = timedelta(hours=48)  # numeric answers the engine may compare with ("twice in 24 h")


@dataclass(kw_only=True)
class Conversation:
    clinic: Clinic
    staff: StaffAlerts
    _protocols: dict[str, ResolvedProtocol] = field(default_factory=dict)

    def protocol_for(self, session: Session, episode: Episode) -> ResolvedProtocol:
        """The exact protocol this episode was enrolled on (cached by digest: snapshots never change)."""
        if episode.protocol_digest not in self._protocols:
            self._protocols[episode.protocol_digest] = pinned_protocol(
                session=session, digest=episode.protocol_digest
            )
        return self._protocols[episode.protocol_digest]

    def resume(self, session: Session, patient: Patient, *, now: datetime) -> None:
        """A patient who stopped (or said no) says yes again: the check-ins still ahead of the latest
        episode are planned again, on the same pinned protocol, in a new episode (the stopped one stays as
        it was, for the record). Check-ins whose time went by while stopped are not sent late."""
        assert patient.id is not None
        episodes = episodes_for_patient(session=session, patient_id=patient.id)
        if not episodes:
            return
        latest = episodes[-1]
        assert latest.id is not None
        if any(
            c.status in OPEN_STATUSES for c in checkins_for_episode(session=session, episode_id=latest.id)
        ):
            return  # nothing was cancelled: the follow-up is still under way
        protocol = self.protocol_for(session, latest)
        ahead = [
            (p.checkin_id, p.due_at)
            for p in plan(
                protocol,
                performed_at=latest.performed_at,
                clinic=self.clinic,
                patient=PatientFacts(diabetic=patient.diabetic),
            )
            if p.due_at > now
        ]
        if not ahead:
            return
        actor = f"patient:{patient.reference}"
        # The patient is already linked to this chat, so the new episode's invite is born expired.
        start_episode(
            session=session,
            patient_id=patient.id,
            procedure_id=latest.procedure_id,
            protocol_version=latest.protocol_version,
            protocol_digest=latest.protocol_digest,
            performed_at=latest.performed_at,
            planned_checkins=ahead,
            invite_ttl=timedelta(0),
            now=now,
            actor=actor,
        )
        if latest.status == EpisodeStatus.ACTIVE:  # declined at the start: that episode had nothing left
            end_episode(
                session=session, episode_id=latest.id, status=EpisodeStatus.STOPPED, actor=actor, now=now
            )

    def begin_checkin(self, session: Session, ctx: CheckInContext, *, owner: str, now: datetime) -> None:
        protocol = self.protocol_for(session, ctx.episode)
        checkin = protocol.checkin(ctx.checkin.key)
        transition = begin(
            protocol,
            checkin.id,
            patient=PatientFacts(diabetic=ctx.patient.diabetic),
            day=checkin.day,
            history=self._history(session, ctx.episode, now=now),
            now=now,
        )
        assert ctx.checkin.id is not None
        if not mark_checkin_awaiting_reply(
            session=session,
            checkin_id=ctx.checkin.id,
            owner=owner,
            state_json=transition.state.to_json(),
            now=now,
        ):
            return  # another worker took this check-in over when our lease ran out
        self._apply(
            session, ctx, protocol, transition, now=now, opener="checkin.start", priority=Priority.ROUTINE
        )

    def answer(
        self, session: Session, ctx: CheckInContext, answer: Answer, *, now: datetime, inbound_id: int | None
    ) -> None:
        """Apply a reply. Raises flows.engine.IllegalStep (nothing changed) if it cannot apply."""
        protocol = self.protocol_for(session, ctx.episode)
        state = CheckInState.from_json(ctx.checkin.state_json or "")
        transition = step(protocol, state, answer, now=now)
        self._apply(
            session, ctx, protocol, transition, now=now, inbound_id=inbound_id, priority=Priority.REPLY
        )

    def close_unanswered(self, session: Session, ctx: CheckInContext, *, now: datetime) -> None:
        protocol = self.protocol_for(session, ctx.episode)
        state = CheckInState.from_json(ctx.checkin.state_json or "")
        assert ctx.checkin.id is not None
        if state.phase is Phase.COMPLETE:
            complete_checkin(session=session, checkin_id=ctx.checkin.id, state_json=state.to_json(), now=now)
            return
        transition = unanswered(protocol, state)
        mark_unanswered(session=session, checkin_id=ctx.checkin.id, now=now)
        self._record(session, ctx, transition, now=now, inbound_id=None)
        save_checkin_state(session=session, checkin_id=ctx.checkin.id, state_json=transition.state.to_json())

    def remind(self, session: Session, ctx: CheckInContext, *, now: datetime) -> None:
        """Ask the open question again, once, with a gentle reminder line first."""
        protocol = self.protocol_for(session, ctx.episode)
        state = CheckInState.from_json(ctx.checkin.state_json or "")
        question = state.current_question
        if question is None:
            return
        ask: AskQuestion | AskConfirmation
        if state.phase is Phase.CONFIRMING:
            ask = AskConfirmation(
                checkin_id=state.checkin_id, question_id=question, understood_as=state.unconfirmed_text or ""
            )
        else:
            ask = AskQuestion(
                checkin_id=state.checkin_id,
                question_id=question,
                options=options_for(protocol.question(question)),
            )
        self._apply(
            session,
            ctx,
            protocol,
            Transition(state=state, effects=(ask,)),
            now=now,
            opener="checkin.reminder",
            priority=Priority.ROUTINE,
        )

    def current_question(self, ctx: CheckInContext) -> tuple[str | None, Phase]:
        state = CheckInState.from_json(ctx.checkin.state_json or "")
        return state.current_question, state.phase

    # ------------------------------------------------------------------------------------------ internals

    def _apply(
        self,
        session: Session,
        ctx: CheckInContext,
        protocol: ResolvedProtocol,
        transition: Transition,
        *,
        now: datetime,
        priority: Priority,
        opener: str | None = None,
        inbound_id: int | None = None,
    ) -> None:
        """Record what the engine decided and queue its messages: urgent advice first in the outbox, the rest
        at ``priority`` (routine when the scheduler started it, a reply when the patient did)."""
        assert ctx.checkin.id is not None and ctx.patient.id is not None
        self._record(session, ctx, transition, now=now, inbound_id=inbound_id)
        complete = next((e for e in transition.effects if isinstance(e, CompleteCheckIn)), None)
        if complete is not None:
            complete_checkin(
                session=session, checkin_id=ctx.checkin.id, state_json=transition.state.to_json(), now=now
            )
        else:
            save_checkin_state(
                session=session, checkin_id=ctx.checkin.id, state_json=transition.state.to_json()
            )
        scene = Scene(
            clinic=self.clinic,
            now=now,
            name=ctx.patient.display_name,
            protocol=protocol,
            procedure_date=date_words(ctx.episode.performed_at, self.clinic),
            opener=opener,
        )
        if complete is not None and complete.ending is Ending.ANSWERED:
            scene.closing = self._closing_line(session, ctx, now=now)
        asking = next((e for e in transition.effects if isinstance(e, AskQuestion | AskConfirmation)), None)
        checkin_id = ctx.checkin.id

        prefix = CONFIRM_VALUE if isinstance(asking, AskConfirmation) else ""
        values = [value for value, _ in _buttons_of(asking)]
        tokens = (
            create_callback_tokens(
                session=session,
                checkin_id=checkin_id,
                question_id=asking.question_id,
                values=[prefix + value for value in values],
                now=now,
            )
            if asking is not None and values
            else {}
        )

        def button_data(value: str) -> str:
            return CHECKIN_BUTTON + tokens[prefix + value]

        chat_id = ctx.patient.telegram_chat_id
        if chat_id is None:
            return
        for message in render(transition.effects, scene, button_data):
            enqueue_message(
                session=session,
                chat_id=chat_id,
                text=message.text,
                patient_id=ctx.patient.id,
                purpose=MessagePurpose(message.purpose),
                priority=message.priority(otherwise=priority),
                reply_markup_json=message.markup_json(),
                now=now,
            )

    def _record(
        self,
        session: Session,
        ctx: CheckInContext,
        transition: Transition,
        *,
        now: datetime,
        inbound_id: int | None,
    ) -> None:
        assert ctx.patient.id is not None and ctx.episode.id is not None and ctx.checkin.id is not None
        answer_id: int | None = None
        for effect in transition.effects:
            if isinstance(effect, RecordAnswer):
                answer_id = record_answer(
                    session=session,
                    episode_id=ctx.episode.id,
                    question_id=effect.question_id,
                    text=effect.text[:MAX_KEPT_TEXT],
                    level=effect.level,
                    rule=effect.rule,
                    now=now,
                    checkin_id=ctx.checkin.id,
                    value_json=json.dumps(effect.value) if effect.value is not None else None,
                )
                retire_callback_tokens(
                    session=session, checkin_id=ctx.checkin.id, question_id=effect.question_id, now=now
                )
            elif isinstance(effect, Escalate):
                escalation = raise_escalation(
                    session=session,
                    patient_id=ctx.patient.id,
                    level=effect.level,
                    rule=effect.rule,
                    trigger_text=effect.trigger_text[:MAX_KEPT_TEXT],
                    now=now,
                    advice_id=effect.advice_id,
                    episode_id=ctx.episode.id,
                    checkin_id=ctx.checkin.id,
                    answer_id=answer_id,
                    inbound_message_id=inbound_id if answer_id is None else None,
                )
                self.staff.alert(session, escalation, now=now)

    def _history(self, session: Session, episode: Episode, *, now: datetime) -> tuple[PastReading, ...]:
        assert episode.id is not None
        readings = []
        for answer in answers_for_episode(session=session, episode_id=episode.id):
            if answer.answered_at < now - HISTORY_WINDOW or not answer.value_json:
                continue
            value = json.loads(answer.value_json).get("value")
            if isinstance(value, int | float) and not isinstance(value, bool):
                readings.append(
                    PastReading(question_id=answer.question_id, value=float(value), at=answer.answered_at)
                )
        return tuple(readings)

    def _closing_line(self, session: Session, ctx: CheckInContext, *, now: datetime) -> str:
        upcoming = next_checkin_time(session, ctx.episode, now=now)
        if upcoming is None:
            return say("checkin.done", name=ctx.patient.display_name)
        return say(
            "checkin.done_next",
            name=ctx.patient.display_name,
            next_checkin=when(upcoming, clinic=self.clinic, now=now),
        )


def next_checkin_time(session: Session, episode: Episode, *, now: datetime) -> datetime | None:
    assert episode.id is not None
    upcoming = [
        c.due_at
        for c in checkins_for_episode(session=session, episode_id=episode.id)
        if c.status == CheckInStatus.SCHEDULED and c.due_at > now
    ]
    return min(upcoming, default=None)


def _buttons_of(asking: AskQuestion | AskConfirmation | None) -> tuple[tuple[str, str], ...]:
    """The (value, label) buttons render will show for the question being asked."""
    if isinstance(asking, AskQuestion):
        return asking.options
    if isinstance(asking, AskConfirmation):
        return confirm_buttons()
    return ()
