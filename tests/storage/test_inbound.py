"""Inbound updates: each Telegram update is kept as sent, recorded (and so processed) once; a reused update_id
with new content is a new update; one that fails is quarantined; health reads counts and times from here."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from storage.db import session_scope
from storage.errors import NotFound
from storage.inbound import (
    adopt_unowned_updates,
    canonical_json,
    content_digest,
    inbound_health,
    inbound_update,
    note_delivery,
    note_processing_restart,
    quarantine_inbound_update,
    record_inbound_update,
    take_inbound_update,
    waiting_updates,
)
from storage.models import InboundStatus, InboundUpdate
from tests.storage.factories import HOUR, NOW

BOT = 5_000_000_001


def _record(session: Session, update_id: int, *, text: str = "hello", bot_id: int = BOT) -> int | None:
    payload = {"update_id": update_id, "message": {"chat": {"id": 8_000_000_001}, "text": text}}
    return record_inbound_update(
        session=session,
        bot_id=bot_id,
        update_id=update_id,
        chat_id=8_000_000_001,
        kind="message",
        payload_json=canonical_json(payload),
        now=NOW,
    )


def test_an_update_delivered_twice_is_recorded_once(session: Session) -> None:
    row_id = _record(session, 1001)
    assert row_id is not None
    assert _record(session, 1001) is None
    update = inbound_update(session=session, row_id=row_id)
    assert update is not None and update.status == InboundStatus.RECEIVED and update.chat_id == 8_000_000_001
    assert update.bot_id == BOT and update.content_sha256 == content_digest(update.payload_json)


def test_a_reused_update_id_with_new_content_or_from_another_bot_is_a_new_update(session: Session) -> None:
    first = _record(session, 7, text="my legs are numb")
    reused = _record(session, 7, text="all fine today")  # Telegram chose 7 again, a week later
    other_bot = _record(session, 7, text="my legs are numb", bot_id=BOT + 1)  # a new token, its own numbering
    assert None not in (first, reused, other_bot) and len({first, reused, other_bot}) == 3
    assert _record(session, 7, text="all fine today") is None  # but the same one again is a repeat
    assert waiting_updates(session=session) == [first, reused, other_bot]


def test_the_kept_json_holds_every_character_including_nul(session: Session) -> None:
    text = "a\x00b\r\nc \ud83d"  # NUL, a carriage return, a lone surrogate
    row_id = _record(session, 11, text=text)
    session.commit()  # PostgreSQL's text type refuses NUL, but \u0000 in JSON is only six ASCII characters
    assert row_id is not None
    row = inbound_update(session=session, row_id=row_id)
    assert row is not None and json.loads(row.payload_json)["message"]["text"] == text
    assert row.payload_json.isascii()


def test_updates_left_unprocessed_by_a_crash_are_found_again_in_arrival_order(session: Session) -> None:
    rows = [_record(session, update_id) for update_id in (3, 1, 2)]
    assert None not in rows
    assert take_inbound_update(session=session, row_id=rows[2] or 0, now=NOW) is not None  # processed
    quarantine_inbound_update(session=session, row_id=rows[0] or 0, reason="unreadable: TypeError", now=NOW)

    assert waiting_updates(session=session) == [rows[1]]
    failed = inbound_update(session=session, row_id=rows[0] or 0)
    assert failed is not None and failed.status == InboundStatus.FAILED
    assert failed.error == "unreadable: TypeError" and failed.payload_json  # kept, with the reason


def test_quarantining_an_update_never_recorded_is_an_error(session: Session) -> None:
    with pytest.raises(NotFound):
        quarantine_inbound_update(session=session, row_id=404, reason="ValueError", now=NOW)


def test_rows_from_before_the_bot_id_was_kept_are_adopted(session: Session) -> None:
    old = [_record(session, update_id) for update_id in (5, 6)]
    for row_id in old:
        session.get(InboundUpdate, row_id).bot_id = None  # type: ignore[union-attr]
    session.flush()
    assert _record(session, 6) is not None  # before adoption, not recognised as a repeat
    assert adopt_unowned_updates(session=session, bot_id=BOT) == 1  # 6 was recorded again: left as it is
    assert adopt_unowned_updates(session=session, bot_id=BOT) == 0
    assert _record(session, 5) is None  # Telegram sending 5 again after the upgrade: a repeat


def test_an_update_is_taken_for_processing_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        row_id = _record(session, 777)
        assert row_id is not None
    with session_scope(engine) as first:
        taken = take_inbound_update(session=first, row_id=row_id, now=NOW)
        assert taken is not None and json.loads(taken.payload_json)["update_id"] == 777
    with session_scope(engine) as session:
        assert take_inbound_update(session=session, row_id=row_id, now=NOW) is None  # processed: never again
        assert take_inbound_update(session=session, row_id=row_id + 1, now=NOW) is None  # never recorded
        row = inbound_update(session=session, row_id=row_id)
        assert row is not None and row.status == InboundStatus.PROCESSED and row.id == taken.id


def test_an_update_whose_processing_rolled_back_is_still_to_be_processed(engine: Engine) -> None:
    with session_scope(engine) as session:
        row_id = _record(session, 901)
        assert row_id is not None
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        assert take_inbound_update(session=session, row_id=row_id, now=NOW) is not None
        raise RuntimeError("a handler failed")
    with session_scope(engine) as session:
        assert waiting_updates(session=session) == [row_id]
        assert take_inbound_update(session=session, row_id=row_id, now=NOW) is not None


def test_a_second_worker_waits_for_the_first_and_then_leaves_the_update_alone(engine: Engine) -> None:
    with session_scope(engine) as session:
        row_id = _record(session, 902)
        assert row_id is not None
    second: list[object] = []

    def second_worker() -> None:
        with session_scope(engine) as session:
            second.append(take_inbound_update(session=session, row_id=row_id, now=NOW))

    with session_scope(engine) as first:
        assert take_inbound_update(session=first, row_id=row_id, now=NOW) is not None
        worker = threading.Thread(target=second_worker)
        worker.start()  # blocks on the first's lock (SQLite's write lock, or PostgreSQL's row lock)
        worker.join(timeout=0.3)
        assert worker.is_alive() and second == []  # still waiting: it did not skip ahead
    worker.join(timeout=10)
    assert second == [None]  # the first committed it as processed


def test_health_counts_waiting_and_quarantined_updates_and_knows_when_telegram_last_delivered(
    session: Session,
) -> None:
    empty = inbound_health(session=session)
    assert (empty.waiting, empty.quarantined, empty.last_delivery_at, empty.mode) == (0, 0, None, None)
    rows = [_record(session, update_id) for update_id in (1, 2, 3)]
    quarantine_inbound_update(session=session, row_id=rows[0] or 0, reason="unreadable", now=NOW + HOUR)
    note_delivery(session=session, bot_id=BOT, mode="polling", now=NOW)
    note_delivery(session=session, bot_id=BOT, mode="polling", now=NOW + HOUR)
    note_processing_restart(session=session, bot_id=BOT, mode="polling", error="OperationalError", now=NOW)
    note_processing_restart(session=session, bot_id=BOT, mode="polling", error="RuntimeError", now=NOW + HOUR)

    health = inbound_health(session=session)
    assert (health.waiting, health.oldest_waiting_since, health.quarantined) == (2, NOW, 1)
    assert health.last_quarantined_at == NOW + HOUR
    assert (health.mode, health.last_delivery_at) == ("polling", NOW + HOUR)
    assert (health.processing_restarts, health.last_processing_restart_at) == (2, NOW + HOUR)
    assert health.last_processing_restart_error == "RuntimeError"
    later = inbound_health(session=session, quarantined_since=NOW + HOUR + timedelta(seconds=1))
    assert later.quarantined == 0
