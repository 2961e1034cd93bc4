"""Bot API request parameters read the way Telegram's server reads them: every value is a string.

PTB sends form fields (strings, with lists and objects JSON-encoded); other clients send JSON bodies or query
strings. Telegram flattens all of them to strings and parses leniently (`to_integer("12abc") == 12`,
`to_integer("abc") == 0`), so a garbage value turns into "chat not found" rather than a crash. Parsing here
must never raise anything but ApiError.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from bot.emulator.errors import bad_request

_INTEGER_PREFIX = re.compile(r"[+-]?\d+")
_INT64_MAX = 2**63 - 1
# Python refuses to turn very long digit strings into ints; anything past 19 digits overflows int64 anyway.
_MAX_DIGITS = 19


def to_integer(value: str) -> int:
    """Telegram's lenient integer: the leading digits, clamped to int64, or 0 when there are none."""
    match = _INTEGER_PREFIX.match(value.strip())
    if match is None:
        return 0
    digits = match.group().lstrip("+-")
    negative = match.group().startswith("-")
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        return -_INT64_MAX if negative else _INT64_MAX
    number = max(-_INT64_MAX, min(_INT64_MAX, int(digits)))
    return -number if negative else number


def to_bool(value: str) -> bool:
    return value.strip().lower() in {"true", "yes", "1"}


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


class Params:
    """The parameters of one call; a missing parameter reads as the empty string, as in Telegram."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def from_json_object(cls, body: Mapping[str, Any], extra: Mapping[str, str] | None = None) -> "Params":
        values = dict(extra or {})
        values.update({key: _as_text(value) for key, value in body.items()})
        return cls(values)

    def has(self, name: str) -> bool:
        return self._values.get(name, "") != ""

    def text(self, name: str) -> str:
        return self._values.get(name, "")

    def integer(self, name: str, default: int = 0) -> int:
        raw = self._values.get(name, "")
        return default if raw == "" else to_integer(raw)

    def clamped(self, name: str, *, default: int, low: int, high: int) -> int:
        return max(low, min(high, self.integer(name, default)))

    def boolean(self, name: str) -> bool:
        return to_bool(self._values.get(name, ""))

    def json(self, name: str, *, error: str) -> Any:
        """The decoded JSON value of `name`, None when absent; `error` is Telegram's wording on bad JSON."""
        raw = self._values.get(name, "")
        if raw == "":
            return None
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as exc:
            raise bad_request(error) from exc
