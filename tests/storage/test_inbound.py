"""Inbound updates: each Telegram update is recorded, and so processed, once."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from storage.errors import NotFound
from storage.inbound import (
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
