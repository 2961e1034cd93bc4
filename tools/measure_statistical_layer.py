"""Would a classifier beside the rules help? The measurement behind docs/clinical-safety/safety-net.md.

    git worktree add /tmp/rules-at-c 96c7e10        # the rules as they were at blind set C's first run
    /tmp/ml/bin/python tools/measure_statistical_layer.py /tmp/rules-at-c

Trains on every labelled free-text message that existed before set C, tests on set C, and prints the figures
for the rules alone, the classifier alone, and the rules plus a question when the classifier says red. Needs
scikit-learn (a maintainer's tool; the service never imports it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_safety_model import vectorizers  # the trainer's own features

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "flows" / "corpus"
BEFORE_C = [
    *CORPUS.glob("*.jsonl"),
    *(CORPUS / "authors" / f"author-{i}.jsonl" for i in (1, 2, 3, 4)),
    CORPUS / "blind" / "set-A-2026-12-02.jsonl",
    CORPUS / "blind" / "set-B-2026-12-02.jsonl",
]
SET_C = CORPUS / "blind" / "set-C-2026-12-02.jsonl"
RULES = """
import json, sys
from datetime import UTC, datetime
from flows.engine import assess
for line in sys.stdin:
    verdict = assess(json.loads(line)["text"], now=datetime(2026, 12, 2, 12, tzinfo=UTC))
    print(json.dumps([verdict.level.value, bool(verdict.asks)]))
"""


def free_text(paths: list[Path]) -> list[dict[str, str]]:
    rows = [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]
    return [row for row in rows if "question" not in row]


def report(name: str, test: list[dict[str, str]], got: list[tuple[str, bool]]) -> None:
    def share(wanted: str, hit: object) -> str:
        rows = [i for i, row in enumerate(test) if row["expected"] == wanted]
        return f"{sum(bool(hit(*got[i])) for i in rows) / len(rows):.1%}"  # type: ignore[operator]

    print(
        f"{name:36} red caught {share('red', lambda lv, ask: lv == 'red' or ask)}"
        f"  direct {share('red', lambda lv, ask: lv == 'red')}"
        f"  amber {share('amber', lambda lv, ask: lv != 'green' or ask)}"
        f"  green {share('green', lambda lv, ask: lv == 'green')}"
        f"  unasked {share('green', lambda lv, ask: lv == 'green' and not ask)}"
    )


def main(rules_checkout: str) -> None:
    train, test = free_text(BEFORE_C), free_text([SET_C])
    classifier = make_pipeline(
        make_union(*vectorizers()), LogisticRegression(max_iter=5000, C=4, class_weight="balanced")
    )
    classifier.fit([r["text"] for r in train], [r["expected"] for r in train])
    texts = [r["text"] for r in test]
    predicted = classifier.predict(texts)
    red = list(classifier.classes_).index("red")
    p_red = [p[red] for p in classifier.predict_proba(texts)]
    lines = "".join(json.dumps({"text": t}) + "\n" for t in texts)
    done = subprocess.run(  # noqa: S603 - the project's own interpreter on a checkout of the project
        [sys.executable, "-c", RULES],
        input=lines,
        capture_output=True,
        text=True,
        cwd=rules_checkout,
        check=True,
    )
    rules = [tuple(json.loads(line)) for line in done.stdout.splitlines()]
    report("rules at C's first run", test, rules)  # type: ignore[arg-type]
    report("classifier alone", test, [(str(p), False) for p in predicted])
    for threshold in (0.3, 0.4, 0.5, 0.6, 0.7):
        both = [
            (lv, ask or (lv != "red" and p >= threshold)) for (lv, ask), p in zip(rules, p_red, strict=True)
        ]
        report(f"rules + classifier asks (p >= {threshold})", test, both)


if __name__ == "__main__":
    main(sys.argv[1])
