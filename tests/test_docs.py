"""The docs stay true: every test the hazard log names exists, every setting is in .env.example."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).parents[1]
HAZARD_LOG = ROOT / "docs" / "clinical-safety" / "hazard-log.md"


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")
    }


def test_every_test_named_in_the_hazard_log_exists() -> None:
    named = re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", HAZARD_LOG.read_text(encoding="utf-8"))
    assert len(named) >= 40
    missing = [
        f"{file}::{test}"
        for file, test in named
        if not (ROOT / file).exists() or test not in _test_names(ROOT / file)
    ]
    assert missing == []


def test_every_hazard_has_controls_with_tests() -> None:
    sections = HAZARD_LOG.read_text(encoding="utf-8").split("\n## H")[1:]
    assert len(sections) >= 10
    for section in sections:
        assert "`tests/" in section, section.splitlines()[0]


def test_every_setting_is_in_env_example() -> None:
    from bot.settings import Settings
    from console.settings import ConsoleSettings

    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = {
        line.split("=", 1)[0] for line in example.splitlines() if "=" in line and not line.startswith("#")
    }
    assert {name.upper() for name in Settings.model_fields} <= names
    assert {name.upper() for name in ConsoleSettings.model_fields} <= names
