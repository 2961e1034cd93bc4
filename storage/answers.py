"""Patients' answers, and the short tokens inline buttons carry instead of the answer itself.

Telegram limits callback_data to 64 bytes, so a button holds only a 16-character random token; the
check-in, question and value it stands for stay here. A token is used at most once.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from flows.levels import Level
from storage._sql import locked
from storage.models import Answer, CallbackToken

MAX_VALUE = 64


def record_answer(
    *,
    session: Session,
    episode_id: int,
    question_id: str,
    text: str,
    level: Level,
    now: datetime,
    checkin_id: int | None = None,
    value_json: str | None = None,
    rule: str | None = None,
) -> int:
    """Keep what the patient said and how it was graded; returns the answer's id. `checkin_id` is None
    for a message sent outside any check-in."""
    values = {
        "checkin_id": checkin_id,
        "episode_id": episode_id,
        "question_id": question_id,
        "text": text,
        "value_json": value_json,
        "level": level,
        "rule": rule,
        "answered_at": now,
    }
    session.flush()  # keep statement order: rows the ORM still holds go first
    # Core, not session.add: this runs for every reply.
    return int(session.connection().execute(_INSERT_ANSWER, values).scalar_one())


def answers_for_episode(*, session: Session, episode_id: int) -> list[Answer]:
    """Oldest first."""
    query = select(Answer).where(Answer.episode_id == episode_id)
    return list(session.exec(query.order_by(col(Answer.answered_at), col(Answer.id))).all())


def answers_for_checkin(*, session: Session, checkin_id: int) -> list[Answer]:
    """Oldest first."""
    query = select(Answer).where(Answer.checkin_id == checkin_id)
    return list(session.exec(query.order_by(col(Answer.answered_at), col(Answer.id))).all())


def create_callback_token(
    *, session: Session, checkin_id: int, question_id: str, value: str, now: datetime
) -> CallbackToken:
    if len(value) > MAX_VALUE:
        raise ValueError(f"a button value must be at most {MAX_VALUE} characters")
    callback = CallbackToken(
        token=secrets.token_urlsafe(12),  # 16 url-safe characters, 96 random bits
        checkin_id=checkin_id,
        question_id=question_id,
        value=value,
        created_at=now,
    )
    session.add(callback)
    session.flush()
    return callback


def create_callback_tokens(
    *, session: Session, checkin_id: int, question_id: str, values: Sequence[str], now: datetime
) -> dict[str, str]:
    """One token per button value of a question, inserted together (a 0-10 scale is eleven buttons).
    Returns value -> token."""
    if any(len(value) > MAX_VALUE for value in values):
        raise ValueError(f"a button value must be at most {MAX_VALUE} characters")
    tokens = {value: secrets.token_urlsafe(12) for value in values}
    rows = [
        {
            "token": token,
            "checkin_id": checkin_id,
            "question_id": question_id,
            "value": value,
            "created_at": now,
        }
        for value, token in tokens.items()
    ]
    if rows:
        session.flush()
        session.connection().execute(_INSERT_TOKEN, rows)  # one executemany, not one INSERT per button
    return tokens


def resolve_callback_token(*, session: Session, token: str) -> CallbackToken | None:
    """What a pressed button stands for (check `used_at`: a used token must not count twice)."""
    if not token or len(token) > 16:
        return None
    return session.exec(select(CallbackToken).where(CallbackToken.token == token)).first()


def mark_callback_token_used(*, session: Session, token_id: int, now: datetime) -> bool:
    """True for the first use only, even if the button is pressed twice at once."""
    callback = locked(session, CallbackToken, token_id)
    if callback.used_at is not None:
        return False
    callback.used_at = now
    session.flush()
    return True


def retire_callback_tokens(*, session: Session, checkin_id: int, question_id: str, now: datetime) -> int:
    """Mark every unused button of a question used (once answered, its other buttons are stale)."""
    session.flush()
    retired = session.connection().execute(
        _RETIRE_TOKENS, {"retired_at": now, "of_checkin": checkin_id, "of_question": question_id}
    )
    for loaded in list(session.identity_map.values()):  # keep any token this session has read in step
        if (
            isinstance(loaded, CallbackToken)
            and loaded.checkin_id == checkin_id
            and loaded.question_id == question_id
            and loaded.used_at is None
        ):
            set_committed_value(loaded, "used_at", now)
    return int(retired.rowcount)


# Prepared once: record_answer, create_callback_tokens and retire_callback_tokens run for every reply.
_ANSWERS = Answer.__table__  # type: ignore[attr-defined]
_TOKENS = CallbackToken.__table__  # type: ignore[attr-defined]
_INSERT_ANSWER = insert(_ANSWERS).returning(_ANSWERS.c.id)
_INSERT_TOKEN = insert(_TOKENS)
_RETIRE_TOKENS = (
    update(_TOKENS)
    .where(
        _TOKENS.c.checkin_id == bindparam("of_checkin"),
        _TOKENS.c.question_id == bindparam("of_question"),
        _TOKENS.c.used_at.is_(None),
    )
    .values(used_at=bindparam("retired_at"))
)
