"""Shared machinery for the benchmarks: the machine and versions, results files, tables, a timing emulator,
and the fastest honest ways to put patients in a database.

Benchmarks are scripts that print figures; nothing here asserts a timing. Must not be imported by the
service or the tests.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import col, select

from bot.app import Service, build
from bot.clock import Clock
from bot.emulator import Emulator
from bot.emulator.model import Chat, Sender, StoredMessage
from bot.emulator.server import RunningServer, serve
from bot.limits import SendLimits
from bot.settings import Settings
from flows.catalogue import bundled_protocols
from storage.db import session_scope
from storage.enrolment import record_consent, redeem_invite
from storage.followup import enrol_on_protocol
from storage.models import CheckIn, CheckInStatus, Episode, Patient

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
# Monday 23 November 2026, 09:00 in London: the clinic is open and patients may be messaged.
MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PACKAGES = (
    "python-telegram-bot",
    "aiohttp",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "httpx",
    "uvicorn",
    "psycopg",
)
PROCEDURE = "sacroiliac-joint-injection"


def machine() -> dict[str, Any]:
    """What the figures were measured on: cores, CPU model, memory, Python, packages, repository state."""
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_kb = 0
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": {name: _version(name) for name in PACKAGES},
        "git": _git_state(),
        "load_average_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews the figures
    }


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def _git_state() -> str:
    """The commit, and whether the work tree differs from it (read only)."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 (git from PATH, read only)
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' (work tree modified)' if dirty else ''}"


def command() -> str:
    return " ".join(shlex.quote(part) for part in [".venv/bin/python", *sys.argv])


def header(title: str) -> dict[str, Any]:
    info = machine()
    print(f"# {title}")
    print(f"command:  {command()}")
    print(f"machine:  {info['nproc']} cores, {info['cpu']}, {info['memory_gib']} GiB")
    print(f"python:   {info['python']}; " + ", ".join(f"{k} {v}" for k, v in info["packages"].items()))
    print(f"code:     {info['git']}; load average (1 min) at start {info['load_average_1m']}")
    return info


def write_results(name: str, info: dict[str, Any], results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    body = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command(),
        "machine": info,
        "results": results,
    }
    path.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"results:  {path.relative_to(ROOT)}")
    return path


def table(rows: Sequence[Sequence[object]], headings: Sequence[str]) -> None:
    cells = [[str(h) for h in headings], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headings))]
    for index, row in enumerate(cells):
        print("  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)))
        if index == 0:
            print("  ".join("-" * width for width in widths))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def current_rss_mib() -> float:
    with open("/proc/self/statm", encoding="utf-8") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1024 / 1024


def local_settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        database_url=database_url,
        telegram_bot_token=None,
        staff_chat_id=None,
        tick_seconds=3600,  # the benchmarks tick the scheduler themselves
        webhook_url=None,
        clinic_file=None,
    )


class TimingEmulator(Emulator):
    """The emulator, noting when each bot message lands in a chat (monotonic seconds).

    ``lean`` keeps no transcript (a long run would otherwise grow the emulator, not the service).
    """

    def __init__(self, *, lean: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lean = lean
        self.bot_messages: dict[int, list[float]] = {}
        self.bot_message_count = 0
        self.throttled_at: list[float] = []
        # Bot messages to these chats are also counted apart (a benchmark's own patients among others).
        self.counted_chats: set[int] = set()
        self.counted_messages = 0

    def check_send_limit(self, method: str, chat: Chat) -> None:
        try:
            super().check_send_limit(method, chat)
        except Exception:
            self.throttled_at.append(time.perf_counter())
            raise

    def store_message(self, chat: Chat, message: StoredMessage) -> StoredMessage:
        if message.sender is Sender.BOT:
            self.bot_message_count += 1
            self.counted_messages += chat.id in self.counted_chats
            if self.lean:
                self.changed.bump()
                return message
            self.bot_messages.setdefault(chat.id, []).append(time.perf_counter())
        return super().store_message(chat, message)


def enrol_connected(
    engine: Engine,
    emulator: Emulator,
    *,
    count: int,
    now: datetime,
    performed_at: datetime,
    first_user_id: int = 800_000_001,
) -> list[int]:
    """Create `count` Telegram users who pressed Start, and enrol and connect a patient to each
    (`enrol_chats`). Returns their chat ids."""
    chats = []
    for n in range(count):
        user = emulator.create_user(first_name=f"P{n}", user_id=first_user_id + n)
        user.started = True  # they pressed Start (opened the link)
        chats.append(user.id)
    enrol_chats(engine, chats, now=now, performed_at=performed_at)
    return chats


def enrol_chats(engine: Engine, chats: Sequence[int], *, now: datetime, performed_at: datetime) -> None:
    """Enrol a patient for each chat with the storage functions, as the console does, and connect them as
    if they opened the link and said yes (redeem_invite + record_consent)."""
    protocol = bundled_protocols()[PROCEDURE]
    clinic = local_settings("sqlite://").clinic
    for n, chat_id in enumerate(chats):
        with session_scope(engine) as session:
            enrolment = enrol_on_protocol(
                session=session,
                clinic=clinic,
                protocol=protocol,
                display_name=f"P{n}",
                performed_at=performed_at,
                diabetic=False,
                invite_ttl=timedelta(hours=72),
                now=now,
                actor="bench",
            )
            redeem_invite(
                session=session, token=enrolment.invite_token, chat_id=chat_id, user_id=chat_id, now=now
            )
            assert enrolment.patient.id is not None
            record_consent(session=session, patient_id=enrolment.patient.id, agreed=True, now=now)


def only_checkin_due(engine: Engine, *, key: str, due_at: datetime) -> None:
    """Make check-in `key` of every episode due at `due_at` and cancel the others, so a tick starts exactly
    one check-in per patient (the benchmark's setup, not something the service does)."""
    with session_scope(engine) as session:
        session.exec(update(CheckIn).where(col(CheckIn.key) != key).values(status=CheckInStatus.CANCELLED))
        session.exec(update(CheckIn).where(col(CheckIn.key) == key).values(due_at=due_at))


def cancel_checkins_of(engine: Engine, chats: Sequence[int]) -> None:
    """Cancel every check-in of the patients in these chats: they take no part in a dispatch."""
    episodes = (
        select(Episode.id)
        .join(Patient, col(Patient.id) == Episode.patient_id)
        .where(col(Patient.telegram_chat_id).in_(list(chats)))
    )
    with session_scope(engine) as session:
        session.exec(
            update(CheckIn)
            .where(col(CheckIn.episode_id).in_(episodes))
            .values(status=CheckInStatus.CANCELLED)
        )


async def past_first_job_tick(seconds: float = 1.5) -> None:
    """Service.run schedules its own scheduler tick 0.5 s after start (then every tick_seconds, an hour
    here). Wait it out before making work due, so the benchmark's own tick never overlaps it."""
    await asyncio.sleep(seconds)


# Our side's limits off: for measuring the service itself, not Telegram's pace.
FAST = SendLimits(per_second=1_000_000, private_chat_interval=0, group_chat_interval=0)


async def service_against(
    emulator: Emulator, *, engine: Engine, settings: Settings, clock: Clock, limits: SendLimits
) -> tuple[Service, RunningServer]:
    """The real service against ``emulator`` served on loopback, with a staff group and its nurse."""
    server = await serve(emulator)
    nurse = emulator.create_user(first_name="Jo")
    staff = emulator.create_group(title="staff", member_ids=[nurse.id])
    service = benchmark_service(
        engine=engine,
        settings=settings,
        clock=clock,
        limits=limits,
        token=emulator.token,
        bot_api_url=server.bot_api_url,
        staff_chat_id=staff.id,
    )
    return service, server


def benchmark_service(
    *,
    engine: Engine,
    settings: Settings,
    clock: Clock,
    limits: SendLimits,
    token: str,
    bot_api_url: str,
    staff_chat_id: int,
) -> Service:
    """The real service (bot.app.build), ticking only when the benchmark says so (its own tick is hourly)."""
    return build(
        clinic=settings.clinic,
        engine=engine,
        clock=clock,
        token=token,
        base_url=bot_api_url,
        staff_chat_id=staff_chat_id,
        alert_amber=settings.alert_amber_to_staff_chat,
        tick_seconds=3600,
        limits=limits,
    )
