"""The production guards' checks: weak secrets, Telegram's token shape, loopback, and one line per problem."""

from __future__ import annotations

import secrets

import pytest
from pydantic import BaseModel, Field, ValidationError, model_validator

from flows.production import (
    bits_per_character,
    is_loopback,
    one_line_each,
    secret_problem,
    secret_weakness,
    telegram_token_problem,
)

REAL_LOOKING_TOKEN = (
    "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"  # the shape of Telegram's documented example
)


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("a" * 32, "run of 8"),  # finding 7: 32 x "a" was accepted
        ("k" * 16 + "0123456789abcdefghijklmnop", "run of 8"),
        ("0123456789abcdefghijklmnopqrstuv", "run of 8"),
        ("zyxwvutsrqponmlkjihgfedcba987654", "run of 8"),
        ("Tr0ub4dor&3-Tr0ub4dor&3-Tr0ub4dor&3", "shorter piece repeated"),
        ("our-aftercare-secret-key-for-2026!", "placeholder word 'secret'"),
        ("please-change-me-before-we-go-live", "placeholder word 'change-me'"),
        ("abbabaabbaababbabaababbaabbabaab", "too predictable"),  # Thue-Morse: two letters, no run, no period
        ("9f8e7d6c5b4a", "shorter than 32"),
    ],
)
def test_weak_secrets_are_named_with_the_reason(secret: str, reason: str) -> None:
    weakness = secret_weakness(secret, min_length=32)
    assert weakness is not None and reason in weakness


def test_random_secrets_of_the_recommended_kinds_pass() -> None:
    for _ in range(2000):
        assert secret_weakness(secrets.token_urlsafe(32), min_length=32) is None
        assert secret_weakness(secrets.token_hex(32), min_length=32) is None
        assert secret_weakness(secrets.token_urlsafe(18), min_length=24) is None


def test_entropy_is_zero_for_one_character_and_grows_with_variety() -> None:
    assert bits_per_character("aaaa") == 0
    assert bits_per_character("abab") == 1
    assert bits_per_character("abcdefgh") == 3


def test_a_refusal_is_one_line_naming_the_setting_and_what_to_set() -> None:
    assert secret_problem("WEBHOOK_SECRET", secrets.token_urlsafe(24), min_length=24) is None
    missing = secret_problem("WEBHOOK_SECRET", None, min_length=24)
    assert missing is not None and missing.startswith("WEBHOOK_SECRET is not set: set 24+ random characters")
    weak = secret_problem("CONSOLE_SECRET_KEY", "a" * 32, min_length=32)
    assert weak is not None and "\n" not in weak
    assert (
        weak.startswith("CONSOLE_SECRET_KEY is too weak (has a run of 8") and "secrets.token_urlsafe" in weak
    )


@pytest.mark.parametrize(
    "token",
    [
        "x",
        "123456:ABC",
        "bot110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
        "110201543 AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw",
    ],
)
def test_a_token_not_of_telegrams_shape_is_refused(token: str) -> None:
    problem = telegram_token_problem(token)
    assert problem is not None and "shape" in problem


def test_a_token_of_the_right_shape_but_no_randomness_is_refused() -> None:
    problem = telegram_token_problem("123456:" + "A" * 35)
    assert problem is not None and "real token" in problem
    assert telegram_token_problem(REAL_LOOKING_TOKEN) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.1.1", True),
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),  # noqa: S104 - the address under test
        ("::", False),
        ("10.0.0.5", False),
        ("console.example.nhs.uk", False),
    ],
)
def test_only_loopback_addresses_count_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


class _Example(BaseModel):
    tick_seconds: float = Field(gt=0)
    token: str = ""

    @model_validator(mode="after")
    def _check(self) -> _Example:
        if self.token == "x":
            raise ValueError("FIRST must be set\nSECOND must be https")
        return self


def test_settings_errors_become_one_line_each_naming_the_variable() -> None:
    with pytest.raises(ValidationError) as field_error:
        _Example(tick_seconds=0)
    assert one_line_each(field_error.value) == ["TICK_SECONDS: Input should be greater than 0"]
    with pytest.raises(ValidationError) as model_error:
        _Example(tick_seconds=1, token="x")
    assert one_line_each(model_error.value) == ["FIRST must be set", "SECOND must be https"]
