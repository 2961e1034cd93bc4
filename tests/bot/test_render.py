"""bot/render.py never produces what Telegram would refuse: for every check-in and question of every
protocol, every advice card and every message, the text is valid Telegram HTML of at most 4096 characters
(nothing cut off to get there) and every button's callback_data is 1-64 bytes."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.conversation import CHECKIN_BUTTON, CONFIRM_VALUE
from bot.emulator.html_parse import parse_html, utf16_length
from bot.render import ENGINE_PROBLEMS, Button, Outgoing, Scene, plain, render
from bot.staff_alerts import ACK_PREFIX
from flows.advice import bundled_catalogue
from flows.catalogue import ResolvedProtocol, bundled_protocols
from flows.effects import AskConfirmation, AskQuestion, Effect, GiveAdvice, SendEducation
from flows.levels import Level
from flows.messages import catalogue, placeholders, say
from flows.parsers import PROBLEMS
from flows.triage import options_for
from storage.answers import MAX_VALUE
from storage.models import CallbackToken
from tests.bot.conftest import local_settings

TELEGRAM_MAX_TEXT = 4096
TELEGRAM_MAX_CALLBACK_BYTES = 64
CLINIC = local_settings("sqlite://").clinic
OPEN, CLOSED = datetime(2026, 11, 23, 10, 0, tzinfo=UTC), datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
PROTOCOLS = bundled_protocols()
LONGEST_HINT = max(
    [*PROBLEMS, *ENGINE_PROBLEMS], key=lambda p: len(PROBLEMS.get(p) or ENGINE_PROBLEMS.get(p, ""))
)


def token_data(value: str) -> str:
    """The callback data conversation.py gives a button: a 16-character token (storage/answers.py)."""
    assert len(CONFIRM_VALUE + value) <= MAX_VALUE, f"button value {value!r} does not fit CallbackToken.value"
    return CHECKIN_BUTTON + secrets.token_urlsafe(12)


def assert_telegram_accepts(message: Outgoing, *, must_contain: str = "") -> str:
    """The message as the patient reads it, after checking Telegram would take it."""
    text, _ = parse_html(message.text)  # raises, as Telegram would, on bad HTML
    assert 0 < utf16_length(text.strip()) <= TELEGRAM_MAX_TEXT
    assert len(message.text) <= TELEGRAM_MAX_TEXT and not message.text.endswith("…")  # nothing cut to fit
    assert must_contain in text
    for button in (b for row in message.buttons for b in row):
        assert 1 <= len(button.data.encode()) <= TELEGRAM_MAX_CALLBACK_BYTES, button
        assert button.label.strip()
    return text


def scene(protocol: ResolvedProtocol, now: datetime = OPEN, *, opener: str | None = None) -> Scene:
    return Scene(
        clinic=CLINIC,
        now=now,
        name="Bartholomew-Maximilian",
        protocol=protocol,
        procedure_date="Monday 23 November",
        opener=opener,
    )


@pytest.mark.parametrize("protocol", PROTOCOLS.values(), ids=list(PROTOCOLS))
def test_every_check_in_opening_fits_one_message(protocol: ResolvedProtocol) -> None:
    for checkin in protocol.checkins:
        first = checkin.questions[0]
        effects: tuple[Effect, ...] = (
            *(SendEducation(message_id=m) for m in checkin.education),
            AskQuestion(
                checkin_id=checkin.id, question_id=first, options=options_for(protocol.question(first))
            ),
        )
        [message] = render(effects, scene(protocol, opener="checkin.start"), token_data)
        assert_telegram_accepts(message, must_contain=protocol.question(first).text.strip()[-40:])


@pytest.mark.parametrize("protocol", PROTOCOLS.values(), ids=list(PROTOCOLS))
def test_every_question_asked_again_with_a_hint_and_every_calm_card_fits(protocol: ResolvedProtocol) -> None:
    calm_cards = [card.id for card in bundled_catalogue().cards if card.level is Level.GREEN]
    for question in protocol.questions.values():
        ask = AskQuestion(
            checkin_id="c", question_id=question.id, options=options_for(question), reask_problem=LONGEST_HINT
        )
        advice = tuple(GiveAdvice(advice_id=card, level=Level.GREEN, rule="green.x") for card in calm_cards)
        for opener in ("checkin.reminder", None):
            [message] = render((*advice, ask), scene(protocol, opener=opener), token_data)
            assert_telegram_accepts(message, must_contain=question.text.strip()[-40:])
            assert message.purpose in ("checkin_question", "reminder")
        confirm = AskConfirmation(
            checkin_id="c", question_id=question.id, understood_as="180 mg/dL (10.0 mmol/L)"
        )
        [message] = render((confirm,), scene(protocol), token_data)
        assert_telegram_accepts(message, must_contain="Is that right?")


@pytest.mark.parametrize("now", [OPEN, CLOSED], ids=["clinic open", "clinic closed"])
def test_every_urgent_card_is_a_message_of_its_own_that_fits(now: datetime) -> None:
    protocol = PROTOCOLS["sacroiliac-joint-injection"]
    urgent = [card for card in bundled_catalogue().cards if card.level is not Level.GREEN]
    effects = tuple(GiveAdvice(advice_id=card.id, level=card.level, rule="x") for card in urgent)
    messages = render(effects, scene(protocol, now), token_data)
    assert len(messages) == len(urgent)
    for message, card in zip(messages, urgent, strict=True):
        assert message.urgent and message.text.startswith(say("preview.urgent"))
        assert card.heading.split("{")[0].strip() in assert_telegram_accepts(message)


def test_every_message_from_the_catalogue_fits_with_long_values() -> None:
    long = "x" * 120  # far longer than any name, reference, date or phone number we fill in
    yes_no = ((Button(label=say("consent.yes"), data="consent:yes"), Button(label="No", data="stop:no")),)
    for message_id in catalogue().messages:
        values: dict[str, Any] = {name: long for name in placeholders(message_id)}
        message = plain(message_id, buttons=yes_no, **{**values, "clinic": CLINIC.short_name})
        assert_telegram_accepts(message)


def test_the_fixed_buttons_fit_callback_data() -> None:
    for data in (
        "consent:yes",
        "consent:no",
        "stop:yes",
        "stop:no",
        f"{ACK_PREFIX}{10**15}",
        CHECKIN_BUTTON + "x" * CallbackToken.model_fields["token"].metadata[0].max_length,
    ):
        assert len(data.encode()) <= TELEGRAM_MAX_CALLBACK_BYTES
