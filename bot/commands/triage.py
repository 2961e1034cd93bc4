"""`aftercare triage`: what the bot would do with an answer, for the clinic's safety officer to test rules.

    aftercare triage "no fever but I can't feel my bum when I wipe"
    aftercare triage --question glucose "HI"
    echo '{"text": "7/10"}' | aftercare triage --question pain --jsonl

With --jsonl, one JSON line out per line in: {"level": ..., "rules": [...], "value": ..., "asks": [...]}.
"asks" lists the red-flag questions the bot would ask at once; "level" is the grade of the message alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.settings import Settings
from flows.advice import render
from flows.catalogue import bank_questions
from flows.engine import assess
from flows.levels import Level
from flows.protocol import Question, QuestionKind
from flows.triage import Value

QUESTIONS = {"pain": "pain.now", "glucose": "glucose", "temperature": "temperature"}
CHOICES = ["free-text", "pain", "glucose", "temperature", "yes-no"]
# A red-flag yes/no question, as the bot asks them: "not sure", "a bit" and "not really" are never a clean no.
GENERIC_YES_NO = Question(
    id="rf.yes_no",
    kind=QuestionKind.YES_NO,
    red_flag_screen=True,
    text="A red-flag question (yes or no).",
    outcomes=[{"when": {"equals": True}, "level": "red", "rule": "red.yes_no.yes", "advice": None}],
)


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
    asks: list[str]
    asked_because: list[str]
    model_terms: list[str]

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "level": self.level.value,
            "rules": self.rules,
            "value": self.value,
            "asks": self.asks,
        }
        if self.problem:
            data["problem"] = self.problem
        if self.asks:  # explainable: the ask ids, and the model's strongest words when it was the model
            data["asked_because"] = self.asked_because
            if self.model_terms:
                data["model_terms"] = self.model_terms
        return data


def triage(text: str, *, question: str, day: int, now: datetime) -> Verdict:
    """Grade ``text`` as the bot would, with the one grading the bot uses (flows.engine.assess): as free
    text, or as the answer to ``question``. ``asks`` are the red-flag questions the bot would ask at once."""
    asked = None
    if question != "free-text":
        asked = GENERIC_YES_NO if question == "yes-no" else bank_questions()[QUESTIONS[question]]
    verdict = assess(text, question=asked, day=day, now=now)
    return Verdict(
        level=verdict.level,
        rules=list(verdict.rules),
        value=verdict.value,
        advice=list(verdict.advice),
        problem=verdict.problem,
        asks=list(verdict.asks),
        asked_because=list(verdict.asked_because),
        model_terms=list(verdict.model_terms),
    )


def triage_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return _triage_command(args, settings)
    except BrokenPipeError:  # `aftercare triage ... | head`: the reader has gone; say nothing more
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _triage_command(args: argparse.Namespace, settings: Settings) -> int:
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
    if verdict.asks:
        because = ", ".join(verdict.asked_because)
        terms = f" (words: {', '.join(verdict.model_terms)})" if verdict.model_terms else ""
        print(f"asks at once: {', '.join(verdict.asks)}  because: {because}{terms}")
    if verdict.problem:
        print(f"note: {verdict.problem}")
    for advice_id in dict.fromkeys(verdict.advice):
        print(f"\n[{advice_id}]\n{render(advice_id, clinic=settings.clinic, now=now)}")
    return 0
