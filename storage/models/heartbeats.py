"""The service's heartbeats: when each part that must keep working last succeeded (e.g. a getUpdates call).

One row per name, overwritten in place (never a log): `aftercare health`, /healthz and /metrics read them to
tell whether the service is still hearing patients. Holds no patient data.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel


class ServiceHeartbeat(SQLModel, table=True):
    __tablename__ = "service_heartbeat"

    name: str = Field(primary_key=True, max_length=64)  # storage.heartbeats.Heartbeat
    last_ok_at: datetime
    detail: str | None = Field(default=None, max_length=200)  # e.g. which worker; never message text
