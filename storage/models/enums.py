"""The status and kind vocabularies of Aftercare's tables, as StrEnums.

Values are stored as plain strings (not database enum types), so adding a member never needs a migration
of the column type; renaming or removing one does. Never reuse a value for a different meaning.
The exception is ``Priority``, an IntEnum stored as its number, because queries order by it.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class PatientStatus(StrEnum):
    INVITED = "invited"  # enrolled in clinic, has not opened their Telegram link yet
    ACTIVE = "active"  # linked to a Telegram chat and receiving check-ins
    PAUSED = "paused"  # staff paused messages (e.g. admitted to hospital)
    OPTED_OUT = "opted_out"  # asked us to stop: never message again unless they re-enrol
    UNREACHABLE = "unreachable"  # Telegram refuses delivery (blocked the bot, deleted account)
    COMPLETED = "completed"  # follow-up finished


class EpisodeStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    STOPPED = "stopped"  # ended early: opt-out, staff decision, wrong enrolment


class CheckInStatus(StrEnum):
    SCHEDULED = "scheduled"  # waiting for due_at
    SENDING = "sending"  # claimed by a worker under a lease; reclaimed when the lease expires
    AWAITING_REPLY = "awaiting_reply"  # first question sent, conversation in progress
    COMPLETED = "completed"
    MISSED = "missed"  # never sent (patient not reachable or too late to be meaningful)
    UNANSWERED = "unanswered"  # sent, but the patient did not finish answering in time
    CANCELLED = "cancelled"  # episode stopped or patient opted out before it was sent


class EscalationStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"  # a member of staff has taken it on
    CLOSED = "closed"


class EscalationOutcome(StrEnum):
    CALLED_PATIENT = "called_patient"
    ADVISED_AE = "advised_ae"
    ADVISED_GP = "advised_gp"
    FALSE_ALARM = "false_alarm"
    OTHER = "other"


class AckChannel(StrEnum):
    CONSOLE = "console"
    TELEGRAM = "telegram"


class MessagePurpose(StrEnum):
    CHECKIN_QUESTION = "checkin_question"
    ADVICE = "advice"
    REMINDER = "reminder"
    STAFF_ALERT = "staff_alert"
    REPLY = "reply"
    WELCOME = "welcome"
    NOTICE = "notice"  # service notices: opt-out confirmation, end of follow-up
    STAFF_MESSAGE = "staff_message"  # free text a member of staff wrote in the console


class OutboundStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed under a lease
    SENT = "sent"
    FAILED = "failed"  # last attempt failed; retried after not_before
    DEAD = "dead"  # given up (e.g. the patient blocked the bot); never retried


class Priority(IntEnum):
    """Which queued message goes first: the smaller number. Stored as that number (the claim orders by it).
    Chosen by whoever queues the message, from the level of what it says, never from its text."""

    URGENT = 0  # urgent advice (an amber or red advice card, crisis lines) and red escalations to staff
    REPLY = 1  # an answer to what someone just did: a patient's message or button, a nurse's message
    ROUTINE = 2  # what the scheduler starts on its own: check-ins, reminders, follow-ups


class InboundStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    FAILED = "failed"


class StaffRole(StrEnum):
    NURSE = "nurse"
    ADMIN = "admin"
