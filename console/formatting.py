"""How the console writes times, durations and codes for people: Jinja filters, pure functions.

Times are shown on the clinic's wall clock (staff think in local time); durations in hours and minutes.
Codes (rules, outcomes, purposes) keep their stable ids and get a readable label beside them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flows.clinic import Clinic
from storage.models import CheckInStatus, EscalationOutcome, MessagePurpose, PatientStatus

OUTCOME_LABELS = {
    EscalationOutcome.CALLED_PATIENT: "Called the patient",
    EscalationOutcome.ADVISED_AE: "Advised A&E",
    EscalationOutcome.ADVISED_GP: "Advised to see their GP",
    EscalationOutcome.FALSE_ALARM: "False alarm",
    EscalationOutcome.OTHER: "Other (see notes)",
}
PATIENT_STATUS_LABELS = {
    PatientStatus.INVITED: "Invited (link not opened yet)",
    PatientStatus.ACTIVE: "Active",
    PatientStatus.PAUSED: "Paused by staff",
    PatientStatus.OPTED_OUT: "Opted out",
    PatientStatus.UNREACHABLE: "Unreachable (Telegram refuses delivery)",
    PatientStatus.COMPLETED: "Follow-up completed",
}
CHECKIN_STATUS_LABELS = {
    CheckInStatus.SCHEDULED: "scheduled",
    CheckInStatus.SENDING: "being sent",
    CheckInStatus.AWAITING_REPLY: "waiting for answers",
    CheckInStatus.COMPLETED: "completed",
    CheckInStatus.MISSED: "missed (never sent)",
    CheckInStatus.UNANSWERED: "unanswered",
    CheckInStatus.CANCELLED: "cancelled",
}
PURPOSE_LABELS = {
    MessagePurpose.CHECKIN_QUESTION: "Question",
    MessagePurpose.ADVICE: "Advice",
    MessagePurpose.REMINDER: "Reminder",
    MessagePurpose.STAFF_ALERT: "Staff alert",
    MessagePurpose.REPLY: "Reply",
    MessagePurpose.WELCOME: "Welcome",
    MessagePurpose.NOTICE: "Notice",
    MessagePurpose.STAFF_MESSAGE: "Message from staff",
}


def local_time(moment: datetime | None, clinic: Clinic, style: str = "full") -> str:
    """'Tue 24 Nov 2026, 10:05' on the clinic's wall clock ('time': '10:05'; 'date': 'Tue 24 Nov 2026')."""
    if moment is None:
        return ""
    local = clinic.local(moment)
    if style == "time":
        return f"{local:%H:%M}"
    if style == "date":
        return f"{local:%a} {local.day} {local:%b %Y}"
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.isoformat()


def duration(amount: timedelta) -> str:
    """'45 min', '2 h 05 min', '3 days 4 h'; the sign is dropped (callers say 'ago' or 'over')."""
    minutes = int(abs(amount).total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return (
            f"{days} day{'s' if days != 1 else ''} {hours} h"
            if hours
            else f"{days} day{'s' if days != 1 else ''}"
        )
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def label(code: str | None, labels: Mapping[Any, str]) -> str:
    if code is None:
        return ""
    return labels.get(code, code.replace("_", " "))


def telegram_text(plain: str) -> str:
    """Text as the outbox stores it: the bot sends every message in Telegram's HTML parse mode, so a '<' or
    '&' typed by staff must be escaped (unescaped, Telegram refuses the message or reads it as markup)."""
    return html.escape(plain, quote=False)


def plain_text(telegram_html: str) -> str:
    """An outbox message as the patient saw it: Telegram HTML tags dropped, entities decoded. The result is
    plain text, escaped again by the template like any other text."""
    return html.unescape(re.sub(r"<[^>]*>", "", telegram_html))
