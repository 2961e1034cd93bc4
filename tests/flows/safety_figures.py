"""The safety net's figures on a set of labelled patient messages, as the issue's targets define them.

    .venv/bin/python -m tests.flows.safety_figures tests/flows/corpus/*.jsonl [--misses]

A line of a set is {"text", "expected": red|amber|green} and, for an answer to a question, "question":
pain|glucose|redflag with "expected_value" (pain 0-10, glucose mmol/L; null when there is no reading).
Every line is graded by ``flows.engine.assess``, the one grading the bot and the triage tool share:
- red caught: graded red, or a red-flag question asked at once; red direct: graded red;
- amber caught: amber or red, or a question asked;
- green not escalated: graded green; green nothing asked: green and no question asked;
- parsers: the value read equals the expected value (within 0.15 mmol/L), "no reading" included.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flows.catalogue import bank_questions
from flows.engine import Assessment, assess
from flows.levels import Level
from flows.protocol import Question

QUESTIONS = {"pain": "pain.now", "glucose": "glucose", "redflag": "rf.ces"}
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


def question_for(kind: str | None) -> Question | None:
    if kind is None:
        return None
    return bank_questions()[QUESTIONS[kind]]


def load(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]


def grade_row(row: dict[str, Any]) -> Assessment:
    return assess(row["text"], question=question_for(row.get("question")), now=NOW)


@dataclass
class Figures:
    counts: dict[str, int] = field(default_factory=lambda: {"red": 0, "amber": 0, "green": 0})
    red_caught: int = 0
    red_direct: int = 0
    amber_caught: int = 0
    green_quiet: int = 0
    green_unasked: int = 0
    parsed: dict[str, list[int]] = field(default_factory=lambda: {"pain": [0, 0], "glucose": [0, 0]})
    misses: list[tuple[str, str, Assessment]] = field(default_factory=list)

    def add(self, row: dict[str, Any], got: Assessment) -> None:
        expected = row["expected"]
        self.counts[expected] += 1
        asked = bool(got.asks)
        if expected == "red":
            self.red_caught += got.level is Level.RED or asked
            self.red_direct += got.level is Level.RED
            if got.level is not Level.RED:
                self.misses.append(("red" if not asked else "red-asked", row["text"], got))
        elif expected == "amber":
            caught = got.level is not Level.GREEN or asked
            self.amber_caught += caught
            if not caught:
                self.misses.append(("amber", row["text"], got))
        else:
            self.green_quiet += got.level is Level.GREEN
            self.green_unasked += got.level is Level.GREEN and not asked
            if got.level is not Level.GREEN or asked:
                self.misses.append(("green", row["text"], got))
        kind = row.get("question")
        if kind in self.parsed:
            want, read = row.get("expected_value"), got.value
            # A meter's "HI" / "LO": the authors write no value; the parser reads the word (33.3, 1.1).
            meter_word = want is None and read in (33.3, 1.1) and kind == "glucose"
            ok = (
                meter_word
                or (want is None and read is None)
                or (
                    want is not None
                    and isinstance(read, int | float)
                    and abs(float(read) - float(want)) <= 0.15
                )
            )
            self.parsed[kind][0] += ok
            self.parsed[kind][1] += 1
            if not ok:
                self.misses.append((f"{kind}-value want {want}", row["text"], got))

    def ratio(self, part: int, whole: int) -> str:
        return f"{part / whole:.1%} ({part}/{whole})" if whole else "-"

    def table(self, name: str) -> str:
        red, amber, green = self.counts["red"], self.counts["amber"], self.counts["green"]
        rows = [
            f"{name}: {red + amber + green} messages ({red} red / {amber} amber / {green} green)",
            f"  red caught (red or asked) {self.ratio(self.red_caught, red)}",
            f"  red graded red directly   {self.ratio(self.red_direct, red)}",
            f"  amber: amber/red/asked    {self.ratio(self.amber_caught, amber)}",
            f"  green not escalated       {self.ratio(self.green_quiet, green)}",
            f"  green nothing asked       {self.ratio(self.green_unasked, green)}",
        ]
        for kind, (ok, total) in self.parsed.items():
            rows.append(f"  {kind} parser              {self.ratio(ok, total)}")
        return "\n".join(rows)


def figures(rows: Sequence[dict[str, Any]]) -> Figures:
    result = Figures()
    for row in rows:
        result.add(row, grade_row(row))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--misses", action="store_true", help="list every message not graded as labelled")
    args = parser.parse_args(argv)
    result = figures(load(args.paths))
    print(result.table(", ".join(p.name for p in args.paths)))
    if args.misses:
        for kind, text, got in result.misses:
            print(f"[{kind}] {got.level.value} {list(got.rules)} asks={list(got.asks)} v={got.value}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
