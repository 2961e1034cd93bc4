"""Golden transcripts: answers in, effects out, for every protocol (the goflow pattern).

Each journey's decisions are written as plain lines and compared with tests/flows/golden/<protocol>.txt.
A change to a protocol, the bank or the engine shows up as a readable diff. To accept a deliberate change:
UPDATE_GOLDEN=1 python3 dev.py test (then read and commit the diff).
"""

from __future__ import annotations

import os
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from flows.catalogue import ResolvedProtocol, bundled_protocols
from flows.effects import (
    AskConfirmation,
    AskQuestion,
    CompleteCheckIn,
    Effect,
    Escalate,
    GiveAdvice,
    RecordAnswer,
    SendEducation,
)
from flows.engine import Answer, begin, step
from flows.schedule import Patient
from flows.state import Phase
from flows.triage import PastReading

HERE = Path(__file__).parent / "golden"
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
CALM = {
    "yes_no": "no",
    "pain_scale": "3",
    "glucose": "7.5",
    "temperature": "36.8",
    "percent_relief": "40",
    "pgic": "3",
    "free_text": "no thanks",
}
CALM_YES = {"activity.more", "epidural.passed_urine", "rfd.relief_returning"}


def describe(effect: Effect) -> str:
    match effect:
        case SendEducation():
            return f"tell     {effect.message_id}"
        case AskQuestion():
            hint = f" (again: {effect.reask_problem})" if effect.reask_problem else ""
            return f"ask      {effect.question_id}{hint}"
        case AskConfirmation():
            return f"confirm  {effect.question_id}: {effect.understood_as}"
        case RecordAnswer():
            value = None if effect.value is None else effect.value["value"]
            return f"record   {effect.question_id} = {value!r} -> {effect.level.value} {effect.rule}"
        case GiveAdvice():
            return f"advise   {effect.advice_id}"
        case Escalate():
            return f"escalate {effect.level.value} {effect.rule}"
        case CompleteCheckIn():
            return f"complete {effect.ending.value}"
    raise AssertionError(effect)


def run(
    protocol: ResolvedProtocol,
    checkin: str,
    *,
    day: int,
    diabetic: bool,
    replies: list[str] | None,
    history: tuple[PastReading, ...] = (),
) -> list[str]:
    transition = begin(
        protocol, checkin, patient=Patient(diabetic=diabetic), day=day, history=history, now=NOW
    )
    lines = [describe(e) for e in transition.effects]
    pending = list(replies) if replies is not None else None
    while transition.state.phase is not Phase.COMPLETE:
        if pending is not None:
            if not pending:
                break
            said = pending.pop(0)
        else:
            said = _calm(protocol, transition.state.queue[0].question_id)
        answer = Answer(option=said[1:-1]) if said.startswith("[") else Answer(text=said)
        lines.append(f"> {said}")
        transition = step(protocol, transition.state, answer, now=NOW)
        lines += [describe(e) for e in transition.effects]
    return lines


def _calm(protocol: ResolvedProtocol, question_id: str) -> str:
    question = protocol.question(question_id)
    if question.kind.value == "choice":
        return f"[{question.options[0].id}]"
    return "yes" if question_id in CALM_YES else CALM[question.kind.value]


def transcripts() -> dict[str, str]:
    journeys = yaml.safe_load((HERE / "journeys.yaml").read_text(encoding="utf-8"))
    protocols = bundled_protocols()
    out: dict[str, list[str]] = defaultdict(list)
    for protocol in protocols.values():
        for checkin in protocol.checkins:
            for diabetic in (False, True):
                out[protocol.id].append(f"## {checkin.id} calm answers, diabetic={diabetic}")
                out[protocol.id] += run(
                    protocol, checkin.id, day=checkin.day, diabetic=diabetic, replies=None
                )
                out[protocol.id].append("")
    for journey in journeys:
        protocol = protocols[journey["protocol"]]
        out[protocol.id].append(f"## {journey['name']}")
        history = tuple(
            PastReading(question_id=question, value=float(value), at=NOW - timedelta(hours=hours_ago))
            for question, value, hours_ago in journey.get("history", [])
        )
        if history:
            out[protocol.id].append(f"(earlier readings: {[(h.question_id, h.value) for h in history]})")
        out[protocol.id] += run(
            protocol,
            journey["checkin"],
            day=journey.get("day", 1),
            diabetic=journey.get("diabetic", False),
            replies=journey["replies"],
            history=history,
        )
        out[protocol.id].append("")
    return {pid: "\n".join(lines) + "\n" for pid, lines in out.items()}


@pytest.mark.parametrize("protocol_id", sorted(bundled_protocols()))
def test_golden_transcript(protocol_id: str) -> None:
    produced = transcripts()[protocol_id]
    path = HERE / f"{protocol_id}.txt"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(produced, encoding="utf-8")
    assert path.exists(), f"no golden file yet: run UPDATE_GOLDEN=1 to create {path.name}"
    assert produced == path.read_text(encoding="utf-8")


def test_every_red_journey_ends_with_urgent_advice_and_an_escalation() -> None:
    for text in transcripts().values():
        for block in text.split("## ")[1:]:
            if "escalate red" in block:
                assert "advise   red." in block or "advise   amber.unclear" in block, block
                assert block.strip().splitlines()[-1] == "complete stopped_for_red_flag", block


def test_every_outcome_rule_has_a_golden_journey() -> None:
    """Each rule in every protocol fires in some transcript: deleting or breaking one fails a golden test."""
    produced = "".join(transcripts().values())
    rules = {
        outcome.rule
        for protocol in bundled_protocols().values()
        for question in protocol.questions.values()
        for outcome in [*question.outcomes, *([question.otherwise] if question.otherwise else [])]
    }
    assert sorted(rule for rule in rules if f" {rule}\n" not in produced) == []
