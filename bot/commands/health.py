"""`aftercare health [--json]`: is the service hearing patients? Exit 0 healthy, 1 not (or the database
cannot be read), so a monitoring check or a cron job can run it as it is. The figures and what to do about
each are in docs/operations.md ("Health"); the check itself is storage/health_check.py, which /healthz and
/metrics on the console's listener run too. Reads only: it never migrates or changes the database.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from bot.settings import Settings
from storage.db import make_engine, session_scope
from storage.health_check import HealthReport, Receiving, check_health

HEALTHY, NOT_HEARING = 0, 1


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "health", help="is the service hearing patients? (exit 0 yes, 1 no; thresholds: HEALTH_*)"
    )
    parser.add_argument("--json", action="store_true", help="the figures as JSON (as /healthz gives them)")
    parser.set_defaults(handler=health_command)


def health_command(args: argparse.Namespace, settings: Settings) -> int:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).exists():
        return _unreadable(args, f"there is no database at {url.database}; is DATABASE_URL right?")
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine) as session:
            report = check_health(
                session=session,
                clinic=settings.clinic,
                receiving=settings.receiving,
                thresholds=settings.health_thresholds,
                now=datetime.now(UTC),
            )
    except SQLAlchemyError as exc:
        message = (
            f"cannot read the database ({type(exc).__name__}); is DATABASE_URL right, and is it upgraded?"
        )
        if args.json:
            print(json.dumps({"status": "database unreachable", "problems": [message]}, indent=2))
        else:
            print(f"NOT HEARING PATIENTS: {message}")
        return NOT_HEARING
    finally:
        engine.dispose()
    print(json.dumps(report.as_json(), indent=2) if args.json else "\n".join(table(report)))
    return HEALTHY if report.healthy else NOT_HEARING


def _unreadable(args: argparse.Namespace, message: str) -> int:
    if args.json:
        print(json.dumps({"status": "database unreachable", "problems": [message]}, indent=2))
    else:
        print(f"NOT HEARING PATIENTS: {message}")
    return NOT_HEARING


def table(report: HealthReport) -> list[str]:
    """The figures as a table a person reads at a glance, the problems (if any) underneath."""
    flagged = {problem.figure for problem in report.problems}
    silence = "last getUpdates answered" if report.receiving is Receiving.POLLING else "last webhook POST"
    rows = [
        ("receiving", report.receiving.value, None),
        (silence, _delivery(report), "receiving"),
        (
            "updates waiting",
            _backlog(report, report.updates_waiting.count, report.updates_waiting.oldest),
            "updates_waiting",
        ),
        ("quarantined", _quarantined(report), "quarantined"),
        ("processing restarts", _restarts(report), None),
        (
            "outbox unsent",
            _backlog(report, report.outbox_unsent.count, report.outbox_unsent.oldest),
            "outbox",
        ),
        (
            "check-ins overdue",
            _backlog(report, report.checkins_overdue.count, report.checkins_overdue.oldest),
            "checkins_overdue",
        ),
        (
            "red flags unacknowledged",
            _backlog(report, report.red_flags_unacknowledged.count, report.red_flags_unacknowledged.oldest)
            + f", {report.red_flags_past_target} past the clinic's target",
            None,
        ),
    ]
    width = max(len(label) for label, _, _ in rows)
    lines = [f"Aftercare health at {report.checked_at:%Y-%m-%d %H:%M:%S} UTC: {report.status.upper()}", ""]
    for label, value, figure in rows:
        mark = "PROBLEM" if figure in flagged else "ok" if figure else ""
        lines.append(f"  {label:<{width}}  {mark:<7}  {value}")
    if report.problems:
        lines += ["", "Not hearing patients because:"]
        lines += [f"  - {problem.message}" for problem in report.problems]
        lines.append("What to do about each: docs/operations.md, section Health.")
    return lines


def _delivery(report: HealthReport) -> str:
    """When Telegram was last heard, and how (if not as configured: the last process to receive said so)."""
    heard = _ago(report, report.last_delivery)
    via = report.last_delivery_via
    return heard if via is None or via == report.receiving.value else f"{heard} (by {via})"


def _quarantined(report: HealthReport) -> str:
    text = f"{report.quarantined} ({report.quarantined_last_hour} in the last hour)"
    return (
        text
        if report.last_quarantined is None
        else f"{text}, the last {_ago(report, report.last_quarantined)}"
    )


def _restarts(report: HealthReport) -> str:
    if report.processing_restarts == 0:
        return "0"
    last = _ago(report, report.last_processing_restart)
    return f"{report.processing_restarts}, the last {last} ({report.last_processing_restart_error})"


def _ago(report: HealthReport, moment: datetime | None) -> str:
    age = report.age(moment)
    return "never" if age is None else f"{_duration(age)} ago"


def _backlog(report: HealthReport, count: int, oldest: datetime | None) -> str:
    age = report.age(oldest)
    return f"{count}" if age is None else f"{count}, the oldest {_duration(age)}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
