"""Load YAML data into validated models, with errors that name the file, the line and what is wrong.

Protocols, the clinic file and the advice catalogue are written by people (a nurse, a safety officer).
When one is wrong, the message must say where: ``protocols/sij.yaml:42 questions.3.kind: ...``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, kw_only=True)
class Problem:
    source: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = f"{self.source}:{self.line}" if self.line else self.source
        return f"{place}: {self.where}: {self.message}" if self.where else f"{place}: {self.message}"


class DataError(ValueError):
    """A data file is invalid. ``problems`` lists each one with its place."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def parse_yaml(text: str, *, source: str) -> tuple[Any, yaml.Node | None]:
    """The plain data and its node tree (for line numbers). Raises DataError on YAML syntax errors."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise DataError(
            [Problem(source=source, line=line, where="", message=f"not valid YAML: {reason}")]
        ) from exc
    return data, node


def line_of(node: yaml.Node | None, path: tuple[int | str, ...]) -> int | None:
    """The 1-based line of the value at ``path`` in the YAML node tree (nearest existing parent)."""
    if node is None:
        return None
    current: yaml.Node = node
    for key in path:
        child: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == str(key):
                    child = value_node
                    break
        elif isinstance(current, yaml.SequenceNode) and isinstance(key, int) and key < len(current.value):
            child = current.value[key]
        if child is None:
            break
        current = child
    return int(current.start_mark.line) + 1


def problem_at(node: yaml.Node | None, path: tuple[int | str, ...], message: str, *, source: str) -> Problem:
    return Problem(source=source, line=line_of(node, path), where=".".join(map(str, path)), message=message)


def load_model(model: type[M], text: str, *, source: str) -> M:
    """Validate YAML text against ``model``; every error names the source, line and path."""
    data, node = parse_yaml(text, source=source)
    if not isinstance(data, dict):
        raise DataError([Problem(source=source, line=1, where="", message="expected a mapping at the top")])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            path = tuple(p for p in error["loc"] if isinstance(p, int | str))
            problems.append(problem_at(node, path, error["msg"], source=source))
        raise DataError(problems) from None
