"""Text made safe to store: NUL and other control characters gone (tab and newline kept, a carriage return a
newline), a lone surrogate replaced; everything else exactly as written."""

from __future__ import annotations

from storage.safe_text import safe_strings, safe_text


def test_nul_and_other_controls_go_and_line_breaks_stay() -> None:
    assert safe_text("my back\x00 hurts\x07\x1b") == "my back hurts"
    assert safe_text("line one\r\nline two\rthree\tfour\n") == "line one\nline two\nthree\tfour\n"


def test_a_lone_surrogate_becomes_the_replacement_character_and_real_emoji_stay() -> None:
    assert safe_text("ok \ud83d") == "ok \ufffd"
    assert safe_text("ok 😀 ça va ﻿ é") == "ok 😀 ça va ﻿ é"


def test_every_string_in_an_update_is_made_safe_and_the_original_is_untouched() -> None:
    update = {"update_id": 1, "message": {"text": "a\x00b", "entities": [{"type": "x\x00"}], "n\x00": True}}
    assert safe_strings(update) == {
        "update_id": 1,
        "message": {"text": "ab", "entities": [{"type": "x"}], "n": True},
    }
    assert update["message"]["text"] == "a\x00b"  # type: ignore[index]
