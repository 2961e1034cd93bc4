"""Answers are kept with their grade; a button's token counts once."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from flows.levels import Level
from storage.answers import (
    answers_for_checkin,
    answers_for_episode,
    create_callback_token,
    create_callback_tokens,
    mark_callback_token_used,
    record_answer,
    resolve_callback_token,
    retire_callback_tokens,
)
from tests.storage.factories import HOUR, NOW, enrol_connected


def test_answers_are_kept_in_order_with_their_grade(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    episode_id, checkin_id = enrolment.episode.id or 0, enrolment.checkins[0].id

    pain_id = record_answer(
        session=session,
        episode_id=episode_id,
        checkin_id=checkin_id,
        question_id="pain_score",
        text="7",
        value_json="7",
        level=Level.AMBER,
        rule="pain_7_plus",
        now=NOW + HOUR,
    )
    free_text_id = record_answer(
        session=session,
        episode_id=episode_id,
        question_id="free_text",
        text="I feel ok",
        level=Level.GREEN,
        now=NOW,
    )

    answers = answers_for_episode(session=session, episode_id=episode_id)
    assert [(a.id, a.question_id, a.level, a.rule, a.text) for a in answers] == [
        (free_text_id, "free_text", Level.GREEN, None, "I feel ok"),
        (pain_id, "pain_score", Level.AMBER, "pain_7_plus", "7"),
    ]
    assert [a.question_id for a in answers_for_checkin(session=session, checkin_id=checkin_id or 0)] == [
        "pain_score"
    ]


def test_a_button_token_is_short_resolves_and_counts_only_once(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    checkin_id = enrolment.checkins[0].id or 0
    yes = create_callback_token(
        session=session, checkin_id=checkin_id, question_id="fever", value="yes", now=NOW
    )

    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", yes.token)
    resolved = resolve_callback_token(session=session, token=yes.token)
    assert resolved is not None and (resolved.checkin_id, resolved.question_id, resolved.value) == (
        checkin_id,
        "fever",
        "yes",
    )
    assert mark_callback_token_used(session=session, token_id=yes.id or 0, now=NOW + HOUR)
    assert not mark_callback_token_used(session=session, token_id=yes.id or 0, now=NOW + HOUR)
    assert resolve_callback_token(session=session, token="nonexistent") is None
    assert resolve_callback_token(session=session, token="x" * 65) is None


def test_answering_retires_the_other_buttons_of_the_question(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    checkin_id = enrolment.checkins[0].id or 0
    tokens = [
        create_callback_token(session=session, checkin_id=checkin_id, question_id="fever", value=v, now=NOW)
        for v in ("yes", "no")
    ]
    other = create_callback_token(
        session=session, checkin_id=checkin_id, question_id="pain", value="3", now=NOW
    )

    assert retire_callback_tokens(session=session, checkin_id=checkin_id, question_id="fever", now=NOW) == 2
    assert all(token.used_at == NOW for token in tokens) and other.used_at is None


def test_a_button_value_must_fit(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    with pytest.raises(ValueError, match="64"):
        create_callback_token(
            session=session,
            checkin_id=enrolment.checkins[0].id or 0,
            question_id="q",
            value="v" * 65,
            now=NOW,
        )


def test_a_questions_buttons_are_made_together_and_each_resolves_to_its_value(session: Session) -> None:
    enrolment, _ = enrol_connected(session)
    checkin_id = enrolment.checkins[0].id
    assert checkin_id is not None
    values = [str(n) for n in range(11)]
    tokens = create_callback_tokens(
        session=session, checkin_id=checkin_id, question_id="pain.now", values=values, now=NOW
    )
    assert list(tokens) == values and len(set(tokens.values())) == 11
    for value, token in tokens.items():
        callback = resolve_callback_token(session=session, token=token)
        assert callback is not None and callback.value == value and len(token) <= 16
    with pytest.raises(ValueError, match="at most"):
        create_callback_tokens(
            session=session, checkin_id=checkin_id, question_id="q", values=["x" * 65], now=NOW
        )
