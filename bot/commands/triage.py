"""`aftercare triage`: what the bot would do with an answer, for the clinic's safety officer to test rules.

    aftercare triage "no fever but I can't feel my bum when I wipe"
    aftercare triage --question glucose "HI"
    echo '{"text": "7/10"}' | aftercare triage --question pain --jsonl

With --jsonl, one JSON line out per line in: {"level": ..., "rules": [...], "value": ...}.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.settings import Settings
from flows.advice import render
from flows.catalogue import bundled_bank
from flows.levels import Level, worst
from flows.protocol import Question, QuestionKind
from flows.screening import screen
from flows.triage import Value, grade, read_text

QUESTIONS = {"pain": "pain.now", "glucose": "glucose", "temperature": "temperature"}
CHOICES = ["free-text", "pain", "glucose", "temperature", "yes-no"]
GENERIC_YES_NO = Question(id="yes_no", kind=QuestionKind.YES_NO, text="A yes or no question.")


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("triage", help="grade an answer as the bot would (red/amber/green)")
    parser.add_argument("--question", choices=CHOICES, default="free-text")
    parser.add_argument("--day", type=int, default=1, help="days since the procedure (default 1)")
    parser.add_argument("--jsonl", action="store_true", help='read {"text": ...} lines on stdin')
    parser.add_argument("text", nargs="?", metavar="TEXT")
    parser.set_defaults(handler=triage_command)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    level: Level
    rules: list[str]
    value: Value
    advice: list[str]
    problem: str | None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"level": self.level.value, "rules": self.rules, "value": self.value}
        if self.problem:
            data["problem"] = self.problem
        return data


def triage(text: str, *, question: str, day: int, now: datetime) -> Verdict:
    """Grade ``text`` as an answer to ``question`` (plus the free-text safety net, as the bot does)."""
    screening = screen(text)
    findings = [f for f in screening.findings if f.level is not Level.GREEN]
    rules = [f.rule for f in findings]
    advice = [f.advice for f in findings]
    if question == "free-text":
        return Verdict(level=screening.level, rules=rules, value=None, advice=advice, problem=None)
    asked = GENERIC_YES_NO if question == "yes-no" else _bank_question(QUESTIONS[question])
    result = read_text(asked, text)
    if result.reading is None:
        # Unreadable: the bot asks again. Any red or amber in the text still stands.
        return Verdict(level=screening.level, rules=rules, value=None, advice=advice, problem=result.problem)
    graded = grade(asked, result.reading, day=day, now=now)
    if graded.advice:
        advice.insert(0, graded.advice)
    return Verdict(
        level=worst(graded.level, screening.level),
        rules=[graded.rule, *rules],
        value=result.reading.value,
        advice=advice,
        problem="needs_confirmation" if result.needs_confirmation else None,
    )


def _bank_question(question_id: str) -> Question:
    for question in bundled_bank().questions:
        if question.id == question_id:
            return question
    raise KeyError(question_id)


def triage_command(args: argparse.Namespace, settings: Settings) -> int:
    now = datetime.now(UTC)
    if args.jsonl:
        for number, line in enumerate(sys.stdin, start=1):
            if not line.strip():
                continue
            try:
                text = json.loads(line)["text"]
                if not isinstance(text, str):
                    raise TypeError
            except (ValueError, KeyError, TypeError):
                print(f'line {number}: expected {{"text": "..."}}', file=sys.stderr)
                return 2
            verdict = triage(text, question=args.question, day=args.day, now=now)
            print(json.dumps(verdict.as_json(), ensure_ascii=False), flush=True)
        return 0
    if args.text is None:
        print("give TEXT, or --jsonl with lines on stdin", file=sys.stderr)
        return 2
    verdict = triage(args.text, question=args.question, day=args.day, now=now)
    print(f"{verdict.level.value.upper()}  rules: {', '.join(verdict.rules) or '-'}  value: {verdict.value}")
    if verdict.problem:
        print(f"note: {verdict.problem}")
    for advice_id in dict.fromkeys(verdict.advice):
        print(f"\n[{advice_id}]\n{render(advice_id, clinic=settings.clinic, now=now)}")
    return 0
