"""reply_markup as Telegram checks it."""

import pytest

from bot.emulator.errors import ApiError
from bot.emulator.markup import MarkupKind, parse_reply_markup


def refusal(raw: object, *, inline_only: bool = False) -> str:
    with pytest.raises(ApiError) as raised:
        parse_reply_markup(raw, inline_only=inline_only)
    return raised.value.description


def test_callback_data_is_limited_to_64_bytes_of_utf8() -> None:
    fits = parse_reply_markup({"inline_keyboard": [[{"text": "ok", "callback_data": "ü" * 32}]]})
    assert fits is not None and fits.kind is MarkupKind.INLINE
    assert refusal({"inline_keyboard": [[{"text": "no", "callback_data": "ü" * 32 + "!"}]]}) == (
        "Bad Request: BUTTON_DATA_INVALID"
    )


def test_an_inline_button_needs_an_action() -> None:
    assert refusal({"inline_keyboard": [[{"text": "x", "callback_data": ""}]]}).endswith(
        "Text buttons are unallowed in the inline keyboard"
    )
    assert refusal({"inline_keyboard": [["x"]]}).endswith("InlineKeyboardButton must be an Object")
    assert refusal({"inline_keyboard": [{"text": "x"}]}) == (
        'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
    )


@pytest.mark.parametrize("url", ["http://localhost:8000/x", "http://127.0.0.1/x", "http://intranet/x"])
def test_url_buttons_to_private_hosts_are_refused(url: str) -> None:
    assert refusal({"inline_keyboard": [[{"text": "x", "url": url}]]}) == "Bad Request: BUTTON_URL_INVALID"


def test_url_buttons_to_public_hosts_and_telegram_links_pass() -> None:
    for url in ("https://www.nhs.uk/", "https://t.me/AftercareLocalBot?start=abc", "tg://resolve?domain=x"):
        assert parse_reply_markup({"inline_keyboard": [[{"text": "x", "url": url}]]}) is not None
    assert "is invalid: Wrong HTTP URL" in refusal(
        {"inline_keyboard": [[{"text": "x", "url": "ftp://nhs.uk"}]]}
    )


def test_reply_keyboards_removal_and_force_reply() -> None:
    keyboard = parse_reply_markup({"keyboard": [["Yes", {"text": "No"}]], "one_time_keyboard": True})
    assert (
        keyboard is not None
        and keyboard.keyboard == [[{"text": "Yes"}, {"text": "No"}]]
        and keyboard.one_time
    )
    removal = parse_reply_markup({"remove_keyboard": True})
    assert removal is not None and removal.kind is MarkupKind.REMOVE
    force = parse_reply_markup({"force_reply": True, "input_field_placeholder": "0-10"})
    assert force is not None and force.placeholder == "0-10"
    assert refusal({"keyboard": [["x"]]}, inline_only=True) == "Bad Request: inline keyboard expected"
    assert refusal([1]) == "Bad Request: object expected as reply markup"
