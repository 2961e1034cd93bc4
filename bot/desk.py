"""What happens when someone writes to the bot: enrolment, answers, free text, commands, buttons, media.

Each method handles one inbound event inside the caller's transaction and queues its replies in the
outbox; it never talks to Telegram. Rules that hold for every path:
- A chat that is not enrolled learns nothing about anyone: it gets a short explanation.
- Every piece of text, from anyone enrolled, in any state (even opted out), goes through the red-flag
  safety net first. A red flag is never silenced by a state, a command or a stale button.
- Every input gets a reply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from bot.conversation import CHECKIN_BUTTON, CONFIRM_VALUE, MAX_KEPT_TEXT, Conversation, next_checkin_time
from bot.render import Button, Outgoing, Scene, info, layout, render
from bot.staff_alerts import escalation_for_ack
from bot.wording import date_words, days_words, usual_time, when
from flows.catalogue import bank_questions
from flows.clinic import Clinic
from flows.effects import AskQuestion, Effect, Escalate, GiveAdvice, RecordAnswer
from flows.engine import Answer, IllegalStep, answer_outside_checkin, assess, screen_message
from flows.levels import Level, worst
from flows.messages import say
from flows.protocol import Question
from flows.state import Phase
from flows.triage import UNSURE, read_option
from storage.answers import (
    answers_for_episode,
    mark_callback_token_used,
    record_answer,
    resolve_callback_token,
)
from storage.checkins import awaiting_checkin_context, checkin_context, checkins_for_episode
from storage.enrolment import RedeemOutcome, record_consent, redeem_invite
from storage.escalations import acknowledge_escalation, raise_escalation
from storage.messages import enqueue_message
from storage.models import (
    AckChannel,
    CheckInStatus,
    Episode,
    EpisodeStatus,
    MessagePurpose,
    Patient,
    PatientStatus,
    Priority,
)
from storage.patients import episodes_for_patient, opt_out_patient, patient_for_chat, set_patient_status

ASK_BUTTON = "a:"  # the safety net's question: "a:<question id>:<yes|no|unsure>", answered any time
ASK_WINDOW = timedelta(hours=24)  # a typed yes or no this soon after the question answers it

INVITE_MESSAGES = {
    RedeemOutcome.UNKNOWN: "invite.unknown",
    RedeemOutcome.USED: "invite.used",
    RedeemOutcome.EXPIRED: "invite.expired",
    RedeemOutcome.EPISODE_ENDED: "invite.ended",
    RedeemOutcome.CHAT_ALREADY_ENROLLED: "invite.other_patient",
}


@dataclass(kw_only=True)
class Desk:
    clinic: Clinic
    conversation: Conversation
    staff_chat_id: int | None = None

    # ------------------------------------------------------------------------------------------- patients

    def start(
        self, session: Session, *, chat_id: int, user_id: int | None, token: str | None, now: datetime
    ) -> None:
        """/start, with the invite token from the deep link or without (to resume)."""
        patient = patient_for_chat(session=session, chat_id=chat_id)
        if token:
            result = redeem_invite(session=session, token=token, chat_id=chat_id, user_id=user_id, now=now)
            if result.outcome is RedeemOutcome.OK and result.patient and result.episode:
                if result.patient.status == PatientStatus.ACTIVE:  # a new phone, consent given before
                    self._send(
                        session,
                        chat_id,
                        self._info("resumed", name=result.patient.display_name),
                        patient=result.patient,
                        now=now,
                    )
                    return
                self._welcome(session, result.patient, result.episode, now=now)
                return
            if result.outcome is RedeemOutcome.USED and result.patient is not None:
                patient = result.patient  # their own link again: carry on below as a plain /start
            else:
                self._send(session, chat_id, self._info(INVITE_MESSAGES[result.outcome]), now=now)
                return
        if patient is None:
            self._send(session, chat_id, self._info("not_enrolled"), now=now)
            return
        if patient.status in (PatientStatus.OPTED_OUT, PatientStatus.INVITED) or patient.consent_at is None:
            episode = self._episode(session, patient)
            if episode is not None:
                self._welcome(session, patient, episode, now=now)
                return
        if patient.status == PatientStatus.UNREACHABLE:
            set_patient_status(
                session=session,
                patient_id=_id(patient),
                status=PatientStatus.ACTIVE,
                actor=f"patient:{patient.reference}",
                now=now,
            )
        self._send(session, chat_id, self._greeting(session, patient, now=now), patient=patient, now=now)

    def consent(self, session: Session, *, chat_id: int, agreed: bool, now: datetime) -> str:
        patient = self._enrolled(session, chat_id, now=now)
        if patient is None:
            return ""
        if agreed and patient.consent_at is not None and patient.status == PatientStatus.ACTIVE:
            return "You have already said yes. Thank you."
        stopped_before = patient.status == PatientStatus.OPTED_OUT
        record_consent(session=session, patient_id=_id(patient), agreed=agreed, now=now)
        if agreed:
            if stopped_before:
                self.conversation.resume(session, patient, now=now)
            episode = self._episode(session, patient)
            upcoming = next_checkin_time(session, episode, now=now) if episode else None
            first = when(upcoming, clinic=self.clinic, now=now) if upcoming else "soon"
            self._send(
                session, chat_id, self._info("consent.given", first_checkin=first), patient=patient, now=now
            )
            return "Thank you"
        self._raise(session, patient, Level.AMBER, "amber.followup.declined", "(declined follow-up)", now=now)
        self._send(session, chat_id, self._info("consent.declined"), patient=patient, now=now)
        return "OK"

    def text(
        self, session: Session, *, chat_id: int, text: str, now: datetime, inbound_id: int | None
    ) -> None:
        # Usually a patient answering their open check-in: that, its episode and the patient in one query.
        ctx = awaiting_checkin_context(session=session, chat_id=chat_id)
        patient = ctx.patient if ctx is not None else patient_for_chat(session=session, chat_id=chat_id)
        if patient is None:
            self._not_enrolled(session, chat_id, text, now=now)
            return
        if not text.strip():  # nothing to read (Telegram trims spaces, not every control character)
            self._send(session, chat_id, self._info("emoji_only"), patient=patient, now=now)
            return
        # The whole message is screened and answered (a red flag near its end counts); only its start is kept.
        if ctx is not None and patient.status in (PatientStatus.ACTIVE, PatientStatus.PAUSED):
            self.conversation.answer(session, ctx, Answer(text=text), now=now, inbound_id=inbound_id)
            if len(text) > MAX_KEPT_TEXT:
                self._send(session, chat_id, self._info("too_long"), patient=patient, now=now)
            return
        self.free_text(session, patient, text, now=now, inbound_id=inbound_id)
        if len(text) > MAX_KEPT_TEXT:
            self._send(session, chat_id, self._info("too_long"), patient=patient, now=now)

    def free_text(
        self,
        session: Session,
        patient: Patient,
        text: str,
        *,
        now: datetime,
        inbound_id: int | None,
        after: str | None = None,
    ) -> None:
        """A message outside any check-in: screened; urgent advice and an escalation for red or amber, and
        the red-flag questions at once (as buttons) when it touches a red-flag area."""
        episode = self._episode(session, patient)
        pending = self._pending_asks(session, episode, now=now)
        if pending and self._typed_reply_to_asks(session, patient, pending, text, now=now):
            return
        effects = screen_message(text)
        level = worst(*(e.level for e in effects if isinstance(e, GiveAdvice)))
        asks = [e for e in effects if isinstance(e, AskQuestion)]
        if episode is not None:
            rules = [e.rule for e in effects if isinstance(e, Escalate)]
            record_answer(
                session=session,
                episode_id=_id(episode),
                question_id="free_text",
                text=text[:MAX_KEPT_TEXT],
                level=level,
                rule=rules[0] if rules else ("ask.free_text" if asks else "green.free_text.no_concern"),
                now=now,
                value_json=_why_asked(asks),
            )
        self._escalate_all(session, patient, episode, effects, now=now, inbound_id=inbound_id)
        if level is not Level.GREEN or asks:
            # The red-flag questions go in messages of their own, each with its own buttons.
            advice = tuple(e for e in effects if not isinstance(e, AskQuestion))
            self._render_and_send(session, patient, advice, episode, now=now)
            for ask in asks:
                self._send_ask(session, patient, ask, now=now)
            return
        if after is not None:
            message_id = after
        elif patient.status == PatientStatus.OPTED_OUT:
            message_id = "stopped.reminder"
        elif patient.consent_at is None:
            message_id = "consent.needed"
        elif not any(ch.isalnum() for ch in text):
            message_id = "emoji_only"
        else:
            message_id = "free_text.received"
        if message_id == "free_text.received":
            reply = info(say(message_id) + "\n" + self._contact_text(now), clinic=self.clinic.short_name)
        else:
            reply = self._info(message_id)
        self._send(session, _chat(patient), reply, patient=patient, now=now)

    def button(
        self, session: Session, *, chat_id: int, data: str, now: datetime, inbound_id: int | None
    ) -> str:
        """An inline button was pressed. Returns the short notice Telegram shows (answerCallbackQuery)."""
        if data in ("consent:yes", "consent:no"):
            return self.consent(session, chat_id=chat_id, agreed=data == "consent:yes", now=now)
        if data in ("stop:yes", "stop:no"):
            return self.stop_choice(session, chat_id=chat_id, confirmed=data == "stop:yes", now=now)
        if data.startswith(ASK_BUTTON):
            question_id, _, value = data[len(ASK_BUTTON) :].rpartition(":")
            return self._ask_button(session, chat_id=chat_id, question_id=question_id, value=value, now=now)
        if data.startswith(CHECKIN_BUTTON):
            return self._checkin_button(
                session, chat_id=chat_id, token=data[len(CHECKIN_BUTTON) :], now=now, inbound_id=inbound_id
            )
        return say("button.stale")

    def _checkin_button(
        self, session: Session, *, chat_id: int, token: str, now: datetime, inbound_id: int | None
    ) -> str:
        patient = patient_for_chat(session=session, chat_id=chat_id)
        callback = resolve_callback_token(session=session, token=token)
        if patient is None or callback is None:
            return say("button.stale")
        ctx = checkin_context(session=session, checkin_id=callback.checkin_id)
        if ctx is None or ctx.patient.id != patient.id:  # a button from someone else's chat: reveal nothing
            return say("button.stale")
        question, phase = self.conversation.current_question(ctx) if ctx.checkin.state_json else (None, None)
        confirming = callback.value.startswith(CONFIRM_VALUE)
        if (
            ctx.checkin.status != CheckInStatus.AWAITING_REPLY  # e.g. cancelled by /stop: never restarted
            or callback.used_at is not None
            or question != callback.question_id
            or confirming != (phase is Phase.CONFIRMING)
        ):
            # A late or repeated tap on an old question is still graded and acted on ("Yes, getting worse"
            # under yesterday's numbness question must not be dropped).
            if not confirming:
                protocol = self.conversation.protocol_for(session, ctx.episode)
                if callback.question_id in protocol.questions and self._answer_outside_checkin(
                    session,
                    ctx.patient,
                    protocol.question(callback.question_id),
                    callback.value,
                    now=now,
                    checkin_id=ctx.checkin.id,
                ):
                    return "Thank you"
            return say("checkin.closed")
        if not mark_callback_token_used(session=session, token_id=_id(callback), now=now):
            return say("checkin.closed")
        value = callback.value[len(CONFIRM_VALUE) :] if confirming else callback.value
        try:
            self.conversation.answer(session, ctx, Answer(option=value), now=now, inbound_id=inbound_id)
        except IllegalStep:
            return say("checkin.closed")
        return "Thank you"

    def command(self, session: Session, *, chat_id: int, name: str, now: datetime) -> None:
        """/help, /contact, /advice and /stop. Enrolled or not, these reveal nothing personal."""
        patient = patient_for_chat(session=session, chat_id=chat_id)
        if name == "contact":
            self._send(
                session,
                chat_id,
                info(self._contact_text(now), clinic=self.clinic.short_name),
                patient=patient,
                now=now,
            )
        elif name == "advice":
            self._send(session, chat_id, self._info("advice"), patient=patient, now=now)
        elif name == "stop" and patient is not None and patient.status != PatientStatus.OPTED_OUT:
            buttons = (
                (
                    Button(label=say("stop.yes"), data="stop:yes"),
                    Button(label=say("stop.no"), data="stop:no"),
                ),
            )
            self._send(
                session, chat_id, self._info("stop.confirm", buttons=buttons), patient=patient, now=now
            )
        elif name == "stop" and patient is not None:
            self._send(session, chat_id, self._info("stopped.reminder"), patient=patient, now=now)
        elif name == "stop":
            self._send(session, chat_id, self._info("not_enrolled"), now=now)
        else:
            self._send(session, chat_id, self._info("help"), patient=patient, now=now)

    def stop_choice(self, session: Session, *, chat_id: int, confirmed: bool, now: datetime) -> str:
        patient = patient_for_chat(session=session, chat_id=chat_id)
        if patient is None:
            return say("button.stale")
        if not confirmed:
            self._send(session, chat_id, self._info("stop.kept"), patient=patient, now=now)
            return "OK"
        if patient.status == PatientStatus.OPTED_OUT:
            return "Your check-ins are already stopped."
        opt_out_patient(
            session=session, patient_id=_id(patient), actor=f"patient:{patient.reference}", now=now
        )
        self._raise(session, patient, Level.AMBER, "amber.followup.opted_out", "/stop", now=now)
        self._send(session, chat_id, self._info("stop.done"), patient=patient, now=now)
        return "Stopped"

    def media(
        self,
        session: Session,
        *,
        chat_id: int,
        kind: str,
        caption: str | None,
        now: datetime,
        inbound_id: int | None,
    ) -> None:
        """A photo, sticker, voice note: we cannot read them, so we say so kindly; a caption is screened."""
        patient = self._enrolled(session, chat_id, now=now)
        if patient is None:
            return
        message_id = "media.voice" if kind in ("voice", "audio", "video_note") else "media.unsupported"
        if caption and caption.strip():
            self.free_text(session, patient, caption, now=now, inbound_id=inbound_id, after=message_id)
            return
        self._send(session, chat_id, self._info(message_id), patient=patient, now=now)

    def edited(
        self, session: Session, *, chat_id: int, text: str, now: datetime, inbound_id: int | None
    ) -> None:
        """An edited message is screened again (a red flag added in an edit counts), never re-answered."""
        patient = self._enrolled(session, chat_id, now=now)
        if patient is None:
            return
        self.free_text(session, patient, text, now=now, inbound_id=inbound_id, after="edited")

    def blocked(self, session: Session, *, chat_id: int, now: datetime) -> None:
        """The patient blocked the bot: they cannot be reached; staff must know (silence can mean unwell)."""
        patient = patient_for_chat(session=session, chat_id=chat_id)
        if patient is None or patient.status in (PatientStatus.UNREACHABLE, PatientStatus.OPTED_OUT):
            return
        set_patient_status(
            session=session,
            patient_id=_id(patient),
            status=PatientStatus.UNREACHABLE,
            actor=f"patient:{patient.reference}",
            now=now,
        )
        self._raise(
            session, patient, Level.AMBER, "amber.unreachable.blocked_bot", "(blocked the bot)", now=now
        )

    # ------------------------------------------------------------------------------------------- staff

    def staff_acknowledge(
        self, session: Session, *, chat_id: int, user_id: int, data: str, now: datetime
    ) -> str:
        if self.staff_chat_id is None or chat_id != self.staff_chat_id:
            return say("button.stale")
        escalation = escalation_for_ack(session, data)
        if escalation is None or escalation.id is None:
            return "Sorry, that escalation was not found."
        if escalation.acknowledged_at is not None:
            return "Already acknowledged."
        acknowledge_escalation(
            session=session,
            escalation_id=escalation.id,
            staff_id=None,
            via=AckChannel.TELEGRAM,
            now=now,
            actor=f"telegram:{user_id}",
        )
        return "Acknowledged. Please close it in the console once you have acted."

    # ------------------------------------------------------------------------------- ask when unsure

    def _send_ask(self, session: Session, patient: Patient, ask: AskQuestion, *, now: datetime) -> None:
        """A red-flag question the safety net asks at once, outside any check-in, with its own buttons."""
        question = bank_questions()[ask.question_id]
        buttons = layout(ask.options, lambda value: f"{ASK_BUTTON}{question.id}:{value}")
        body = say("ask.intro") + "\n\n" + question.text.strip()
        self._send(
            session,
            _chat(patient),
            info(body, clinic=self.clinic.short_name, buttons=buttons),
            patient=patient,
            now=now,
        )

    def _ask_button(
        self, session: Session, *, chat_id: int, question_id: str, value: str, now: datetime
    ) -> str:
        patient = patient_for_chat(session=session, chat_id=chat_id)
        question = bank_questions().get(question_id)
        if patient is None or question is None or read_option(question, value) is None:
            return say("button.stale")  # someone else's or a forged button: reveal nothing
        self._answer_outside_checkin(session, patient, question, value, now=now, checkin_id=None)
        return "Thank you"

    def _pending_asks(self, session: Session, episode: Episode | None, *, now: datetime) -> list[str]:
        """The questions the safety net asked with the patient's last message, if nothing has come since."""
        if episode is None:
            return []
        answers = answers_for_episode(session=session, episode_id=_id(episode))
        last = answers[-1] if answers else None
        if (
            last is None
            or last.rule != "ask.free_text"
            or not last.value_json
            or now - last.answered_at > ASK_WINDOW
        ):
            return []
        return [q for q in json.loads(last.value_json).get("asks", []) if q in bank_questions()]

    def _typed_reply_to_asks(
        self,
        session: Session,
        patient: Patient,
        pending: list[str],
        text: str,
        *,
        now: datetime,
    ) -> bool:
        """A short typed yes, no or not sure after the safety net's question answers it (all of them, when it
        asked several: a yes escalates each). Anything longer is a new message, screened as usual."""
        if len(text.split()) > 8:
            return False
        # Read as the bot reads any answer to a red-flag question (hedges are unsure, a "no" with news is
        # a no only when the safety net finds nothing in the news).
        bank = bank_questions()
        verdict = assess(text, question=bank[pending[0]], now=now)
        read = UNSURE if verdict.problem == "yes_no.unsure" else verdict.value
        if not isinstance(read, bool) and read != UNSURE:
            return False
        value = UNSURE if read == UNSURE else "yes" if read else "no"
        for question_id in pending:
            question = bank[question_id]
            # A question without a "Not sure" button (the pain one) takes a hedge as its "yes", the answer
            # that needs help: "not sure" is never a clean no, and this is no time to ask a third time.
            given = value if read_option(question, value) is not None else "yes"
            self._answer_outside_checkin(
                session, patient, question, given, now=now, checkin_id=None, said=text
            )
        return True

    def _answer_outside_checkin(
        self,
        session: Session,
        patient: Patient,
        question: Question,
        value: str,
        *,
        now: datetime,
        checkin_id: int | None,
        said: str | None = None,
    ) -> bool:
        """An answer given outside a running check-in (the safety net's question, a late tap): graded like any
        answer; red or amber gets its advice and an escalation, a no gets a short thank you. False when there
        was nothing to act on (a late tap that needs nothing)."""
        episode = self._episode(session, patient)
        if episode is None or read_option(question, value) is None:
            return False
        day = max(0, (now - episode.performed_at).days)
        effects = answer_outside_checkin(question, value, day=day, said=said, now=now)
        record = next(e for e in effects if isinstance(e, RecordAnswer))
        if record.level is Level.GREEN and checkin_id is not None:
            return False  # a late "no" to a check-in question: nothing new to act on or keep
        record_answer(
            session=session,
            episode_id=_id(episode),
            question_id=record.question_id,
            text=record.text[:MAX_KEPT_TEXT],
            level=record.level,
            rule=record.rule,
            now=now,
            checkin_id=checkin_id,
            value_json=json.dumps(record.value),
        )
        if record.level is Level.GREEN:
            self._send(session, _chat(patient), self._info("ask.no"), patient=patient, now=now)
            return True
        self._escalate_all(session, patient, episode, effects, now=now, inbound_id=None)
        self._render_and_send(session, patient, effects, episode, now=now)
        return True

    def _not_enrolled(self, session: Session, chat_id: int, text: str, *, now: datetime) -> None:
        """A chat that is not enrolled: urgent advice if the message needs it (no patient data: there is
        none to give), then how the service works."""
        effects = tuple(e for e in screen_message(text) if isinstance(e, GiveAdvice))
        scene = Scene(clinic=self.clinic, now=now, name="")
        for message in render(effects, scene, lambda value: ""):
            self._send(session, chat_id, message, now=now)
        self._send(session, chat_id, self._info("not_enrolled"), now=now)

    # ------------------------------------------------------------------------------------------- helpers

    def _enrolled(self, session: Session, chat_id: int, *, now: datetime) -> Patient | None:
        """The chat's patient; a chat that is not enrolled gets the short explanation (and learns nothing)."""
        patient = patient_for_chat(session=session, chat_id=chat_id)
        if patient is None:
            self._send(session, chat_id, self._info("not_enrolled"), now=now)
        return patient

    def _welcome(self, session: Session, patient: Patient, episode: Episode, *, now: datetime) -> None:
        protocol = self.conversation.protocol_for(session, episode)
        planned = [c for c in checkins_for_episode(session=session, episode_id=_id(episode))]
        days = [protocol.checkin(c.key).day for c in planned]
        weeks = max(1, -(-max(days, default=7) // 7))
        buttons = (
            (
                Button(label=say("consent.yes"), data="consent:yes"),
                Button(label=say("consent.no"), data="consent:no"),
            ),
        )
        message = self._info(
            "welcome",
            name=patient.display_name,
            procedure=protocol.procedure_words,
            weeks=weeks,
            usual_time=usual_time([c.due_at for c in planned], self.clinic),
            days=days_words(days),
            buttons=buttons,
        )
        self._send(session, _chat(patient), message, patient=patient, now=now)

    def _greeting(self, session: Session, patient: Patient, *, now: datetime) -> Outgoing:
        episode = self._episode(session, patient)
        upcoming = next_checkin_time(session, episode, now=now) if episode else None
        if patient.status == PatientStatus.PAUSED or upcoming is None:
            return self._info("no_more_checkins", name=patient.display_name)
        return self._info(
            "already_active",
            name=patient.display_name,
            next_checkin=when(upcoming, clinic=self.clinic, now=now),
        )

    def _contact_text(self, now: datetime) -> str:
        key = "contact.open" if self.clinic.is_open(now) else "contact.closed"
        return say(
            key,
            clinic=self.clinic.short_name,
            clinic_phone=self.clinic.phone,
            office_hours=self.clinic.office_hours_text(),
            ed=self.clinic.emergency_department,
        )

    def _info(
        self, message_id: str, *, buttons: tuple[tuple[Button, ...], ...] = (), **values: object
    ) -> Outgoing:
        base = {
            "clinic": self.clinic.short_name,
            "clinic_phone": self.clinic.phone,
            "ed": self.clinic.emergency_department,
        }
        return info(say(message_id, **{**base, **values}), clinic=self.clinic.short_name, buttons=buttons)

    def _episode(self, session: Session, patient: Patient) -> Episode | None:
        episodes = episodes_for_patient(session=session, patient_id=_id(patient))
        active = [e for e in episodes if e.status == EpisodeStatus.ACTIVE]
        chosen = active or episodes
        return chosen[-1] if chosen else None

    def _raise(
        self, session: Session, patient: Patient, level: Level, rule: str, trigger: str, *, now: datetime
    ) -> None:
        episode = self._episode(session, patient)
        escalation = raise_escalation(
            session=session,
            patient_id=_id(patient),
            level=level,
            rule=rule,
            trigger_text=trigger,
            now=now,
            episode_id=episode.id if episode else None,
        )
        self.conversation.staff.alert(session, escalation, now=now)

    def _escalate_all(
        self,
        session: Session,
        patient: Patient,
        episode: Episode | None,
        effects: tuple[Effect, ...],
        *,
        now: datetime,
        inbound_id: int | None,
    ) -> None:
        for effect in effects:
            if isinstance(effect, Escalate):
                escalation = raise_escalation(
                    session=session,
                    patient_id=_id(patient),
                    level=effect.level,
                    rule=effect.rule,
                    trigger_text=effect.trigger_text[:MAX_KEPT_TEXT],
                    now=now,
                    advice_id=effect.advice_id,
                    episode_id=episode.id if episode else None,
                    inbound_message_id=inbound_id,
                )
                self.conversation.staff.alert(session, escalation, now=now)

    def _render_and_send(
        self,
        session: Session,
        patient: Patient,
        effects: tuple[Effect, ...],
        episode: Episode | None,
        *,
        now: datetime,
    ) -> None:
        protocol = self.conversation.protocol_for(session, episode) if episode else None
        scene = Scene(
            clinic=self.clinic,
            now=now,
            name=patient.display_name,
            protocol=protocol,
            procedure_date=date_words(episode.performed_at, self.clinic) if episode else "",
        )
        for message in render(effects, scene, lambda value: ""):
            self._send(session, _chat(patient), message, patient=patient, now=now)

    def _send(
        self,
        session: Session,
        chat_id: int,
        message: Outgoing,
        *,
        now: datetime,
        patient: Patient | None = None,
    ) -> None:
        enqueue_message(
            session=session,
            chat_id=chat_id,
            text=message.text,
            now=now,
            purpose=MessagePurpose.ADVICE if message.urgent else MessagePurpose.REPLY,
            priority=message.priority(otherwise=Priority.REPLY),  # every desk message answers someone
            patient_id=patient.id if patient else None,
            reply_markup_json=message.markup_json(),
        )


def _why_asked(asks: list[AskQuestion]) -> str | None:
    """What the safety net asked and why (its ask ids; the model's strongest words when it was the model)."""
    if not asks:
        return None
    return json.dumps(
        {
            "asks": [a.question_id for a in asks],
            "asked_because": list(asks[0].asked_because),
            "model_terms": list(asks[0].model_terms),
        }
    )


def _id(row: object) -> int:
    value = getattr(row, "id", None)
    assert isinstance(value, int)
    return value


def _chat(patient: Patient) -> int:
    assert patient.telegram_chat_id is not None
    return patient.telegram_chat_id
