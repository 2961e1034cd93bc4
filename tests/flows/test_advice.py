"""Advice cards: rendered in the clinic's words, office-hours aware, care-card shaped."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from flows.advice import bundled_catalogue, render
from flows.clinic import Clinic
from flows.levels import Level

MONDAY_MORNING = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SATURDAY_NIGHT = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


def test_cauda_equina_card_sends_to_a_and_e_now(clinic: Clinic) -> None:
    text = render("red.ces", clinic=clinic, now=SATURDAY_NIGHT)
    assert text.splitlines()[0] == "Go to A&E now."
    assert "Derriford Emergency Department" in text
    assert "999" in text


@pytest.mark.parametrize("advice_id", [c.id for c in bundled_catalogue().cards if c.level is Level.RED])
def test_red_cards_name_the_clinic_phone_only_in_office_hours(clinic: Clinic, advice_id: str) -> None:
    assert clinic.phone not in render(advice_id, clinic=clinic, now=SATURDAY_NIGHT)


def test_red_card_adds_the_clinic_phone_when_open(clinic: Clinic) -> None:
    assert clinic.phone in render("red.leg_weakness", clinic=clinic, now=MONDAY_MORNING)
    assert clinic.phone not in render("red.leg_weakness", clinic=clinic, now=SATURDAY_NIGHT)


def test_crisis_card_gives_999_111_option_2_and_samaritans(clinic: Clinic) -> None:
    text = render("red.crisis", clinic=clinic, now=SATURDAY_NIGHT)
    assert "999" in text
    assert "option 2" in text
    assert "116 123" in text


def test_amber_cards_end_with_the_catch_all_line(clinic: Clinic) -> None:
    text = render("amber.wound", clinic=clinic, now=MONDAY_MORNING)
    assert text.splitlines()[-1].startswith("If you are worried about any other symptom")
    assert "Monday to Friday, 9am to 5pm" in text


def test_fever_card_names_the_procedure_date(clinic: Clinic) -> None:
    text = render(
        "red.fever_back_pain", clinic=clinic, now=MONDAY_MORNING, procedure_date="Friday 20 November"
    )
    assert "Friday 20 November" in text


@pytest.mark.parametrize("card", bundled_catalogue().cards, ids=lambda c: c.id)
def test_cards_keep_sentences_short(card) -> None:  # type: ignore[no-untyped-def]
    # NHS "How we write": sentences of 20 words at most (placeholders count as one word).
    for line in [card.heading, *card.lines]:
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            assert len(sentence.split()) <= 25, sentence
