"""Keeping the protocol snapshots episodes are pinned to (see storage.models.protocols)."""

from __future__ import annotations

import hashlib
import weakref
from datetime import datetime

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from flows.catalogue import ResolvedProtocol
from storage.models import ProtocolSnapshot

_SNAPSHOTS: Table = ProtocolSnapshot.__table__  # type: ignore[attr-defined]
_PINNED = select(_SNAPSHOTS.c.digest).where(_SNAPSHOTS.c.digest == bindparam("digest"))

# Serialising a protocol (~30 KB of JSON) and hashing it took a tenth of every enrolment, for the same few
# protocol objects each time. ResolvedProtocol is frozen, so its JSON is fixed for the object's lifetime:
# kept here by object identity, and dropped when the object is (a new object, even an equal one, is
# serialised afresh, so nothing stale can be pinned).
_serialised: dict[int, tuple[str, str]] = {}


def snapshot_of(protocol: ResolvedProtocol) -> tuple[str, str]:
    """The protocol's snapshot body (JSON) and its digest, as pin_protocol stores them."""
    key = id(protocol)
    known = _serialised.get(key)
    if known is None:
        body = protocol.model_dump_json()
        known = (body, _digest(body))
        _serialised[key] = known
        weakref.finalize(protocol, _serialised.pop, key, None)
    return known


def pin_resolved_protocol(*, session: Session, protocol: ResolvedProtocol, now: datetime) -> str:
    """pin_protocol for a protocol object, serialised once per object rather than on every enrolment."""
    body, digest = snapshot_of(protocol)
    _pin(session, digest=digest, protocol_id=protocol.id, version=protocol.version, body_json=body, now=now)
    return digest


def pin_protocol(*, session: Session, protocol_id: str, version: int, body_json: str, now: datetime) -> str:
    """Store the snapshot if it is new; return its digest (what an episode records)."""
    digest = _digest(body_json)
    _pin(session, digest=digest, protocol_id=protocol_id, version=version, body_json=body_json, now=now)
    return digest


def pinned_protocol_json(*, session: Session, digest: str) -> str | None:
    snapshot = session.get(ProtocolSnapshot, digest)
    return snapshot.body_json if snapshot is not None else None


def _digest(body_json: str) -> str:
    return hashlib.sha256(body_json.encode()).hexdigest()


def _pin(
    session: Session, *, digest: str, protocol_id: str, version: int, body_json: str, now: datetime
) -> None:
    # Asks only whether the digest is there: loading the stored body back on every enrolment cost more
    # than the rest of pinning. Two first enrolments on a new protocol at once both insert: the second
    # one's insert does nothing instead of failing its enrolment.
    if session.exec(_PINNED, params={"digest": digest}).first() is None:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        values = {"protocol_id": protocol_id, "version": version, "body_json": body_json, "created_at": now}
        session.exec(insert(_SNAPSHOTS).values(digest=digest, **values).on_conflict_do_nothing())
