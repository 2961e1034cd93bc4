"""Aftercare's tables (SQLModel). Import tables from here: `from storage.models import Patient`.

Every datetime column is timezone-aware UTC; SQLModel refuses naive datetimes when they are written.
Tables hold data only: no behaviour, no clock. The functions that change them live in storage/*.py.
"""

from __future__ import annotations

from storage.models.audit import AuditEvent
from storage.models.base import NAMING_CONVENTION
from storage.models.checkins import Answer, CallbackToken, CheckIn
from storage.models.enums import (
    AckChannel,
    CheckInStatus,
    EpisodeStatus,
    EscalationOutcome,
    EscalationStatus,
    InboundStatus,
    MessagePurpose,
    OutboundStatus,
    PatientStatus,
    Priority,
    StaffRole,
)
from storage.models.escalations import Escalation, EscalationNote
from storage.models.messages import InboundListener, InboundUpdate, OutboundMessage
from storage.models.patients import Clinic, Episode, Invite, Patient
from storage.models.protocols import ProtocolSnapshot
from storage.models.staff import LoginThrottle, StaffSession, StaffUser

__all__ = [
    "NAMING_CONVENTION",
    "AckChannel",
    "Answer",
    "AuditEvent",
    "CallbackToken",
    "CheckIn",
    "CheckInStatus",
    "Clinic",
    "Episode",
    "EpisodeStatus",
    "Escalation",
    "EscalationNote",
    "EscalationOutcome",
    "EscalationStatus",
    "InboundListener",
    "InboundStatus",
    "InboundUpdate",
    "Invite",
    "LoginThrottle",
    "MessagePurpose",
    "OutboundMessage",
    "OutboundStatus",
    "Patient",
    "PatientStatus",
    "Priority",
    "ProtocolSnapshot",
    "StaffRole",
    "StaffSession",
    "StaffUser",
]
