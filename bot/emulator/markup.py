"""The `reply_markup` parameter checked as Telegram checks it: inline keyboards, reply keyboards, removal.

The refusals that matter to Aftercare are BUTTON_DATA_INVALID (callback_data must be 1-64 bytes of UTF-8,
which PTB does not check), text-only inline buttons, and URL buttons Telegram will not accept (localhost,
bare host names). Wording follows telegram-bot-api's Client.cpp. This module must not touch chat state.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from bot.emulator.errors import ApiError, Json, bad_request

MAX_CALLBACK_DATA_BYTES = 64
_INLINE_ACTIONS = (
    "callback_game",
    "pay",
    "switch_inline_query",
    "switch_inline_query_chosen_chat",
    "switch_inline_query_current_chat",
    "login_url",
    "web_app",
    "copy_text",
)


class MarkupKind(StrEnum):
    INLINE = "inline"
    KEYBOARD = "keyboard"
    REMOVE = "remove"
    FORCE_REPLY = "force_reply"


@dataclass(frozen=True, kw_only=True)
class ReplyMarkup:
    kind: MarkupKind
    inline_keyboard: list[list[Json]] = field(default_factory=list)
    keyboard: list[list[Json]] = field(default_factory=list)
    one_time: bool = False
    placeholder: str = ""


def _inline_error(detail: str) -> ApiError:
    return bad_request(f"can't parse inline keyboard button: {detail}")


def _string_field(button: dict[str, Any], name: str, *, required: bool) -> str:
    if name not in button:
        if required:
            raise _inline_error(f'Can\'t find field "{name}"')
        return ""
    value = button[name]
    if not isinstance(value, str):
        raise _inline_error(f'Field "{name}" must be of type String')
    return value


def check_button_url(url: str) -> None:
    """Telegram takes http(s) and tg links to public hosts; localhost and bare names are refused."""
    parts = urlsplit(url) if "://" in url else urlsplit("http://" + url)
    scheme = parts.scheme.lower()
    try:
        host = (parts.hostname or "").lower()
    except ValueError:
        host = ""
    if scheme == "tg" or (scheme in {"http", "https"} and host == "t.me"):
        return
    if scheme not in {"http", "https"} or not host:
        raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")
    if host == "localhost" or "." not in host or host.replace(".", "").isdigit():
        raise bad_request("BUTTON_URL_INVALID")


def _inline_button(button: Any) -> Json:
    if not isinstance(button, dict):
        raise _inline_error("InlineKeyboardButton must be an Object")
    text = _string_field(button, "text", required=True)
    url = _string_field(button, "url", required=False)
    if url:
        check_button_url(url)
        return {"text": text, "url": url}
    data = _string_field(button, "callback_data", required=False)
    if data:
        if len(data.encode("utf-8", "surrogatepass")) > MAX_CALLBACK_DATA_BYTES:
            raise bad_request("BUTTON_DATA_INVALID")
        return {"text": text, "callback_data": data}
    for action in _INLINE_ACTIONS:
        if action in button:
            return {"text": text, action: button[action]}
    raise _inline_error("Text buttons are unallowed in the inline keyboard")


def _keyboard_button(button: Any) -> Json:
    if isinstance(button, str):
        return {"text": button}
    if not isinstance(button, dict):
        raise bad_request("can't parse keyboard button: KeyboardButton must be a String or an Object")
    text = button.get("text")
    if not isinstance(text, str):
        raise bad_request('can\'t parse keyboard button: Field "text" must be of type String')
    kept = {
        name: button[name] for name in ("request_contact", "request_location") if button.get(name) is True
    }
    return {"text": text, **kept}


def _rows(value: Any, error: str) -> list[list[Any]]:
    if not isinstance(value, list) or not all(isinstance(row, list) for row in value):
        raise bad_request(error)
    return value


def parse_reply_markup(raw: Any, *, inline_only: bool = False) -> ReplyMarkup | None:
    """The decoded `reply_markup` JSON as a ReplyMarkup, None when absent; ApiError 400 when refused."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise bad_request("object expected as reply markup")
    if "inline_keyboard" in raw:
        rows = _rows(
            raw["inline_keyboard"],
            'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays',
        )
        return ReplyMarkup(
            kind=MarkupKind.INLINE, inline_keyboard=[[_inline_button(b) for b in row] for row in rows]
        )
    if inline_only:
        raise bad_request("inline keyboard expected")
    if "keyboard" in raw:
        rows = _rows(raw["keyboard"], 'field "keyboard" must be an Array of Arrays')
        placeholder = raw.get("input_field_placeholder")
        return ReplyMarkup(
            kind=MarkupKind.KEYBOARD,
            keyboard=[[_keyboard_button(b) for b in row] for row in rows],
            one_time=raw.get("one_time_keyboard") is True,
            placeholder=placeholder if isinstance(placeholder, str) else "",
        )
    if raw.get("remove_keyboard") is True or raw.get("hide_keyboard") is True:
        return ReplyMarkup(kind=MarkupKind.REMOVE)
    if raw.get("force_reply") is True:
        placeholder = raw.get("input_field_placeholder")
        return ReplyMarkup(
            kind=MarkupKind.FORCE_REPLY, placeholder=placeholder if isinstance(placeholder, str) else ""
        )
    return None
