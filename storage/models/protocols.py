"""The protocol snapshots episodes are pinned to: the resolved protocol as JSON, keyed by its digest.

A patient's follow-up runs on the snapshot stored at enrolment, never on whatever the YAML files say today,
so editing a protocol cannot change a follow-up already under way. Snapshots are never changed or deleted.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


class ProtocolSnapshot(SQLModel, table=True):
    __tablename__ = "protocol_snapshot"

    digest: str = Field(primary_key=True, max_length=64)  # sha256 hex of body_json
    protocol_id: str = Field(max_length=64, index=True)
    version: int
    body_json: str = Field(sa_type=Text)
    created_at: datetime
