"""The scheduler's tick: due check-ins out, reminders, unanswered check-ins closed, staff re-alerted.

One repeating job (APScheduler through PTB's JobQueue) calls ``tick``; every piece of state it works on
lives in our tables, so a restart loses nothing. After downtime, a check-in late by less than its grace is
sent late (within contact hours); an older one is marked missed, never sent as a stale burst. Each
check-in is handled in its own short transaction: one bad row cannot stop the others.

On SQLite, which has a single writer, the tick leaves the database free for a moment after each slice of
``BATCH`` check-ins: starting thousands back to back would otherwise keep the outbox (claims, recording
sends) and patients' replies waiting for the write lock for seconds at a time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine

from bot.conversation import Conversation
from flows.clinic import Clinic
from storage.checkins import (
    awaiting_checkin_for_patient,
    checkin_context,
    checkins_awaiting_reply,
    claim_due_checkin_ids,
    mark_missed,
    mark_reminder_sent,
    overdue_checkins,
    postpone_checkin,
    take_back_checkin_claims,
)
from storage.db import is_sqlite, session_scope
from storage.models import PatientStatus

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)
BATCH = 50
# SQLite's busy handler retries a waiting writer at least every 100 ms: a longer pause lets every waiter in.
SQLITE_PAUSE_BETWEEN_SLICES = 0.15  # seconds
UNANSWERED_AFTER_REMINDER = timedelta(hours=4)


@dataclass(frozen=True, kw_only=True)
class TickReport:
    started: int = 0
    postponed: int = 0
    missed: int = 0
    reminded: int = 0
    unanswered: int = 0
    alerts: int = 0


@dataclass(kw_only=True)
class Scheduler:
    engine: Engine
    clinic: Clinic
    conversation: Conversation
    owner: str
    lease: timedelta = LEASE
    errors: list[str] = field(default_factory=list)

    def take_back_claims(self) -> list[int]:
        """At start-up: the check-ins this worker's name still holds from its last run go back to the
        schedule, so this tick starts them instead of waiting for their leases (none had been begun)."""
        with session_scope(self.engine) as session:
            taken = take_back_checkin_claims(session=session, owner=self.owner)
        if taken:
            log.warning("took back %s check-ins claimed by %s before it stopped", len(taken), self.owner)
        return taken

    def tick(self, *, now: datetime) -> TickReport:
        started, postponed, missed = self._start_due(now=now)
        missed += self._mark_never_sent(now=now)
        reminded, unanswered = self._follow_up_silence(now=now)
        with session_scope(self.engine) as session:
            alerts = self.conversation.staff.realert_due(session, now=now)
        return TickReport(
            started=started,
            postponed=postponed,
            missed=missed,
            reminded=reminded,
            unanswered=unanswered,
            alerts=alerts,
        )

    def _start_due(self, *, now: datetime) -> tuple[int, int, int]:
        started = postponed = missed = 0
        while True:
            with session_scope(self.engine) as session:
                claimed = claim_due_checkin_ids(
                    session=session, now=now, owner=self.owner, lease=self.lease, limit=BATCH
                )
            for checkin_id in claimed:
                outcome = self._guarded(self._start_one, checkin_id, now=now)
                started += outcome == "started"
                postponed += outcome == "postponed"
                missed += outcome == "missed"
            if len(claimed) < BATCH:
                return started, postponed, missed
            if is_sqlite(self.engine):
                time.sleep(SQLITE_PAUSE_BETWEEN_SLICES)  # Service.tick runs this in a worker thread

    def _start_one(self, checkin_id: int, *, now: datetime) -> str:
        with session_scope(self.engine) as session:
            ctx = checkin_context(session=session, checkin_id=checkin_id)
            assert ctx is not None and ctx.patient.id is not None
            protocol = self.conversation.protocol_for(session, ctx.episode)
            grace = timedelta(hours=protocol.checkin(ctx.checkin.key).grace_hours)
            if now - ctx.checkin.due_at > grace:
                mark_missed(session=session, checkin_id=checkin_id, reason="too_late_after_downtime", now=now)
                return "missed"
            if not self.clinic.may_message(now):
                opening = self.clinic.next_contact_time(now)
                if opening - ctx.checkin.due_at > grace:
                    mark_missed(
                        session=session, checkin_id=checkin_id, reason="outside_contact_hours", now=now
                    )
                    return "missed"
                postpone_checkin(session=session, checkin_id=checkin_id, owner=self.owner, due_at=opening)
                return "postponed"
            previous = awaiting_checkin_for_patient(session=session, patient_id=ctx.patient.id)
            if previous is not None and previous.id is not None:
                earlier = checkin_context(session=session, checkin_id=previous.id)
                assert earlier is not None
                self.conversation.close_unanswered(session, earlier, now=now)
            self.conversation.begin_checkin(session, ctx, owner=self.owner, now=now)
            return "started"

    def _mark_never_sent(self, *, now: datetime) -> int:
        """Check-ins of patients who cannot be messaged (not connected, paused) are missed when too late."""
        count = 0
        with session_scope(self.engine) as session:
            for checkin in overdue_checkins(session=session, due_before=now - timedelta(hours=1), now=now):
                assert checkin.id is not None
                ctx = checkin_context(session=session, checkin_id=checkin.id)
                if ctx is None:
                    continue
                grace = timedelta(
                    hours=self.conversation.protocol_for(session, ctx.episode)
                    .checkin(checkin.key)
                    .grace_hours
                )
                if now - checkin.due_at > grace:
                    count += mark_missed(
                        session=session, checkin_id=checkin.id, reason="patient_not_reachable", now=now
                    )
        return count

    def _follow_up_silence(self, *, now: datetime) -> tuple[int, int]:
        reminded = unanswered = 0
        with session_scope(self.engine) as session:
            waiting = [c.id for c in checkins_awaiting_reply(session=session, sent_before=now, limit=500)]
        for checkin_id in waiting:
            assert checkin_id is not None
            outcome = self._guarded(self._silence_one, checkin_id, now=now)
            reminded += outcome == "reminded"
            unanswered += outcome == "unanswered"
        return reminded, unanswered

    def _silence_one(self, checkin_id: int, *, now: datetime) -> str:
        with session_scope(self.engine) as session:
            ctx = checkin_context(session=session, checkin_id=checkin_id)
            assert ctx is not None and ctx.checkin.sent_at is not None
            protocol = self.conversation.protocol_for(session, ctx.episode)
            remind_after = timedelta(hours=protocol.checkin(ctx.checkin.key).reminder_after_hours)
            since = now - ctx.checkin.sent_at
            if since >= remind_after + UNANSWERED_AFTER_REMINDER:
                self.conversation.close_unanswered(session, ctx, now=now)
                return "unanswered"
            if (
                since >= remind_after
                and ctx.checkin.reminder_sent_at is None
                and ctx.patient.status == PatientStatus.ACTIVE  # not to a paused or unreachable patient
                and self.clinic.may_message(now)
            ):
                self.conversation.remind(session, ctx, now=now)
                mark_reminder_sent(session=session, checkin_id=checkin_id, now=now)
                return "reminded"
            return ""

    def _guarded(self, job: _Job, checkin_id: int, *, now: datetime) -> str:
        """One check-in's failure is logged (by id) and left for the next tick; the others carry on."""
        try:
            return job(checkin_id, now=now)
        except Exception as exc:
            log.exception("check-in %s failed in the scheduler tick", checkin_id)
            self.errors.append(f"checkin {checkin_id}: {type(exc).__name__}")
            return "failed"


class _Job(Protocol):  # the shape of _start_one and _silence_one
    def __call__(self, checkin_id: int, *, now: datetime) -> str: ...
