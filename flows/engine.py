"""The check-in engine: a pure state machine from (protocol, state, answer, now) to (state, effects).

Rules of this module, in the manner of h11's state machine:
- No I/O and no clock. ``now`` is an argument; state is a frozen value; effects are values (flows.effects).
- Illegal input raises ``IllegalStep`` and leaves the state as it was (it is immutable; nothing is half-done).
- Never a guess: an unreadable answer is asked again with a hint; after ``MAX_TRIES`` a red-flag question
  that is still unclear is escalated to staff with safety advice. It is never read as "no".
- Every typed reply also goes through the free-text safety net (flows.screening), whatever was asked: "no,
  but I can't feel my bottom when I wipe" to a pain question still raises the cauda equina card.
- A red outcome stops the check-in at once: urgent advice, the escalation, no more routine questions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from flows.catalogue import ResolvedProtocol, bank_questions
from flows.effects import (
    AskConfirmation,
    AskQuestion,
    CompleteCheckIn,
    Effect,
    Ending,
    Escalate,
    GiveAdvice,
    RecordAnswer,
    SendEducation,
)
from flows.levels import Level
from flows.parsers.problems import UNDERSTOOD_WITHOUT_A_NUMBER
from flows.protocol import Question, QuestionKind
from flows.schedule import Patient, applies, applies_education, applies_questions
from flows.screening import Screening, screen
from flows.state import CheckInState, Pending, Phase, Recorded
from flows.triage import (
    UNSURE,
    Grade,
    PastReading,
    Reading,
    ReadResult,
    Value,
    grade,
    options_for,
    read_option,
    read_text,
)

MAX_TRIES = 3  # the first ask and two kind re-asks; then a red-flag question is escalated, never guessed


class IllegalStep(ValueError):
    """The answer cannot be applied to this state (closed check-in, forged button, empty text...)."""


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A patient's reply: typed text, or the value of a button they pressed (exactly one)."""

    text: str | None = None
    option: str | None = None


@dataclass(frozen=True, kw_only=True)
class Transition:
    state: CheckInState
    effects: tuple[Effect, ...]


def begin(
    protocol: ResolvedProtocol,
    checkin_id: str,
    *,
    patient: Patient,
    day: int,
    history: Sequence[PastReading] = (),
    now: datetime,
) -> Transition:
    """Start a check-in: its education messages, then its first question."""
    _require_aware(now)
    checkin = protocol.checkin(checkin_id)
    queue = tuple(Pending(question_id=q) for q in applies_questions(protocol, checkin, patient))
    state = CheckInState(
        protocol_id=protocol.id,
        protocol_version=protocol.version,
        checkin_id=checkin_id,
        day=day,
        diabetic=patient.diabetic,
        phase=Phase.ASKING,
        queue=queue,
        history=tuple(history),
    )
    effects: list[Effect] = [
        SendEducation(message_id=m) for m in applies_education(protocol, checkin, patient)
    ]
    return _continue(protocol, state, effects)


def step(protocol: ResolvedProtocol, state: CheckInState, answer: Answer, *, now: datetime) -> Transition:
    """Apply one reply to the question being asked."""
    _require_aware(now)
    if (protocol.id, protocol.version) != (state.protocol_id, state.protocol_version):
        raise IllegalStep(f"state belongs to {state.protocol_id} v{state.protocol_version}")
    if state.phase is Phase.COMPLETE or not state.queue:
        raise IllegalStep("this check-in is closed")
    if (answer.text is None) == (answer.option is None):
        raise IllegalStep("an answer is either typed text or a pressed button")
    if answer.text is not None and not answer.text.strip():
        raise IllegalStep("an empty message is not an answer")
    question = protocol.question(state.queue[0].question_id)
    if state.phase is Phase.CONFIRMING:
        return _confirm(protocol, state, question, answer, now=now)

    effects: list[Effect] = []
    said = answer.text if answer.text is not None else _label(question, answer.option)
    if answer.option is not None:
        reading = read_option(question, answer.option)
        if reading is None:
            raise IllegalStep("that button does not belong to this question")
        return _apply(protocol, state, question, reading, said, effects, now=now)

    assert answer.text is not None
    found = screen(answer.text)
    screened = _screen_effects(found, answer.text, question_id=question.id)
    result = _red_flag_reading(question, read_text(question, answer.text), found)
    asking = _new_asks(protocol, state, _asks_for_answer(found, answered=_understood_answer(result)))
    if result.reading is None:
        if asking and not _stops_for_red(screened):
            # The reply touched a red-flag area: those questions first, then this one again.
            return _continue(protocol, replace(state, queue=asking + state.queue), screened)
        return _unclear(protocol, state, question, said, result.problem or "unreadable", screened)
    if result.needs_confirmation:
        effects += screened
        confirm = replace(
            state, phase=Phase.CONFIRMING, unconfirmed=result.reading.as_json(), unconfirmed_text=said
        )
        effects.append(
            AskConfirmation(
                checkin_id=state.checkin_id,
                question_id=question.id,
                understood_as=_understood(question, result.reading, said),
            )
        )
        return Transition(state=confirm, effects=_ordered(effects))
    return _apply(
        protocol, state, question, result.reading, said, effects, now=now, asking=asking, screened=screened
    )


def unanswered(protocol: ResolvedProtocol, state: CheckInState) -> Transition:
    """Close a check-in the patient did not finish. Silence on a red-flag screen is raised to staff."""
    if state.phase is Phase.COMPLETE:
        raise IllegalStep("this check-in is closed")
    checkin = protocol.checkin(state.checkin_id)
    effects: list[Effect] = []
    outcome = checkin.unanswered
    if outcome is not None:
        if outcome.raises_escalation:
            effects.append(
                Escalate(
                    level=outcome.level,
                    rule=outcome.rule,
                    advice_id=None,
                    question_id=None,
                    trigger_text="(no reply)",
                )
            )
    elif any(protocol.question(p.question_id).red_flag_screen for p in state.queue):
        effects.append(
            Escalate(
                level=Level.AMBER,
                rule="amber.unanswered.red_flag_screen",
                advice_id=None,
                question_id=state.queue[0].question_id,
                trigger_text="(no reply)",
            )
        )
    effects.append(CompleteCheckIn(checkin_id=state.checkin_id, ending=Ending.UNANSWERED))
    return Transition(state=replace(state, phase=Phase.COMPLETE, queue=()), effects=tuple(effects))


@dataclass(frozen=True, kw_only=True)
class Assessment:
    """How one message is graded, wherever it arrives: as free text, as an answer, in the triage tool."""

    level: Level  # the worst of the question's own reading and the safety net's
    rules: tuple[str, ...]  # the question's rule first (if it was read), then the safety net's findings
    advice: tuple[str, ...]  # the advice cards the patient gets, most urgent first (one coherent reply)
    asks: tuple[str, ...]  # red-flag questions the bot asks at once
    asked_because: tuple[str, ...] = ()  # the ask ids that chose them ("ask.legs", "ask.model"...)
    model_terms: tuple[str, ...] = ()  # when the statistical layer asked: what pushed it towards red
    value: Value = None  # what the question's parser read, if anything
    problem: str | None = None  # why it could not be read, or "needs_confirmation"


def assess(
    text: str,
    *,
    question: Question | None = None,
    day: int = 1,
    history: Sequence[PastReading] = (),
    now: datetime,
) -> Assessment:
    """Grade ``text`` as the bot would: as free text, or as the answer to ``question``. The check-in engine
    (``step``) reaches the same level for the same text: tests/flows/test_one_grading.py holds them to it."""
    found = screen(text)
    findings = [f for f in found.findings if f.level is not Level.GREEN]
    asks = found.asks
    rules = [f.rule for f in findings]
    advice: list[tuple[Level, str]] = [(f.level, f.advice) for f in findings]
    level, value, problem = found.level, None, None
    if question is not None:
        result = _red_flag_reading(question, read_text(question, text), found)
        asks = _asks_for_answer(found, answered=_understood_answer(result))
        if result.reading is None:
            problem = result.problem
        else:
            graded = grade(question, result.reading, day=day, history=history, now=now)
            level, value = max(level, graded.level), result.reading.value
            rules.insert(0, graded.rule)
            if graded.advice:
                advice.insert(0, (graded.level, graded.advice))
            problem = "needs_confirmation" if result.needs_confirmation else None
    asks = tuple(q for q in asks if question is None or q != question.id)
    if level is Level.RED:
        asks = ()
        advice = [a for a in advice if a[0] is Level.RED]
    ordered = [a for _, a in sorted(advice, key=lambda a: a[0].rank, reverse=True)]
    return Assessment(
        level=level,
        rules=tuple(rules),
        advice=tuple(dict.fromkeys(ordered)),
        asks=asks,
        asked_because=found.ask_rules if asks else (),
        model_terms=found.model_reasons if set(asks) & set(found.model_asks) else (),
        value=value,
        problem=problem,
    )


def answer_outside_checkin(
    question: Question, option: str, *, day: int, said: str | None = None, now: datetime
) -> tuple[Effect, ...]:
    """A button pressed (or a yes/no typed) for a question no check-in is waiting on: the safety net's
    question, or a late or repeated tap under an old one. Graded like any answer: the answer is recorded, and
    red or amber gets its advice and an escalation. Raises IllegalStep for a value the question does not
    offer."""
    _require_aware(now)
    reading = read_option(question, option)
    if reading is None:
        raise IllegalStep("that button does not belong to this question")
    graded = grade(question, reading, day=day, now=now)
    label = said or _label(question, option)
    effects: list[Effect] = [
        RecordAnswer(
            checkin_id=None,
            question_id=question.id,
            text=label,
            value=reading.as_json(),
            level=graded.level,
            rule=graded.rule,
        )
    ]
    if graded.level is not Level.GREEN:
        if graded.advice:
            effects.append(GiveAdvice(advice_id=graded.advice, level=graded.level, rule=graded.rule))
        effects.append(
            Escalate(
                level=graded.level,
                rule=graded.rule,
                advice_id=graded.advice,
                question_id=question.id,
                trigger_text=f"{question.text.strip()} -> {label}",
            )
        )
    return _ordered(effects)


def screen_message(text: str) -> tuple[Effect, ...]:
    """Free text outside a check-in: advice and escalation for any amber or red finding, and the red-flag
    questions to ask at once (AskQuestion, with no check-in) when it touches a red-flag area."""
    found = screen(text)
    effects = _screen_effects(found, text, question_id=None)
    bank = bank_questions()
    effects += [
        AskQuestion(
            checkin_id="",
            question_id=q,
            options=options_for(bank[q]),
            asked_because=found.ask_rules,
            model_terms=found.model_reasons,
        )
        for q in found.asks
        if q in bank
    ]
    return _ordered(effects)


# --------------------------------------------------------------------------------------------- internals


def _apply(
    protocol: ResolvedProtocol,
    state: CheckInState,
    question: Question,
    reading: Reading,
    said: str,
    effects: list[Effect],
    *,
    now: datetime,
    asking: tuple[Pending, ...] = (),
    screened: Sequence[Effect] = (),
) -> Transition:
    result = grade(question, reading, day=state.day, history=state.history, now=now)
    # The answer is graded by the question; the safety net adds what this grade and its follow-ups do not
    # already deal with at the same level or worse ("yes, my left leg gives way" is escalated once, but
    # "sugar 14.2", green for the question, still gets the safety net's amber).
    handled = _advice_handled_by(protocol, question.id, grade=result)
    effects += [
        e
        for e in screened
        if not (isinstance(e, GiveAdvice | Escalate) and e.advice_id in handled and e.level <= result.level)
    ]
    effects.append(
        RecordAnswer(
            checkin_id=state.checkin_id,
            question_id=question.id,
            text=said,
            value=reading.as_json(),
            level=result.level,
            rule=result.rule,
        )
    )
    given = {e.advice_id for e in effects if isinstance(e, GiveAdvice)}
    if result.advice is not None and result.advice not in given:
        effects.append(GiveAdvice(advice_id=result.advice, level=result.level, rule=result.rule))
    if result.escalate:
        effects.append(
            Escalate(
                level=result.level,
                rule=result.rule,
                advice_id=result.advice,
                question_id=question.id,
                trigger_text=said,
            )
        )
    history = state.history
    if isinstance(reading.value, int | float) and not isinstance(reading.value, bool):
        history = (*history, PastReading(question_id=question.id, value=float(reading.value), at=now))
    parent_level = max(result.level, state.queue[0].parent_level or Level.GREEN)
    follow_ups = tuple(
        Pending(question_id=q, parent_level=parent_level)
        for q in result.then
        if applies(protocol, q, Patient(diabetic=state.diabetic))
    )
    recorded = Recorded(question_id=question.id, level=result.level, rule=result.rule)
    state = replace(
        state,
        phase=Phase.ASKING,
        queue=asking + follow_ups + state.queue[1:],
        tries=0,
        unconfirmed=None,
        unconfirmed_text=None,
        answered=(*state.answered, recorded),
        history=history,
    )
    return _continue(protocol, state, effects)


def _unclear(
    protocol: ResolvedProtocol,
    state: CheckInState,
    question: Question,
    said: str,
    problem: str,
    effects: list[Effect],
) -> Transition:
    if _stops_for_red(effects):
        return _stop_for_red_text(protocol, state, question, said, effects)
    tries = state.tries + 1
    if tries < MAX_TRIES:
        if question.red_flag_screen and problem == "yes_no.unsure":
            problem = "engine.unsure_red_flag"
        effects.append(
            AskQuestion(
                checkin_id=state.checkin_id,
                question_id=question.id,
                options=options_for(question),
                reask_problem=problem,
            )
        )
        return Transition(state=replace(state, tries=tries), effects=_ordered(effects))
    parent = state.queue[0].parent_level or Level.GREEN
    effects.append(
        RecordAnswer(
            checkin_id=state.checkin_id,
            question_id=question.id,
            text=said,
            value=None,
            level=max(parent, Level.AMBER) if question.red_flag_screen else Level.GREEN,
            rule=f"unclear.{question.id}",
        )
    )
    if question.red_flag_screen or parent >= Level.AMBER:
        level = max(parent, Level.AMBER)
        rule = f"{level.value}.unclear.{question.id}"
        effects.append(GiveAdvice(advice_id="amber.unclear", level=Level.AMBER, rule=rule))
        effects.append(
            Escalate(
                level=level, rule=rule, advice_id="amber.unclear", question_id=question.id, trigger_text=said
            )
        )
    state = replace(state, queue=state.queue[1:], tries=0)
    return _continue(protocol, state, effects)


def _confirm(
    protocol: ResolvedProtocol, state: CheckInState, question: Question, answer: Answer, *, now: datetime
) -> Transition:
    yes_no = protocol_free_yes_no()
    if answer.option is not None:
        confirmed = read_option(yes_no, answer.option)
        if confirmed is None:
            raise IllegalStep("that button does not belong to this question")
    else:
        assert answer.text is not None
        effects = _screen_effects(screen(answer.text), answer.text, question_id=question.id)
        confirmed = read_text(yes_no, answer.text).reading
        if _stops_for_red(effects):
            return _stop_for_red_text(protocol, state, question, answer.text, effects)
        if confirmed is None:
            effects.append(
                AskConfirmation(
                    checkin_id=state.checkin_id,
                    question_id=question.id,
                    understood_as=state.unconfirmed_text or "",
                )
            )
            return Transition(state=state, effects=_ordered(effects))
    assert state.unconfirmed is not None
    if confirmed.value is True:
        meters: dict[object, Literal["high", "low"]] = {"high": "high", "low": "low"}
        stored = state.unconfirmed
        value, earlier = stored["value"], stored.get("earlier")
        assert not isinstance(value, list)  # only "earlier" holds a list
        reading = Reading(
            value=value,
            meter=meters.get(stored.get("meter")),
            feels_feverish=bool(stored.get("feels_feverish")),
            earlier=tuple(earlier) if isinstance(earlier, list) else (),
        )
        return _apply(protocol, state, question, reading, state.unconfirmed_text or "", [], now=now)
    retry = replace(state, phase=Phase.ASKING, unconfirmed=None, unconfirmed_text=None)
    ask = AskQuestion(
        checkin_id=state.checkin_id,
        question_id=question.id,
        options=options_for(question),
        reask_problem="engine.not_confirmed",
    )
    return Transition(state=retry, effects=(ask,))


def _advice_handled_by(
    protocol: ResolvedProtocol,
    question_id: str,
    seen: frozenset[str] = frozenset(),
    *,
    grade: Grade | None = None,
) -> set[str]:
    """Advice ids the question (only its given grade, when there is one) or any of its follow-ups can give."""
    if question_id in seen:
        return set()
    question = protocol.question(question_id)
    handled: set[str] = set()
    if grade is not None:
        for follow_up in grade.then:
            handled |= _advice_handled_by(protocol, follow_up, seen | {question_id})
        return handled | ({grade.advice} if grade.advice else set())
    for outcome in [*question.outcomes, *([question.otherwise] if question.otherwise else [])]:
        if outcome.advice:
            handled.add(outcome.advice)
        for follow_up in outcome.then:
            handled |= _advice_handled_by(protocol, follow_up, seen | {question_id})
    return handled


def _stops_for_red(effects: list[Effect]) -> bool:
    return any(isinstance(e, Escalate) and e.level is Level.RED for e in effects)


def _stop_for_red_text(
    protocol: ResolvedProtocol, state: CheckInState, question: Question, said: str, effects: list[Effect]
) -> Transition:
    """A red flag in a reply we could not read as an answer: keep what was said, then stop for it."""
    rule = next(e.rule for e in effects if isinstance(e, Escalate) and e.level is Level.RED)
    effects.append(
        RecordAnswer(
            checkin_id=state.checkin_id,
            question_id=question.id,
            text=said,
            value=None,
            level=Level.RED,
            rule=rule,
        )
    )
    return _continue(
        protocol,
        replace(state, tries=0, phase=Phase.ASKING, unconfirmed=None, unconfirmed_text=None),
        effects,
    )


def protocol_free_yes_no() -> Question:
    return Question(
        id="engine.confirm", kind=QuestionKind.YES_NO, text="Is that right? Please answer yes or no."
    )


def _continue(protocol: ResolvedProtocol, state: CheckInState, effects: list[Effect]) -> Transition:
    stop_for_red = any(isinstance(e, Escalate) and e.level is Level.RED for e in effects)
    if stop_for_red or not state.queue:
        ending = Ending.STOPPED_FOR_RED_FLAG if stop_for_red else Ending.ANSWERED
        effects.append(CompleteCheckIn(checkin_id=state.checkin_id, ending=ending))
        return Transition(state=replace(state, phase=Phase.COMPLETE, queue=()), effects=_ordered(effects))
    question = protocol.question(state.queue[0].question_id)
    effects.append(
        AskQuestion(checkin_id=state.checkin_id, question_id=question.id, options=options_for(question))
    )
    return Transition(state=state, effects=_ordered(effects))


def _red_flag_reading(question: Question, result: ReadResult, found: Screening) -> ReadResult:
    """A red-flag question is never answered by a guess. Hedged ("not really", "a bit") is unsure, and unsure
    escalates like yes. A "no" with news after it ("no, walking better than before") is a no only when the
    safety net finds nothing in the news; otherwise it is unsure too."""
    if result.reading is not None or not question.red_flag_screen:
        return result
    if result.problem == "yes_no.no_with_news" and found.level is Level.GREEN and not found.asks:
        return ReadResult(reading=Reading(value=False))
    if result.problem in ("yes_no.unsure", "yes_no.no_with_news"):
        return ReadResult(reading=Reading(value=UNSURE))
    return result


def _understood_answer(result: ReadResult) -> bool:
    """A reading, or a reason the patient gave for having none ("meter shows E-4", "strips ran out")."""
    return result.reading is not None or result.problem in UNDERSTOOD_WITHOUT_A_NUMBER


def _asks_for_answer(found: Screening, *, answered: bool) -> tuple[str, ...]:
    """The questions to ask after a reply. When the reply answered the question ("eight out of ten"), the
    statistical layer's guesses are left out: it was trained on free text, not on answers."""
    if not answered:
        return found.asks
    return tuple(q for q in found.asks if q not in found.model_asks)


def _new_asks(protocol: ResolvedProtocol, state: CheckInState, asks: Sequence[str]) -> tuple[Pending, ...]:
    """The safety net's questions this check-in has not asked yet (and can ask: its protocol has them)."""
    done = {r.question_id for r in state.answered} | {p.question_id for p in state.queue}
    return tuple(Pending(question_id=q) for q in asks if q not in done and q in protocol.questions)


def _screen_effects(found: Screening, text: str, *, question_id: str | None) -> list[Effect]:
    effects: list[Effect] = []
    given: set[str] = set()
    for finding in sorted(found.findings, key=lambda f: f.level.rank, reverse=True):
        if finding.level is Level.GREEN:
            continue
        if finding.advice not in given:
            given.add(finding.advice)
            effects.append(GiveAdvice(advice_id=finding.advice, level=finding.level, rule=finding.rule))
        effects.append(
            Escalate(
                level=finding.level,
                rule=finding.rule,
                advice_id=finding.advice,
                question_id=question_id,
                trigger_text=excerpt(text, finding.start, finding.end),
            )
        )
    return effects


TRIGGER_TEXT_LIMIT = 2000


def excerpt(text: str, start: int, end: int, *, limit: int = TRIGGER_TEXT_LIMIT) -> str:
    """What staff see of a message that raised an escalation: all of it, or, for a long one, its opening and
    the words around what was found (a red flag late in a long message must still be visible to the nurse)."""
    if len(text) <= limit:
        return text
    around = limit // 2
    left = max(0, start - around // 2)
    window = text[left : max(end, left) + around // 2]
    opening = text[: limit - len(window) - 5]
    return f"{opening} … {window}" if left > len(opening) else text[:limit]


def _ordered(effects: list[Effect]) -> tuple[Effect, ...]:
    """Urgent advice first (most urgent first), then everything else in the order decided."""
    advice = sorted(
        (e for e in effects if isinstance(e, GiveAdvice)), key=lambda e: e.level.rank, reverse=True
    )
    rest = [e for e in effects if not isinstance(e, GiveAdvice)]
    # One coherent reply: after a red card nothing milder follows that could contradict it ("call the clinic
    # within 1 working day" after "get help today"); every escalation is still raised.
    if any(a.level is Level.RED for a in advice):
        advice = [a for a in advice if a.level is Level.RED]
    urgent = [a for a in advice if a.level is not Level.GREEN]
    calm = [a for a in advice if a.level is Level.GREEN]
    asks = [e for e in rest if isinstance(e, AskQuestion | AskConfirmation)]
    ends = [e for e in rest if isinstance(e, CompleteCheckIn)]
    others = [e for e in rest if not isinstance(e, AskQuestion | AskConfirmation | CompleteCheckIn)]
    return (*urgent, *others, *calm, *asks, *ends)


def _label(question: Question, option: str | None) -> str:
    return dict(options_for(question)).get(option or "", option or "")


def _understood(question: Question, reading: Reading, said: str) -> str:
    if question.kind is QuestionKind.GLUCOSE and isinstance(reading.value, float):
        return f"{said.strip()} mg/dL, which is {reading.value:.1f} mmol/L"
    return str(reading.value)


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise IllegalStep("now must be timezone-aware")
