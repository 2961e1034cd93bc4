"""Inbound updates: each Telegram update is recorded, and so processed, once."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from storage.db import is_sqlite, session_scope
from storage.errors import NotFound
from storage.inbound import (
    claim_inbound_update,
    inbound_update,
    mark_inbound_failed,
    mark_inbound_processed,
    record_inbound_update,
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
    mark_inbound_processed(session=session, update_id=2, now=NOW)
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
        mark_inbound_processed(session=session, update_id=404, now=NOW)


def test_an_update_is_claimed_for_processing_once(engine: Engine) -> None:
    with session_scope(engine) as session:
        record_inbound_update(
            session=session, update_id=777, chat_id=1, kind="message", payload_json="{}", now=NOW
        )
    with session_scope(engine) as first:
        claimed = claim_inbound_update(session=first, update_id=777)
        assert claimed is not None
        if not is_sqlite(engine):  # PostgreSQL: a second worker skips the locked row instead of waiting
            with session_scope(engine) as second:
                assert claim_inbound_update(session=second, update_id=777) is None
        mark_inbound_processed(session=first, update_id=777, now=NOW)
    with session_scope(engine) as session:
        assert claim_inbound_update(session=session, update_id=777) is None  # processed: never again
        assert claim_inbound_update(session=session, update_id=778) is None  # never recorded
