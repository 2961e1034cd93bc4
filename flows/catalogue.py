"""Load protocols with the shared question bank, education and advice, and check every reference.

A protocol file names questions, education messages and advice cards by id. Loading resolves those ids into
one self-contained ``ResolvedProtocol`` and fails, naming the file and line, on anything dangling or
inconsistent. A resolved protocol has a digest: an episode stores the snapshot it was enrolled on, so a
patient's follow-up never changes under them when the files are edited later.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from functools import cache
from importlib.resources import files
from pathlib import PurePath

import yaml
from pydantic import BaseModel, ConfigDict

from flows.advice import AdviceCatalogue, bundled_catalogue, check_placeholders
from flows.levels import Level
from flows.protocol import (
    CheckIn,
    EducationBank,
    EducationMessage,
    Outcome,
    Protocol,
    Question,
    QuestionBank,
    SignOff,
)
from flows.yamlsource import DataError, Problem, load_model, parse_yaml, problem_at

DATA = files("flows") / "data"

Reporter = Callable[[tuple[int | str, ...], str], None]  # records one problem at a path in the file


class ResolvedProtocol(BaseModel):
    """A protocol with everything it refers to, ready for the engine; what an episode is pinned to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    version: int
    title: str
    procedure_words: str
    steroid: bool
    sources: list[str]
    checkins: list[CheckIn]
    questions: dict[str, Question]
    education: dict[str, EducationMessage]
    signoff: list[SignOff]

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()

    def question(self, question_id: str) -> Question:
        return self.questions[question_id]

    def checkin(self, checkin_id: str) -> CheckIn:
        for checkin in self.checkins:
            if checkin.id == checkin_id:
                return checkin
        raise KeyError(f"protocol {self.id} v{self.version} has no check-in {checkin_id!r}")


@cache
def bundled_bank() -> QuestionBank:
    text = (DATA / "questions.yaml").read_text(encoding="utf-8")
    bank = load_model(QuestionBank, text, source="flows/data/questions.yaml")
    _check_questions(
        bank.questions,
        {q.id: q for q in bank.questions},
        bundled_catalogue(),
        source="flows/data/questions.yaml",
        node=parse_yaml(text, source="")[1],
        key="questions",
    )
    return bank


@cache
def bank_questions() -> Mapping[str, Question]:
    """The bundled question bank by id: for the red-flag questions the safety net asks outside any check-in,
    and for the triage tool."""
    return {question.id: question for question in bundled_bank().questions}


@cache
def bundled_education() -> EducationBank:
    text = (DATA / "education.yaml").read_text(encoding="utf-8")
    return load_model(EducationBank, text, source="flows/data/education.yaml")


def load_protocol(text: str, *, source: str) -> ResolvedProtocol:
    """Validate a protocol file's text against the bundled bank, education and advice. Raises DataError."""
    protocol = load_model(Protocol, text, source=source)
    node = parse_yaml(text, source=source)[1]
    return resolve(
        protocol,
        bank=bundled_bank(),
        education=bundled_education(),
        advice=bundled_catalogue(),
        source=source,
        node=node,
    )


def resolve(
    protocol: Protocol,
    *,
    bank: QuestionBank,
    education: EducationBank,
    advice: AdviceCatalogue,
    source: str,
    node: yaml.Node | None = None,
) -> ResolvedProtocol:
    problems: list[Problem] = []

    def problem(path: tuple[int | str, ...], message: str) -> None:
        problems.append(problem_at(node, path, message, source=source))

    known = {q.id: q for q in bank.questions}
    for index, question in enumerate(protocol.questions):
        if question.id in known:
            problem(
                ("questions", index, "id"), f"{question.id!r} is already in the question bank; use a new id"
            )
        known[question.id] = question
    problems += _check_questions(
        protocol.questions, known, advice, source=source, node=node, key="questions", raise_now=False
    )
    lessons = {m.id: m for m in education.messages}

    seen: set[str] = set()
    previous: tuple[int, float] = (-1, -1.0)
    used_questions: dict[str, Question] = {}
    used_lessons: dict[str, EducationMessage] = {}
    for index, checkin in enumerate(protocol.checkins):
        if checkin.id in seen:
            problem(("checkins", index, "id"), f"check-in id {checkin.id!r} is used twice")
        seen.add(checkin.id)
        order = (checkin.day, _hours(checkin))
        if order < previous:
            problem(("checkins", index), "check-ins must be listed in time order")
        previous = order
        if len(set(checkin.questions)) != len(checkin.questions):
            problem(("checkins", index, "questions"), "a question is listed twice")
        for q_index, question_id in enumerate(checkin.questions):
            if question_id not in known:
                problem(("checkins", index, "questions", q_index), f"unknown question {question_id!r}")
                continue
            _collect(question_id, known, used_questions)
        for e_index, lesson_id in enumerate(checkin.education):
            if lesson_id not in lessons:
                problem(("checkins", index, "education", e_index), f"unknown education message {lesson_id!r}")
            else:
                used_lessons[lesson_id] = lessons[lesson_id]
        if checkin.unanswered is not None:
            _check_outcome(checkin.unanswered, known, advice, problem, ("checkins", index, "unanswered"))
    if problems:
        raise DataError(problems)
    return ResolvedProtocol(
        id=protocol.id,
        version=protocol.version,
        title=protocol.title,
        procedure_words=protocol.procedure_words,
        steroid=protocol.steroid,
        sources=protocol.sources,
        checkins=protocol.checkins,
        questions=dict(sorted(used_questions.items())),
        education=dict(sorted(used_lessons.items())),
        signoff=protocol.signoff,
    )


def _hours(checkin: CheckIn) -> float:
    if checkin.after_hours is not None:
        return -1.0 + checkin.after_hours / 100  # day 0 "after the procedure" sorts before clock times
    assert checkin.at is not None
    hour, minute = checkin.at.split(":")
    return int(hour) + int(minute) / 60


def _collect(question_id: str, known: dict[str, Question], into: dict[str, Question]) -> None:
    """A question and every follow-up it can lead to."""
    if question_id in into or question_id not in known:
        return
    question = known[question_id]
    into[question_id] = question
    for outcome in [*question.outcomes, *([question.otherwise] if question.otherwise else [])]:
        for follow_up in outcome.then:
            _collect(follow_up, known, into)


def _check_outcome(
    outcome: Outcome,
    known: dict[str, Question],
    advice: AdviceCatalogue,
    problem: Reporter,
    path: tuple[int | str, ...],
) -> None:
    prefix = outcome.rule.split(".", 1)[0]
    if prefix in {level.value for level in Level} and prefix != outcome.level.value:
        problem(
            (*path, "rule"), f"rule {outcome.rule!r} is named {prefix} but its level is {outcome.level.value}"
        )
    if outcome.advice is not None:
        if outcome.advice not in advice.ids:
            problem((*path, "advice"), f"unknown advice card {outcome.advice!r}")
        elif advice.card(outcome.advice).level is not outcome.level:
            problem(
                (*path, "advice"),
                f"advice {outcome.advice!r} is {advice.card(outcome.advice).level.value} "
                f"but the outcome is {outcome.level.value}",
            )
    for index, follow_up in enumerate(outcome.then):
        if follow_up not in known:
            problem((*path, "then", index), f"unknown follow-up question {follow_up!r}")


def _check_questions(
    questions: list[Question],
    known: dict[str, Question],
    advice: AdviceCatalogue,
    *,
    source: str,
    node: yaml.Node | None,
    key: str,
    raise_now: bool = True,
) -> list[Problem]:
    problems: list[Problem] = []

    def problem(path: tuple[int | str, ...], message: str) -> None:
        problems.append(problem_at(node, path, message, source=source))

    ids: set[str] = set()
    for index, question in enumerate(questions):
        if question.id in ids:
            problem((key, index, "id"), f"question id {question.id!r} is used twice")
        ids.add(question.id)
        outcomes = [(f"outcomes.{i}", o) for i, o in enumerate(question.outcomes)]
        if question.otherwise is not None:
            outcomes.append(("otherwise", question.otherwise))
        for where, outcome in outcomes:
            path: tuple[int | str, ...] = (key, index, *_split(where))
            _check_outcome(outcome, known, advice, problem, path)
            if question.id in outcome.then:
                problem(path, "a question cannot be its own follow-up")
    if problems and raise_now:
        raise DataError(problems)
    return problems


def _split(where: str) -> tuple[int | str, ...]:
    return tuple(int(part) if part.isdigit() else part for part in where.split("."))


def check_bundled_data() -> list[str]:
    """Every problem in the bundled data files, as text (empty when all is well)."""
    problems = check_placeholders(bundled_catalogue())
    try:
        bundled_protocols()
    except DataError as exc:
        problems += [str(p) for p in exc.problems]
    return problems


def protocol_paths() -> list[PurePath]:
    return sorted(
        PurePath(str(entry)) for entry in (DATA / "protocols").iterdir() if entry.name.endswith(".yaml")
    )


@cache
def bundled_protocols() -> dict[str, ResolvedProtocol]:
    """The current version of every bundled protocol, by id."""
    protocols: dict[str, ResolvedProtocol] = {}
    problems: list[Problem] = []
    for entry in (DATA / "protocols").iterdir():
        if not entry.name.endswith(".yaml"):
            continue
        source = f"flows/data/protocols/{entry.name}"
        try:
            protocol = load_protocol(entry.read_text(encoding="utf-8"), source=source)
        except DataError as exc:
            problems += exc.problems
            continue
        if entry.name != f"{protocol.id}.yaml":
            problems.append(Problem(source=source, line=1, where="id", message="file name must be <id>.yaml"))
        protocols[protocol.id] = protocol
    if problems:
        raise DataError(problems)
    return dict(sorted(protocols.items()))
