"""Message text as Telegram stores it, and the safe HTML the phone page shows."""

import pytest

from bot.emulator.entities import format_text, render_html
from bot.emulator.errors import ApiError


def test_text_is_trimmed_and_entities_shifted() -> None:
    text, entities = format_text("  \n<b>Hi</b>  ", parse_mode="HTML", explicit_entities=None)
    assert (text, entities) == ("Hi", [{"offset": 0, "length": 2, "type": "bold"}])


def test_commands_links_and_mentions_are_found_automatically() -> None:
    text, entities = format_text(
        "/start abc see https://www.nhs.uk/conditions. ask @clinic_team",
        parse_mode="",
        explicit_entities=None,
    )
    found = {(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in entities}
    assert found == {
        ("bot_command", "/start"),
        ("url", "https://www.nhs.uk/conditions"),
        ("mention", "@clinic_team"),
    }


def test_length_is_checked_after_parsing() -> None:
    text, _ = format_text("<b>" + "a" * 4096 + "</b>", parse_mode="HTML", explicit_entities=None)
    assert len(text) == 4096
    with pytest.raises(ApiError, match="message is too long"):
        format_text("a" * 4097, parse_mode="", explicit_entities=None)


def test_explicit_entities_are_read_and_checked() -> None:
    _, entities = format_text(
        "Hello", parse_mode="", explicit_entities=[{"type": "bold", "offset": 0, "length": 5}]
    )
    assert entities == [{"offset": 0, "length": 5, "type": "bold"}]
    with pytest.raises(ApiError, match="Unsupported type specified"):
        format_text("Hello", parse_mode="", explicit_entities=[{"type": "blink", "offset": 0, "length": 5}])


def test_rendering_escapes_everything_but_known_formatting() -> None:
    text = "<script>alert(1)</script> & bold"
    rendered = render_html(text, [{"type": "bold", "offset": 28, "length": 4}])
    assert rendered == "&lt;script&gt;alert(1)&lt;/script&gt; &amp; <b>bold</b>"


def test_links_render_only_for_http_and_are_attribute_escaped() -> None:
    safe = render_html("NHS", [{"type": "text_link", "offset": 0, "length": 3, "url": 'https://nhs.uk/"x'}])
    assert safe == '<a href="https://nhs.uk/&quot;x" rel="noopener noreferrer" target="_blank">NHS</a>'
    assert (
        render_html("go", [{"type": "text_link", "offset": 0, "length": 2, "url": "javascript:alert(1)"}])
        == "go"
    )


def test_overlapping_entities_still_render_well_nested() -> None:
    rendered = render_html(
        "abcd", [{"type": "bold", "offset": 0, "length": 3}, {"type": "italic", "offset": 2, "length": 2}]
    )
    assert rendered == "<b>ab</b><b><i>c</i></b><i>d</i>"


def test_rendering_respects_utf16_offsets() -> None:
    assert render_html("🙂 ok", [{"type": "bold", "offset": 3, "length": 2}]) == "🙂 <b>ok</b>"
