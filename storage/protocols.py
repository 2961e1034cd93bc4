"""Keeping the protocol snapshots episodes are pinned to (see storage.models.protocols)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlmodel import Session

from storage.models import ProtocolSnapshot


def pin_protocol(*, session: Session, protocol_id: str, version: int, body_json: str, now: datetime) -> str:
    """Store the snapshot if it is new; return its digest (what an episode records)."""
    digest = hashlib.sha256(body_json.encode()).hexdigest()
    if session.get(ProtocolSnapshot, digest) is None:
        session.add(
            ProtocolSnapshot(
                digest=digest, protocol_id=protocol_id, version=version, body_json=body_json, created_at=now
            )
        )
        session.flush()
    return digest


def pinned_protocol_json(*, session: Session, digest: str) -> str | None:
    snapshot = session.get(ProtocolSnapshot, digest)
    return snapshot.body_json if snapshot is not None else None
