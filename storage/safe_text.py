"""Text made safe to store: what a patient can type that a database column cannot hold.

Telegram text can carry any code point. PostgreSQL's text type refuses U+0000 ("text fields cannot contain
NUL") and neither database driver can encode a lone UTF-16 surrogate (JSON allows "\\ud83d" on its own).
Either, in one message, used to make every write of that message fail. So text is cleaned once, at the edge,
before anything reads it: NUL and the other C0 control characters go (tab and newline stay; a carriage
return becomes a newline), and a lone surrogate becomes U+FFFD. Nothing else changes, and what the patient
sent is never lost: the raw update is kept as JSON, where json.dumps escapes all of these (\\u0000).
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except tab (\x09) and newline (\x0a); \r is handled first (a line break, not noise).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def safe_text(text: str) -> str:
    """``text`` without what no text column may hold."""
    if text.isprintable():  # nearly every message: no control character, no surrogate
        return text
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _LONE_SURROGATE.sub("\ufffd", _CONTROLS.sub("", text))


def safe_strings(value: Any) -> Any:
    """A decoded JSON value with every string in it (keys too) made safe; a new value, the old untouched."""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, dict):
        return {safe_text(key): safe_strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [safe_strings(item) for item in value]
    return value
