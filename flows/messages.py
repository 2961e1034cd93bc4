"""The bot's own words (greetings, help, consent...) as data: flows/data/messages.yaml.

Clinical wording lives in questions.yaml, education.yaml and advice.yaml; this file holds the rest, so a
nurse manager can review every sentence the service says in four files, and nothing is hard-coded.
"""

from __future__ import annotations

import string
from functools import cache
from importlib.resources import files

from pydantic import BaseModel, ConfigDict

from flows.yamlsource import load_model


class MessageCatalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    messages: dict[str, str]


@cache
def catalogue() -> MessageCatalogue:
    text = (files("flows") / "data" / "messages.yaml").read_text(encoding="utf-8")
    return load_model(MessageCatalogue, text, source="flows/data/messages.yaml")


def placeholders(message_id: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(catalogue().messages[message_id]) if name}


def say(message_id: str, **values: object) -> str:
    """The message with its placeholders filled. A missing value is a bug: it raises KeyError."""
    return catalogue().messages[message_id].format_map({k: str(v) for k, v in values.items()}).strip()
