"""The figures behind the health check beyond receiving (that is storage.inbound.inbound_health): messages
unsent, check-ins overdue, red flags unacknowledged; what is waiting, and since when. Reads only.

Every figure is a count and the time of its oldest row, read through an index on status, so a health check
costs a few small index ranges however large the tables grow (bench/health.py). Nothing here judges what is
healthy (storage/health_check.py does) or reads the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, and_, col, func, select

from flows.levels import Level
from storage.messages import unsent
from storage.models import (
    CheckIn,
    CheckInStatus,
    Episode,
    EpisodeStatus,
    Escalation,
    EscalationStatus,
    OutboundMessage,
    Patient,
    PatientStatus,
)

# Check-ins due and not begun are counted up to this many (a scheduler stopped for days at a big clinic).
COUNT_AT_MOST = 10_000


@dataclass(frozen=True, kw_only=True)
class Backlog:
    """How many rows wait, and since when the oldest has waited (None when none do)."""

    count: int
    oldest: datetime | None


def outbox_unsent(*, session: Session, now: datetime) -> Backlog:
    """Messages not yet sent that were due by `now` (queued, being sent, or waiting to be retried after a
    failure), by when they were queued: how long the oldest patient or staff message has been held up.
    A message given up (dead) is not here: it became an escalation."""
    query = select(func.count(), func.min(OutboundMessage.created_at)).where(unsent(now))
    count, oldest = session.exec(query).one()
    return Backlog(count=count, oldest=oldest)


def checkins_due_not_begun(*, session: Session, now: datetime) -> Backlog:
    """Check-ins due by `now` that the scheduler has not begun although the patient can be messaged (active,
    with a chat, on an active episode), or whose claim ran out (its worker died), by when they fell due.
    Check-ins of patients who cannot be messaged are not counted: waiting is right for them. The count stops
    at COUNT_AT_MOST (the oldest is always exact).

    Two steps, on purpose. One statement joining the due check-ins to episode and patient let PostgreSQL
    misjudge how many scheduled check-ins are due (it multiplies the share of scheduled rows by the share due
    by now, though nearly all scheduled ones lie in the future) and hash-join every active episode: 300 ms
    with 1,000,000 check-ins (bench/health.py). So: the due rows by their (status, due_at) index ranges, as
    the scheduler's claim reads them, then which of their episodes can be messaged, by primary key."""
    due: list[tuple[int, datetime]] = []
    for not_begun in (
        and_(CheckIn.status == CheckInStatus.SCHEDULED, CheckIn.due_at <= now),
        and_(CheckIn.status == CheckInStatus.SENDING, col(CheckIn.lease_until) <= now),
    ):
        query = (
            select(CheckIn.episode_id, CheckIn.due_at)
            .where(not_begun)
            .order_by(col(CheckIn.due_at))
            .limit(COUNT_AT_MOST)
        )
        due += session.exec(query).all()
    if not due:
        return Backlog(count=0, oldest=None)
    reachable = set(
        session.exec(
            select(Episode.id)
            .join(Patient, col(Patient.id) == Episode.patient_id)
            .where(
                col(Episode.id).in_(sorted({episode_id for episode_id, _ in due})),
                Episode.status == EpisodeStatus.ACTIVE,
                Patient.status == PatientStatus.ACTIVE,
                col(Patient.telegram_chat_id).is_not(None),
            )
        ).all()
    )
    waiting = sorted(due_at for episode_id, due_at in due if episode_id in reachable)
    return Backlog(count=min(len(waiting), COUNT_AT_MOST), oldest=waiting[0] if waiting else None)


def unacknowledged_red_flags(*, session: Session) -> list[datetime]:
    """When each open (not yet acknowledged) red escalation was raised, oldest first."""
    query = (
        select(Escalation.created_at)
        .where(Escalation.status == EscalationStatus.OPEN, Escalation.level == Level.RED)
        .order_by(col(Escalation.created_at))
    )
    return list(session.exec(query).all())
