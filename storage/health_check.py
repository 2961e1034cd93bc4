"""Is the service hearing patients? The one health check `aftercare health`, /healthz and /metrics all run.

`check_health` reads the figures in one session and judges them against `HealthThresholds`; it reads no
clock (``now`` is passed) and talks to nothing but the database. What concerns receiving (the last delivery
from Telegram, updates waiting and quarantined, restarts of the processing task) comes from
`storage.inbound.inbound_health`, which the receiving path itself keeps (bot/receiving.py); the rest from
storage/health.py. The service is *not hearing patients* when any of these holds (each threshold is a
setting, see `HealthSettings` and docs/operations.md, "Health"):

- polling, and Telegram has not answered a getUpdates for HEALTH_POLLING_SILENCE_MINUTES (a long poll
  answers at least every 20 seconds, even with nothing new, so silence means Telegram is not being heard);
- webhook, and no POST has been recorded for HEALTH_WEBHOOK_SILENCE_MINUTES (off by default: a quiet night
  sends nothing);
- an update has waited to be processed for longer than HEALTH_UPDATES_WAITING_MINUTES;
- HEALTH_QUARANTINED_PER_HOUR or more updates could not be processed in the last hour;
- the oldest unsent message has waited longer than HEALTH_OUTBOX_UNSENT_MINUTES;
- a check-in a patient can be sent has been due for longer than HEALTH_CHECKINS_OVERDUE_MINUTES (the
  scheduler is not running).

Reported but not judged: red flags not yet acknowledged (how many, the oldest, how many are past the
clinic's target: a restart cannot acknowledge them, and nights and weekends are expected gaps), and restarts
of the processing task (how many, the last, what it died of: it was started again by itself; if it keeps
dying, updates wait and the updates-waiting figure fails). Watch both with their own alerts
(docs/operations.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field
from sqlmodel import Session

from flows.clinic import Clinic
from flows.levels import Level
from flows.targets import acknowledgement_clock
from storage.health import Backlog, checkins_due_not_begun, outbox_unsent, unacknowledged_red_flags
from storage.inbound import inbound_health

QUARANTINE_WINDOW = timedelta(hours=1)


class Receiving(StrEnum):
    """How Telegram's updates reach the service (WEBHOOK_URL set or not): which silence threshold applies."""

    POLLING = "polling"
    WEBHOOK = "webhook"


@dataclass(frozen=True, kw_only=True)
class HealthThresholds:
    polling_silence: timedelta = timedelta(minutes=5)
    webhook_silence: timedelta | None = None  # None: not judged
    updates_waiting: timedelta = timedelta(minutes=5)
    quarantined_per_hour: int = 1  # 0: not judged
    outbox_unsent: timedelta = timedelta(minutes=10)
    checkins_overdue: timedelta = timedelta(minutes=15)


_DEFAULT = HealthThresholds()


class HealthSettings(BaseModel):
    """The health thresholds as settings, shared by both edges' settings classes (bot/settings.py and
    console/settings.py inherit them, so the names and defaults are written once)."""

    health_polling_silence_minutes: float = Field(default=_DEFAULT.polling_silence.total_seconds() / 60, gt=0)
    health_webhook_silence_minutes: float = Field(default=0, ge=0, description="0: not judged")
    health_updates_waiting_minutes: float = Field(default=_DEFAULT.updates_waiting.total_seconds() / 60, gt=0)
    health_quarantined_per_hour: int = Field(
        default=_DEFAULT.quarantined_per_hour, ge=0, description="0: not judged"
    )
    health_outbox_unsent_minutes: float = Field(default=_DEFAULT.outbox_unsent.total_seconds() / 60, gt=0)
    health_checkins_overdue_minutes: float = Field(
        default=_DEFAULT.checkins_overdue.total_seconds() / 60, gt=0
    )

    @property
    def health_thresholds(self) -> HealthThresholds:
        webhook = self.health_webhook_silence_minutes
        return HealthThresholds(
            polling_silence=timedelta(minutes=self.health_polling_silence_minutes),
            webhook_silence=timedelta(minutes=webhook) if webhook else None,
            updates_waiting=timedelta(minutes=self.health_updates_waiting_minutes),
            quarantined_per_hour=self.health_quarantined_per_hour,
            outbox_unsent=timedelta(minutes=self.health_outbox_unsent_minutes),
            checkins_overdue=timedelta(minutes=self.health_checkins_overdue_minutes),
        )


class Figure(StrEnum):
    """The stable names of the figures that can make the service unhealthy (JSON, metrics, docs)."""

    RECEIVING = "receiving"
    UPDATES_WAITING = "updates_waiting"
    QUARANTINED = "quarantined"
    OUTBOX = "outbox"
    CHECKINS_OVERDUE = "checkins_overdue"


@dataclass(frozen=True, kw_only=True)
class Problem:
    figure: Figure
    message: str  # one line for an operator; ids and counts only


@dataclass(frozen=True, kw_only=True)
class HealthReport:
    checked_at: datetime
    receiving: Receiving  # as configured
    last_delivery: datetime | None  # the last getUpdates Telegram answered, or webhook POST recorded
    last_delivery_via: str | None  # "polling" or "webhook", as the receiving process last said
    updates_waiting: Backlog
    quarantined: int  # all time: each a patient's update not understood, for staff to read
    quarantined_last_hour: int
    last_quarantined: datetime | None
    processing_restarts: int  # all time: the processing task died and was started again
    last_processing_restart: datetime | None
    last_processing_restart_error: str | None  # the exception's type, never message text
    outbox_unsent: Backlog
    checkins_overdue: Backlog  # due and not begun, for patients who can be messaged
    red_flags_unacknowledged: Backlog  # not yet acknowledged, by when raised
    red_flags_past_target: int  # of those, past the clinic's acknowledgement target (working hours)
    problems: tuple[Problem, ...]

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def status(self) -> str:
        return "healthy" if self.healthy else "not hearing patients"

    def age(self, moment: datetime | None) -> float | None:
        """Seconds from `moment` to the check (never negative: a worker's clock may run a little ahead)."""
        return None if moment is None else max(0.0, (self.checked_at - moment).total_seconds())

    def as_json(self) -> dict[str, Any]:
        """The report as /healthz and `aftercare health --json` give it: ages in seconds, no patient data."""
        return {
            "status": self.status,
            "checked_at": self.checked_at.isoformat(),
            "receiving": self.receiving.value,
            "problems": [{"figure": p.figure.value, "message": p.message} for p in self.problems],
            "last_delivery_age_seconds": self.age(self.last_delivery),
            "last_delivery_via": self.last_delivery_via,
            "updates_waiting": self.updates_waiting.count,
            "updates_waiting_oldest_age_seconds": self.age(self.updates_waiting.oldest),
            "quarantined": self.quarantined,
            "quarantined_last_hour": self.quarantined_last_hour,
            "last_quarantined_age_seconds": self.age(self.last_quarantined),
            "processing_restarts": self.processing_restarts,
            "last_processing_restart_age_seconds": self.age(self.last_processing_restart),
            "last_processing_restart_error": self.last_processing_restart_error,
            "outbox_unsent": self.outbox_unsent.count,
            "outbox_oldest_unsent_age_seconds": self.age(self.outbox_unsent.oldest),
            "checkins_overdue": self.checkins_overdue.count,
            "checkins_overdue_oldest_age_seconds": self.age(self.checkins_overdue.oldest),
            "red_flags_unacknowledged": self.red_flags_unacknowledged.count,
            "red_flags_unacknowledged_oldest_age_seconds": self.age(self.red_flags_unacknowledged.oldest),
            "red_flags_past_target": self.red_flags_past_target,
        }


def check_health(
    *, session: Session, clinic: Clinic, receiving: Receiving, thresholds: HealthThresholds, now: datetime
) -> HealthReport:
    """Read every figure and judge it. ``receiving``: webhook when WEBHOOK_URL is set, else polling (someone
    must poll, even if this worker does not: the receiving figures are in the database all workers share)."""
    inbound = inbound_health(session=session)
    recent = inbound_health(session=session, quarantined_since=now - QUARANTINE_WINDOW)
    reds = unacknowledged_red_flags(session=session)
    past_target = 0
    for raised_at in reds:
        clock = acknowledgement_clock(clinic, level=Level.RED, raised_at=raised_at, now=now)
        past_target += clock is not None and clock.overdue
    figures: dict[str, Any] = {
        "checked_at": now,
        "receiving": receiving,
        "last_delivery": inbound.last_delivery_at,
        "last_delivery_via": inbound.mode,
        "updates_waiting": Backlog(count=inbound.waiting, oldest=inbound.oldest_waiting_since),
        "quarantined": inbound.quarantined,
        "quarantined_last_hour": recent.quarantined,
        "last_quarantined": inbound.last_quarantined_at,
        "processing_restarts": inbound.processing_restarts,
        "last_processing_restart": inbound.last_processing_restart_at,
        "last_processing_restart_error": inbound.last_processing_restart_error,
        "outbox_unsent": outbox_unsent(session=session, now=now),
        "checkins_overdue": checkins_due_not_begun(session=session, now=now),
        "red_flags_unacknowledged": Backlog(count=len(reds), oldest=reds[0] if reds else None),
        "red_flags_past_target": past_target,
    }
    unjudged = HealthReport(**figures, problems=())
    return HealthReport(**figures, problems=tuple(_problems(unjudged, thresholds)))


def _problems(report: HealthReport, thresholds: HealthThresholds) -> list[Problem]:
    problems: list[Problem] = []
    now = report.checked_at

    def older(moment: datetime | None, limit: timedelta) -> bool:
        return moment is not None and now - moment > limit

    last = report.last_delivery
    if report.receiving is Receiving.POLLING:
        if last is None or older(last, thresholds.polling_silence):
            since = "never" if last is None else f"not for {_minutes(now - last)}"
            problems.append(
                Problem(figure=Figure.RECEIVING, message=f"no getUpdates call has succeeded ({since})")
            )
    elif thresholds.webhook_silence is not None and (last is None or older(last, thresholds.webhook_silence)):
        since = "never" if last is None else f"none for {_minutes(now - last)}"
        problems.append(Problem(figure=Figure.RECEIVING, message=f"no webhook POST has arrived ({since})"))
    waiting = report.updates_waiting
    if waiting.oldest is not None and older(waiting.oldest, thresholds.updates_waiting):
        problems.append(
            Problem(
                figure=Figure.UPDATES_WAITING,
                message=f"{waiting.count} update(s) recorded but not processed, the oldest for "
                f"{_minutes(now - waiting.oldest)}",
            )
        )
    per_hour = thresholds.quarantined_per_hour
    if per_hour and report.quarantined_last_hour >= per_hour:
        problems.append(
            Problem(
                figure=Figure.QUARANTINED,
                message=f"{report.quarantined_last_hour} update(s) could not be processed in the last hour",
            )
        )
    unsent = report.outbox_unsent
    if unsent.oldest is not None and older(unsent.oldest, thresholds.outbox_unsent):
        problems.append(
            Problem(
                figure=Figure.OUTBOX,
                message=f"{unsent.count} message(s) not sent, the oldest queued "
                f"{_minutes(now - unsent.oldest)} ago",
            )
        )
    overdue = report.checkins_overdue
    if overdue.oldest is not None and older(overdue.oldest, thresholds.checkins_overdue):
        problems.append(
            Problem(
                figure=Figure.CHECKINS_OVERDUE,
                message=f"{overdue.count} check-in(s) due but not begun, the oldest due "
                f"{_minutes(now - overdue.oldest)} ago",
            )
        )
    return problems


def _minutes(amount: timedelta) -> str:
    minutes = max(0, int(amount.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"
