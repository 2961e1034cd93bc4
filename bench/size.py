"""Benchmark 3: a big clinic. 100,000 patients with 1,000,000 check-ins: how fast is due work found, and does
the service's memory stay flat?

The rows are bulk-inserted with SQLAlchemy core (enrolling a million check-ins one by one would take an hour
and measures nothing new; bench/enrolment.py times the real path). Every patient is diabetic, so the
sacroiliac joint protocol gives each exactly 10 check-ins, at the protocol's offsets from a procedure date
spread over the 140 days before "now": due dates span about six months. Statuses follow time: long past
check-ins are completed (most), missed or unanswered; the last hours' are awaiting a reply or completed;
the last ten minutes' are scheduled (the scheduler's due work); later ones are scheduled. 3% of patients
never opened their link, 3% opted out (their check-ins cancelled).

Then, on each database: claim_due_checkin_ids(limit=50), what the scheduler's tick runs (the claim is
rolled back each time, so every run finds the same work), and overdue_checkins, `--runs` times each,
p50/p95 in ms. Then on SQLite the real service (ticks and the outbox, against a lean emulator that keeps no
transcript) runs for `--loop-seconds` with the clock moving 2 minutes a tick, sampling RSS.

    .venv/bin/python bench/size.py [--patients 100000] [--databases sqlite,postgresql] [--runs 200]
        [--loop-seconds 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import tempfile
import time
import uuid
from collections.abc import Iterator, Sized
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from _common import (
    FAST,
    MONDAY_9AM,
    PROCEDURE,
    TimingEmulator,
    current_rss_mib,
    header,
    local_settings,
    peak_rss_mib,
    percentile,
    service_against,
    table,
    write_results,
)
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import make_url

from bot.clock import Clock
from bot.emulator.model import Chat
from flows.catalogue import bundled_protocols
from flows.engine import begin
from flows.schedule import Patient as PatientFacts
from flows.schedule import plan
from storage.checkins import claim_due_checkin_ids, overdue_checkins
from storage.db import make_engine, make_session, session_scope
from storage.migrate import upgrade
from storage.models import (
    CheckIn,
    CheckInStatus,
    Episode,
    EpisodeStatus,
    Patient,
    PatientStatus,
)
from storage.patients import ensure_clinic
from storage.protocols import pin_protocol

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/"
CHAT_BASE = 900_000_000
CHUNK = 20_000
SPREAD_DAYS = 140


class LazyChats(TimingEmulator):
    """Every patient's chat exists and has pressed Start, created the first time the bot writes to it."""

    def resolve_chat(self, chat_id_text: str) -> Chat:
        chat_id = int(chat_id_text) if chat_id_text.lstrip("-").isdigit() else 0
        if chat_id > CHAT_BASE and chat_id not in self.chats:
            self.create_user(first_name="P", user_id=chat_id).started = True
        return super().resolve_chat(chat_id_text)


def build_database(engine: Engine, *, patients: int, now: datetime, seed: int = 7) -> dict[str, Any]:
    """Bulk-insert the clinic; returns row counts and how long it took."""
    started = time.perf_counter()
    protocol = bundled_protocols()[PROCEDURE]
    clinic = local_settings("sqlite://").clinic
    with session_scope(engine) as session:
        clinic_id = ensure_clinic(session=session, slug=clinic.id, name=clinic.name, now=now).id
        digest = pin_protocol(
            session=session,
            protocol_id=protocol.id,
            version=protocol.version,
            body_json=protocol.model_dump_json(),
            now=now,
        )
    base = now - timedelta(days=50)
    offsets = [
        (p.checkin_id, p.due_at - base)
        for p in plan(protocol, performed_at=base, clinic=clinic, patient=PatientFacts(diabetic=True))
    ]
    # The engine's state just after each check-in's first question (what an open conversation holds).
    facts = PatientFacts(diabetic=True)
    states = {
        c.id: begin(protocol, c.id, patient=facts, day=c.day, now=now).state.to_json()
        for c in protocol.checkins
    }
    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        for first in range(0, patients, CHUNK):
            people, episodes, checkins = [], [], []
            for n in range(first, min(first + CHUNK, patients)):
                performed = now - timedelta(seconds=rng.uniform(0, SPREAD_DAYS * 86400))
                connected = rng.random() >= 0.03
                opted_out = connected and rng.random() < 0.03
                finished = performed < now - timedelta(days=43)
                status = (
                    PatientStatus.INVITED
                    if not connected
                    else PatientStatus.OPTED_OUT
                    if opted_out
                    else PatientStatus.COMPLETED
                    if finished
                    else PatientStatus.ACTIVE
                )
                people.append(
                    {
                        "id": n + 1,
                        "clinic_id": clinic_id,
                        "reference": f"BN-{n:07d}",
                        "display_name": "P",
                        "diabetic": True,
                        "telegram_chat_id": CHAT_BASE + n + 1 if connected else None,
                        "telegram_user_id": CHAT_BASE + n + 1 if connected else None,
                        "status": status,
                        "consent_at": performed if connected else None,
                        "created_at": performed,
                    }
                )
                episodes.append(
                    {
                        "id": n + 1,
                        "patient_id": n + 1,
                        "procedure_id": protocol.id,
                        "protocol_version": protocol.version,
                        "protocol_digest": digest,
                        "performed_at": performed,
                        "status": EpisodeStatus.COMPLETED
                        if finished
                        else EpisodeStatus.STOPPED
                        if opted_out
                        else EpisodeStatus.ACTIVE,
                        "created_at": performed,
                    }
                )
                for key, offset in offsets:
                    due = performed + offset
                    checkins.append(
                        _checkin(
                            n + 1, key, due, now, rng, connected=connected, opted_out=opted_out, states=states
                        )
                    )
            connection.execute(insert(Patient.__table__), people)  # type: ignore[attr-defined]
            connection.execute(insert(Episode.__table__), episodes)  # type: ignore[attr-defined]
            connection.execute(insert(CheckIn.__table__), checkins)  # type: ignore[attr-defined]
            for row in checkins:
                counts[str(row["status"])] = counts.get(str(row["status"]), 0) + 1
        if connection.dialect.name == "postgresql":
            for table_name in ("patient", "episode", "checkin"):  # explicit ids: move the sequences on
                sequence = f"pg_get_serial_sequence('{table_name}', 'id')"
                connection.execute(text(f"SELECT setval({sequence}, max(id)) FROM {table_name}"))  # noqa: S608
    # Fresh statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would have by now.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE" if connection.dialect.name == "postgresql" else "ANALYZE"))
    return {"seconds": round(time.perf_counter() - started, 1), "checkins_by_status": counts}


def _checkin(
    episode_id: int,
    key: str,
    due: datetime,
    now: datetime,
    rng: random.Random,
    *,
    connected: bool,
    opted_out: bool,
    states: dict[str, str],
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "episode_id": episode_id,
        "key": key,
        "due_at": due,
        "attempts": 0,
        "sent_at": None,
        "completed_at": None,
        "state_json": None,
    }
    if due > now:
        status = CheckInStatus.CANCELLED if opted_out else CheckInStatus.SCHEDULED
    elif not connected:
        status = CheckInStatus.SCHEDULED if due > now - timedelta(hours=2) else CheckInStatus.MISSED
    elif opted_out:
        status = CheckInStatus.CANCELLED
    elif due > now - timedelta(minutes=10):
        status = CheckInStatus.SCHEDULED  # due work for the next tick
    elif due > now - timedelta(hours=8):
        status = CheckInStatus.AWAITING_REPLY if rng.random() < 0.4 else CheckInStatus.COMPLETED
    else:
        roll = rng.random()
        status = (
            CheckInStatus.COMPLETED
            if roll < 0.8
            else CheckInStatus.MISSED
            if roll < 0.88
            else CheckInStatus.UNANSWERED
        )
    row["status"] = status
    if status in (CheckInStatus.AWAITING_REPLY, CheckInStatus.COMPLETED, CheckInStatus.UNANSWERED):
        row["sent_at"] = due
        row["attempts"] = 1
        row["state_json"] = states[key]
    if status is CheckInStatus.COMPLETED:
        row["completed_at"] = due + timedelta(minutes=20)
    return row


def time_queries(engine: Engine, *, now: datetime, runs: int) -> dict[str, Any]:
    """p50/p95 of the scheduler's two "find due work" queries, each in its own rolled-back transaction."""
    timings: dict[str, list[float]] = {"claim_due_checkin_ids(limit=50)": [], "overdue_checkins": []}
    found: dict[str, int] = {}
    for _ in range(runs):
        for name in timings:
            session = make_session(engine)
            try:
                start = time.perf_counter()
                if name.startswith("claim"):
                    rows: Sized = claim_due_checkin_ids(
                        session=session, now=now, owner="bench", lease=timedelta(minutes=5), limit=50
                    )
                else:
                    rows = overdue_checkins(session=session, due_before=now - timedelta(hours=1), now=now)
                timings[name].append((time.perf_counter() - start) * 1000)
                found[name] = len(rows)
            finally:
                session.rollback()
                session.close()
    return {
        name: {
            "rows": found[name],
            "p50_ms": round(percentile(values, 0.5), 2),
            "p95_ms": round(percentile(values, 0.95), 2),
            "max_ms": round(max(values), 2),
        }
        for name, values in timings.items()
    }


async def memory_loop(engine: Engine, *, seconds: float, start: datetime) -> dict[str, Any]:
    """The service's loop (scheduler ticks, outbox) over the big database, sampling RSS."""
    url = str(engine.url)
    settings = local_settings(url)
    clock = Clock(offset=start - datetime.now(UTC), movable=True)
    emulator = LazyChats(enforce_limits=False, lean=True)
    service, server = await service_against(
        emulator, engine=engine, settings=settings, clock=clock, limits=FAST
    )
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop, polling=False))
    samples: list[tuple[float, float]] = []
    ticks = started = 0
    began = time.perf_counter()
    try:
        await emulator.wait_until(lambda: service.application.running, timeout=10)
        samples.append((0.0, current_rss_mib()))
        while time.perf_counter() - began < seconds:
            report = await service.tick()
            started += report.started
            ticks += 1
            clock.advance(timedelta(minutes=2))
            await asyncio.sleep(0.2)  # let the outbox send
            elapsed = time.perf_counter() - began
            if elapsed - samples[-1][0] >= seconds / 12:
                samples.append((round(elapsed, 1), round(current_rss_mib(), 1)))
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await server.aclose()
    samples.append((round(time.perf_counter() - began, 1), round(current_rss_mib(), 1)))
    return {
        "seconds": seconds,
        "ticks": ticks,
        "simulated_minutes": ticks * 2,
        "checkins_started": started,
        "messages_sent": emulator.bot_message_count,
        "rss_mib_over_time": samples,
        "peak_rss_mib": round(peak_rss_mib(), 1),
    }


@contextlib.contextmanager
def database(kind: str, keep: Path | None) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            folder = keep or Path(tmp)
            yield f"sqlite:///{folder / 'size.sqlite3'}"
        return
    name = f"aftercare_bench_{uuid.uuid4().hex[:8]}"
    admin = make_url(POSTGRES).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES + name
    finally:
        with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def main(args: argparse.Namespace) -> None:
    info = header("Size: 100,000 patients, 1,000,000 check-ins")
    now = MONDAY_9AM
    results: dict[str, Any] = {"patients": args.patients, "checkins": args.patients * 10, "runs": args.runs}
    rows = []
    for kind in args.databases.split(","):
        with database(kind, args.keep) as url:
            upgrade(url)
            engine = make_engine(url)
            try:
                print(f"\n{kind}: building {args.patients:,} patients / {args.patients * 10:,} check-ins ...")
                built = build_database(engine, patients=args.patients, now=now)
                by_status = built["checkins_by_status"]
                print(f"{kind}: built in {built['seconds']} s; check-ins by status {by_status}")
                timed = time_queries(engine, now=now, runs=args.runs)
                results[kind] = {"build": built, "queries": timed}
                for name, figures in timed.items():
                    met = figures["p95_ms"] < 10
                    rows.append(
                        [
                            kind,
                            name,
                            figures["rows"],
                            figures["p50_ms"],
                            figures["p95_ms"],
                            "met" if met else "NOT met",
                        ]
                    )
                if kind == "sqlite" and args.loop_seconds > 0:
                    print(f"{kind}: running the service loop for {args.loop_seconds} s ...")
                    results[kind]["memory"] = await memory_loop(engine, seconds=args.loop_seconds, start=now)
            finally:
                engine.dispose()
    print()
    table(rows, ["database", "query", "rows", "p50 ms", "p95 ms", "< 10 ms"])
    memory = results.get("sqlite", {}).get("memory")
    if memory:
        print(
            f"\nservice loop: {memory['ticks']} ticks ({memory['simulated_minutes']} simulated minutes), "
            f"{memory['checkins_started']} check-ins started, {memory['messages_sent']} messages sent"
        )
        print(
            "RSS MiB over time (s, MiB): " + ", ".join(f"{t:g}:{m:g}" for t, m in memory["rss_mib_over_time"])
        )
        print(f"peak RSS: {memory['peak_rss_mib']} MiB (the whole process: service, emulator, build)")
    write_results("size", info, results)


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=100_000, help="patients, 10 check-ins each (100000)")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--runs", type=int, default=200, help="timed runs of each query (200)")
    parser.add_argument("--loop-seconds", type=float, default=60, help="service loop on SQLite (60; 0: skip)")
    parser.add_argument("--keep", type=Path, default=None, help="build the SQLite file in DIR and keep it")
    asyncio.run(main(parser.parse_args()))
