"""Message text after parsing: trimming, explicit and automatic entities, and safe HTML for the page.

Telegram trims a message, finds commands, links and @mentions on its own, and reports entity offsets in
UTF-16 code units (PTB slices text by them). `render_html` is how the patient's phone shows a bot message:
every character of text is escaped and only tags we emit from entities reach the browser, so a bot (or a
patient) can never inject markup into the page.
"""

import html
import itertools
import re
from typing import Any

from bot.emulator.errors import Json, bad_request
from bot.emulator.html_parse import parse_html, utf16_length

MAX_MESSAGE_LENGTH = 4096
_TRIMMED = " \t\n\r\v\f"
_FORMATTING = frozenset(
    {"bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "text_link", "text_mention"}
    | {"custom_emoji", "blockquote", "expandable_blockquote", "date_time"}
)
_AUTOMATIC_PATTERNS = {
    "bot_command": re.compile(r"(?<![\w/<>@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>@])"),
    "url": re.compile(r"(?<![\w@])https?://[^\s<>\"]+[^\s<>\".,;:!?)\]'’]"),
    "mention": re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}(?![\w@])"),
}
# Automatic entities never cut through code or links the sender marked up.
_SHIELDING = frozenset({"code", "pre", "text_link", "custom_emoji"})


def _utf16_offsets(text: str) -> list[int]:
    """offsets[i] is the UTF-16 offset of text[i]; offsets[len(text)] is the total length."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + (2 if ord(char) > 0xFFFF else 1))
    return offsets


def find_automatic_entities(text: str, existing: list[Json]) -> list[Json]:
    offsets = _utf16_offsets(text)
    shields = [(e["offset"], e["offset"] + e["length"]) for e in existing if e["type"] in _SHIELDING]
    found: list[Json] = []
    for kind, pattern in _AUTOMATIC_PATTERNS.items():
        for match in pattern.finditer(text):
            start, end = offsets[match.start()], offsets[match.end()]
            if any(start < shield_end and shield_start < end for shield_start, shield_end in shields):
                continue
            found.append({"offset": start, "length": end - start, "type": kind})
    return found


def _field_int(entity: dict[str, Any], name: str) -> int:
    if name not in entity:
        raise bad_request(f"can't parse MessageEntity: Can't find field \"{name}\"")
    value = entity[name]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request(f'can\'t parse MessageEntity: Field "{name}" must be a valid Number')
    try:
        return int(value)
    except ValueError as exc:
        raise bad_request(f'can\'t parse MessageEntity: Field "{name}" must be a valid Number') from exc


def parse_explicit_entities(raw: Any) -> list[Json]:
    """The `entities` parameter; like Telegram, automatic kinds in it are ignored and recomputed."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        return []
    entities: list[Json] = []
    for item in raw:
        if not isinstance(item, dict):
            raise bad_request("can't parse MessageEntity: expected an Object")
        offset, length = _field_int(item, "offset"), _field_int(item, "length")
        kind = item.get("type")
        if not isinstance(kind, str) or not kind:
            raise bad_request('can\'t parse MessageEntity: Field "type" must be of type String')
        if kind not in _FORMATTING:
            if kind in {"mention", "hashtag", "cashtag", "bot_command", "url", "email", "phone_number"}:
                continue
            raise bad_request("can't parse MessageEntity: Unsupported type specified")
        entity: Json = {"offset": offset, "length": length, "type": kind}
        for extra in ("url", "language", "custom_emoji_id"):
            if isinstance(item.get(extra), str):
                entity[extra] = item[extra]
        if kind == "text_link" and "url" not in entity:
            raise bad_request("can't parse MessageEntity: Can't find field \"url\"")
        entities.append(entity)
    return entities


def _trim(text: str, entities: list[Json]) -> tuple[str, list[Json]]:
    stripped = text.strip(_TRIMMED)
    if not stripped:
        return "", []
    lead = utf16_length(text[: len(text) - len(text.lstrip(_TRIMMED))])
    total = utf16_length(stripped)
    kept: list[Json] = []
    for entity in entities:
        start = max(0, entity["offset"] - lead)
        end = min(total, entity["offset"] + entity["length"] - lead)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(
    raw: str, *, parse_mode: str, explicit_entities: Any, automatic: bool = True
) -> tuple[str, list[Json]]:
    """Telegram's handling of a message text: parse, trim, check length, add automatic entities."""
    if raw == "":
        raise bad_request("message text is empty")
    if len(raw) > 1 << 15:
        raise bad_request("text is too long")
    mode = parse_mode.strip().lower()
    if mode in {"", "none"}:
        text, entities = raw, parse_explicit_entities(explicit_entities)
    elif mode == "html":
        text, entities = parse_html(raw)
    elif mode in {"markdown", "markdownv2"}:
        # Not parsed: the page shows the source. docs/emulator.md says so.
        text, entities = raw, []
    else:
        raise bad_request("unsupported parse_mode")
    text, entities = _trim(text, entities)
    if not text:
        raise bad_request("message must be non-empty")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise bad_request("message is too long")
    if automatic:
        entities = entities + find_automatic_entities(text, entities)
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return text, entities


def plain_text_entities(text: str) -> list[Json]:
    """Entities Telegram adds to what a person types (e.g. the bot_command of "/start TOKEN")."""
    return find_automatic_entities(text, [])


_SAFE_LINK = re.compile(r"^(https?://|tg://)", re.IGNORECASE)


def _open_tag(entity: Json, text: str) -> tuple[str, str]:
    kind = entity["type"]
    simple = {
        "bold": "b",
        "italic": "i",
        "underline": "u",
        "strikethrough": "s",
        "code": "code",
        "blockquote": "blockquote",
        "expandable_blockquote": "blockquote",
    }
    if kind in simple:
        return f"<{simple[kind]}>", f"</{simple[kind]}>"
    if kind == "pre":
        return "<pre><code>", "</code></pre>"
    if kind == "spoiler":
        return '<span class="spoiler">', "</span>"
    if kind == "bot_command":
        return '<span class="command">', "</span>"
    href = entity.get("url", text) if kind in {"text_link", "url"} else None
    if href is not None and _SAFE_LINK.match(href) and href.lower().startswith("http"):
        return f'<a href="{html.escape(href, quote=True)}" rel="noopener noreferrer" target="_blank">', "</a>"
    return "", ""


def render_html(text: str, entities: list[Json]) -> str:
    """Safe HTML for the page: text escaped, formatting rebuilt only from known entity types."""
    offsets = _utf16_offsets(text)
    index_of = {offset: index for index, offset in enumerate(offsets)}
    spans: list[tuple[int, int, Json]] = []
    for entity in entities:
        start = index_of.get(entity.get("offset", -1))
        end = index_of.get(entity.get("offset", -1) + entity.get("length", 0))
        if start is not None and end is not None and end > start:
            spans.append((start, end, entity))
    cuts = sorted({0, len(text), *(start for start, _, _ in spans), *(end for _, end, _ in spans)})
    pieces: list[str] = []
    # Rendering each stretch between entity boundaries with all its active tags copes with overlapping
    # entities (the `entities` parameter allows them) while always producing well-nested HTML.
    for left, right in itertools.pairwise(cuts):
        segment = text[left:right]
        tags = [
            _open_tag(entity, text[start:end])
            for start, end, entity in spans
            if start <= left and right <= end
        ]
        pieces.append("".join(opening for opening, _ in tags))
        pieces.append(html.escape(segment, quote=True))
        pieces.append("".join(closing for _, closing in reversed(tags)))
    return "".join(pieces)
