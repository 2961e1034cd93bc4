"""Benchmark 5: the health check on a big clinic. How long do `aftercare health`, /healthz and /metrics take
when the tables hold a year's traffic?

The clinic of bench/size.py (100,000 patients, 1,000,000 check-ins), plus the traffic it implies: one sent
message and one processed update for every check-in that was sent, and a little of everything the health
check looks for (a few updates waiting, a few quarantined, a few messages unsent, a few open red flags).
Then `storage.health_check.check_health` (every figure, in one session) `--runs` times on each database,
p50/p95 in ms. A scrape every 15 s, or a supervisor's check every few seconds, must cost next to nothing.

    .venv/bin/python bench/health.py [--patients 100000] [--databases sqlite,postgresql] [--runs 200]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import timedelta
from typing import Any

from _common import MONDAY_9AM, header, local_settings, percentile, table, write_results
from size import CHUNK, build_database, database
from sqlalchemy import Engine, insert, select, text

from flows.levels import Level
from storage.db import make_engine, make_session
from storage.health_check import HealthThresholds, Receiving, check_health
from storage.migrate import upgrade
from storage.models import (
    CheckIn,
    CheckInStatus,
    Episode,
    Escalation,
    EscalationStatus,
    InboundListener,
    InboundStatus,
    InboundUpdate,
    MessagePurpose,
    OutboundMessage,
    OutboundStatus,
)

SENT = (CheckInStatus.AWAITING_REPLY, CheckInStatus.COMPLETED, CheckInStatus.UNANSWERED)
WAITING = 5  # of each kind the health check counts
BOT_ID = 7_000_000_001


def add_traffic(engine: Engine) -> dict[str, int]:
    """A sent message and a processed update per sent check-in; a few of each thing that waits."""
    now = MONDAY_9AM
    with engine.begin() as connection:
        sent = connection.execute(
            select(CheckIn.id, CheckIn.due_at, Episode.patient_id)
            .join(Episode, Episode.id == CheckIn.episode_id)  # type: ignore[arg-type]
            .where(CheckIn.status.in_(SENT))  # type: ignore[attr-defined]
        ).all()
        messages, updates = [], []
        for n, (_, due_at, patient_id) in enumerate(sent):
            chat = 900_000_000 + patient_id
            messages.append(_message(chat, due_at, OutboundStatus.SENT))
            updates.append(_update(n + 1, chat, due_at + timedelta(minutes=5), InboundStatus.PROCESSED))
            if len(messages) >= CHUNK:
                connection.execute(insert(OutboundMessage.__table__), messages)  # type: ignore[attr-defined]
                connection.execute(insert(InboundUpdate.__table__), updates)  # type: ignore[attr-defined]
                messages, updates = [], []
        for k in range(WAITING):
            messages.append(_message(1 + k, now - timedelta(minutes=k), OutboundStatus.PENDING))
            updates.append(_update(len(sent) + 1 + k, 1, now - timedelta(minutes=k), InboundStatus.RECEIVED))
            updates.append(_update(len(sent) + 101 + k, 1, now - timedelta(hours=k), InboundStatus.FAILED))
        connection.execute(insert(OutboundMessage.__table__), messages)  # type: ignore[attr-defined]
        connection.execute(insert(InboundUpdate.__table__), updates)  # type: ignore[attr-defined]
        connection.execute(
            insert(Escalation.__table__),  # type: ignore[attr-defined]
            [
                {
                    "patient_id": 1 + k,
                    "level": Level.RED,
                    "rule": "rf.ces",
                    "trigger_text": "",
                    "status": EscalationStatus.OPEN,
                    "created_at": now - timedelta(hours=k),
                }
                for k in range(WAITING)
            ],
        )
        connection.execute(
            insert(InboundListener.__table__),  # type: ignore[attr-defined]
            [{"bot_id": BOT_ID, "mode": "polling", "last_delivery_at": now, "processing_restarts": 0}],
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
    return {"sent_messages": len(sent), "processed_updates": len(sent)}


def _message(chat_id: int, at: Any, status: OutboundStatus) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "purpose": MessagePurpose.CHECKIN_QUESTION,
        "text": "How is your pain?",
        "status": status,
        "attempts": 1,
        "not_before": at,
        "created_at": at,
        "sent_at": at if status is OutboundStatus.SENT else None,
    }


def _update(update_id: int, chat_id: int, at: Any, status: InboundStatus) -> dict[str, Any]:
    return {
        "bot_id": BOT_ID,
        "update_id": update_id,
        "content_sha256": f"{update_id:064x}",  # distinct; what it digests does not matter here
        "chat_id": chat_id,
        "kind": "message",
        "payload_json": "{}",
        "received_at": at,
        "status": status,
        "processed_at": None if status is InboundStatus.RECEIVED else at,
    }


def time_health(engine: Engine, *, runs: int) -> dict[str, Any]:
    clinic = local_settings("sqlite://").clinic
    timings: list[float] = []
    report = None
    for _ in range(runs):
        session = make_session(engine)
        try:
            start = time.perf_counter()
            report = check_health(
                session=session,
                clinic=clinic,
                receiving=Receiving.POLLING,
                thresholds=HealthThresholds(),
                now=MONDAY_9AM,
            )
            timings.append((time.perf_counter() - start) * 1000)
        finally:
            session.rollback()
            session.close()
    assert report is not None
    return {
        "p50_ms": round(percentile(timings, 0.5), 2),
        "p95_ms": round(percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "report": report.as_json(),
    }


def main(args: argparse.Namespace) -> None:
    info = header("Health check: 100,000 patients, 1,000,000 check-ins and their traffic")
    results: dict[str, Any] = {"patients": args.patients, "runs": args.runs}
    rows = []
    for kind in args.databases.split(","):
        with database(kind, None) as url:
            upgrade(url)
            engine = make_engine(url)
            try:
                print(f"\n{kind}: building {args.patients:,} patients and their traffic ...")
                built = build_database(engine, patients=args.patients, now=MONDAY_9AM)
                traffic = add_traffic(engine)
                timed = time_health(engine, runs=args.runs)
                results[kind] = {"build": built, "traffic": traffic, "check_health": timed}
                figures = timed["report"]
                rows.append(
                    [
                        kind,
                        traffic["sent_messages"],
                        figures["checkins_overdue"],
                        figures["outbox_unsent"],
                        timed["p50_ms"],
                        timed["p95_ms"],
                    ]
                )
            finally:
                engine.dispose()
    print()
    table(rows, ["database", "sent messages", "check-ins due", "unsent", "p50 ms", "p95 ms"])
    write_results("health", info, results)


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000, help="patients, 10 check-ins each (100000)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=200, help="timed runs of the health check (200)")
    main(parser.parse_args())
