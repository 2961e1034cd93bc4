"""Inbound updates: each Telegram update is recorded, and so processed, once."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from storage.db import session_scope
from storage.errors import NotFound
from storage.inbound import (
    inbound_update,
    mark_inbound_failed,
    record_inbound_update,
    take_inbound_update,
    unprocessed_updates,
)
from storage.models import InboundStatus
from tests.storage.factories import HOUR, NOW


def _record(session: Session, update_id: int) -> bool:
    return record_inbound_update(
        session=session,
        update_id=update_id,
        chat_id=8_000_000_001,
        kind="message",
        payload_json="{}",
        now=NOW,
    )


def test_an_update_delivered_twice_is_recorded_once(session: Session) -> None:
    assert _record(session, 1001) is True
    assert _record(session, 1001) is False
    update = inbound_update(session=session, update_id=1001)
    assert update is not None and update.status == InboundStatus.RECEIVED and update.chat_id == 8_000_000_001


def test_updates_left_unprocessed_by_a_crash_are_found_again(session: Session) -> None:
    for update_id in (3, 1, 2):
        _record(session, update_id)
    assert take_inbound_update(session=session, update_id=2, now=NOW) is not None  # processed
    mark_inbound_failed(session=session, update_id=3, error="ValueError: bad payload", now=NOW)

    assert [u.update_id for u in unprocessed_updates(session=session, received_before=NOW + HOUR)] == [1]
    assert unprocessed_updates(session=session, received_before=NOW) == []
    failed = inbound_update(session=session, update_id=3)
    assert (
        failed is not None
        and failed.status == InboundStatus.FAILED
        and failed.error == "ValueError: bad payload"
    )


def test_marking_an_update_never_recorded_is_an_error(session: Session) -> None:
    with pytest.raises(NotFound):
        mark_inbound_failed(session=session, update_id=404, error="ValueError", now=NOW)


def test_an_update_is_taken_for_processing_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        record_inbound_update(
            session=session, update_id=777, chat_id=1, kind="message", payload_json='{"a": 1}', now=NOW
        )
    with session_scope(engine) as first:
        taken = take_inbound_update(session=first, update_id=777, now=NOW)
        assert taken is not None and taken.payload_json == '{"a": 1}'
    with session_scope(engine) as session:
        assert take_inbound_update(session=session, update_id=777, now=NOW) is None  # processed: never again
        assert take_inbound_update(session=session, update_id=778, now=NOW) is None  # never recorded
        row = inbound_update(session=session, update_id=777)
        assert row is not None and row.status == InboundStatus.PROCESSED and row.id == taken.id


def test_an_update_whose_processing_rolled_back_is_still_to_be_processed(engine: Engine) -> None:
    with session_scope(engine) as session:
        _record(session, 901)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        assert take_inbound_update(session=session, update_id=901, now=NOW) is not None
        raise RuntimeError("a handler failed")
    with session_scope(engine) as session:
        assert [u.update_id for u in unprocessed_updates(session=session, received_before=NOW + HOUR)] == [
            901
        ]
        assert take_inbound_update(session=session, update_id=901, now=NOW) is not None


def test_a_second_worker_waits_for_the_first_and_then_leaves_the_update_alone(engine: Engine) -> None:
    with session_scope(engine) as session:
        _record(session, 902)
    second: list[object] = []

    def second_worker() -> None:
        with session_scope(engine) as session:
            second.append(take_inbound_update(session=session, update_id=902, now=NOW))

    with session_scope(engine) as first:
        assert take_inbound_update(session=first, update_id=902, now=NOW) is not None
        worker = threading.Thread(target=second_worker)
        worker.start()  # blocks on the first's lock (SQLite's write lock, or PostgreSQL's row lock)
        worker.join(timeout=0.3)
        assert worker.is_alive() and second == []  # still waiting: it did not skip ahead
    worker.join(timeout=10)
    assert second == [None]  # the first committed it as processed
