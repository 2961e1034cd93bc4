"""Telegram's HTML parse mode: what it accepts, what it refuses, and the wording of refusals."""

import pytest

from bot.emulator.errors import ApiError
from bot.emulator.html_parse import parse_html


def refusal(source: str) -> str:
    with pytest.raises(ApiError) as raised:
        parse_html(source)
    assert raised.value.error_code == 400
    return raised.value.description.removeprefix("Bad Request: can't parse entities: ")


def test_tags_become_entities() -> None:
    text, entities = parse_html("<b>Red</b> <i>flag</i>: <u>call</u> <s>later</s> <code>999</code>")
    assert text == "Red flag: call later 999"
    assert [(e["type"], text[e["offset"] : e["offset"] + e["length"]]) for e in entities] == [
        ("bold", "Red"),
        ("italic", "flag"),
        ("underline", "call"),
        ("strikethrough", "later"),
        ("code", "999"),
    ]


def test_nested_tags_links_spoilers_and_blockquotes() -> None:
    text, entities = parse_html(
        '<b>a <i>b</i></b> <a href="https://nhs.uk/?a=1&amp;b=2">NHS</a> <tg-spoiler>s</tg-spoiler> '
        '<span class="tg-spoiler">t</span> <blockquote expandable>q</blockquote>'
    )
    assert text == "a b NHS s t q"
    kinds = [(e["type"], e["offset"], e["length"]) for e in entities]
    assert kinds == [
        ("bold", 0, 3),
        ("italic", 2, 1),
        ("text_link", 4, 3),
        ("spoiler", 8, 1),
        ("spoiler", 10, 1),
        ("expandable_blockquote", 12, 1),
    ]
    assert entities[2]["url"] == "https://nhs.uk/?a=1&b=2"


def test_pre_with_a_code_language_is_one_entity() -> None:
    _, entities = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert entities == [{"offset": 0, "length": 5, "type": "pre", "language": "python"}]


def test_entities_escape_and_bare_ampersands() -> None:
    text, entities = parse_html("1 &lt; 2 &gt; 0 &amp;&quot;&#65;&#x42; fish & chips &nbsp;")
    assert text == '1 < 2 > 0 &"AB fish & chips &nbsp;'
    assert entities == []


def test_offsets_count_utf16_code_units() -> None:
    _, entities = parse_html("🙂🙂 <b>ok</b>")
    assert entities == [{"offset": 5, "length": 2, "type": "bold"}]


@pytest.mark.parametrize(
    ("source", "wording"),
    [
        ("line<br>break", 'Unsupported start tag "br" at byte offset 4'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("é<p>x</p>", 'Unsupported start tag "p" at byte offset 2'),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("text</b>", "Unexpected end tag at byte offset 4"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<a href="x"', "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        (
            "<b class>x</b>",
            'Expected equal sign in declaration of an attribute of the tag "b" at byte offset 0',
        ),
    ],
)
def test_refusals_match_telegram(source: str, wording: str) -> None:
    assert refusal(source) == wording


def test_empty_tags_make_no_entity() -> None:
    assert parse_html("<b></b>x") == ("x", [])
