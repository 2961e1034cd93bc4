"""Protocol snapshots: stored once by digest, returned exactly, never changed."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from sqlmodel import Session

from storage.protocols import pin_protocol, pinned_protocol_json

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_snapshot_is_stored_once_and_read_back_exactly(session: Session) -> None:
    body = '{"id": "sacroiliac-joint-injection", "version": 1, "text": "Grüß dich"}'
    digest = pin_protocol(
        session=session, protocol_id="sacroiliac-joint-injection", version=1, body_json=body, now=NOW
    )
    assert digest == hashlib.sha256(body.encode()).hexdigest()
    again = pin_protocol(
        session=session, protocol_id="sacroiliac-joint-injection", version=1, body_json=body, now=NOW
    )
    assert again == digest
    assert pinned_protocol_json(session=session, digest=digest) == body
    assert pinned_protocol_json(session=session, digest="0" * 64) is None
