"""Several real `aftercare run` worker processes on one PostgreSQL database and one in-test Telegram emulator.

``Cluster`` is what a resilience test holds: the emulator (served on loopback in the test's event loop, so
the workers' HTTP calls reach it while the test awaits), the database, patients enrolled and connected
through storage functions with their first check-in due now, and worker subprocesses started with
environment variables exactly as an operator would (`python -m aftercare run`). Workers use the system
clock, so check-ins are made due a minute ago (within their grace) rather than moving a clock.

It never sleeps a fixed time to wait for something: it polls the database or the emulator with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, update
from sqlmodel import col, select

from bot.emulator import Emulator
from bot.emulator.server import RunningServer
from flows.catalogue import bundled_protocols
from flows.clinic import Clinic
from storage.db import session_scope
from storage.enrolment import record_consent, redeem_invite
from storage.followup import enrol_on_protocol
from storage.models import CheckIn, CheckInStatus, OutboundMessage, OutboundStatus

REPO = Path(__file__).resolve().parents[2]
DEMO_CLINIC = REPO / "flows" / "data" / "clinics" / "uhp-pain-clinic.yaml"
STOP_WAIT_SECONDS = 10
POLL_SECONDS = 0.05


def always_open_clinic(folder: Path) -> Path:
    """The demo clinic, with contact hours all day: workers use the real clock, so a test run at night
    must not have its check-ins postponed to the morning."""
    text = DEMO_CLINIC.read_text(encoding="utf-8").replace(
        'contact_hours: {opens: "08:00", closes: "20:00"}', 'contact_hours: {opens: "00:00", closes: "23:59"}'
    )
    path = folder / "clinic.yaml"
    path.write_text(text, encoding="utf-8")
    return path


@dataclass(kw_only=True)
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def kill_9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_WAIT_SECONDS)

    def stop(self) -> None:
        """SIGTERM (a clean stop), then SIGKILL if it has not gone within the wait."""
        if not self.alive:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill_9()

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


@dataclass(kw_only=True)
class Cluster:
    emulator: Emulator
    server: RunningServer
    engine: Engine
    database_url: str
    clinic: Clinic
    clinic_file: Path
    folder: Path
    staff_chat_id: int
    workers: list[Worker] = field(default_factory=list)
    chats: list[int] = field(default_factory=list)

    # ------------------------------------------------------------------------------ workers

    def start_worker(self, name: str, *, polling: bool = False, **settings: object) -> Worker:
        """`python -m aftercare run` with this cluster's database and Telegram; ``settings`` are extra
        environment variables (upper-cased names)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "WEBHOOK_"))}
        env.update(
            PYTHONPATH=str(REPO),
            PTB_TIMEDELTA="true",
            ENVIRONMENT="development",
            DATABASE_URL=self.database_url,
            TELEGRAM_BOT_TOKEN=self.emulator.token,
            TELEGRAM_API_BASE_URL=self.server.bot_api_url,
            BOT_USERNAME=self.emulator.bot_username,
            TELEGRAM_POLLING="true" if polling else "false",
            CLINIC_FILE=str(self.clinic_file),
            STAFF_CHAT_ID=str(self.staff_chat_id),
            TICK_SECONDS="0.5",
            # Short, so a claim left by a worker killed for good is taken over within a test; a worker
            # restarted under its own name takes its claims back without waiting for them.
            OUTBOX_LEASE_SECONDS="30",
            OUTBOX_ANSWER_WAIT_SECONDS="8",
            CHECKIN_LEASE_SECONDS="30",
            WORKER_NAME=name,
            CONSOLE_LISTEN="127.0.0.1:0",
        )
        env.update({key.upper(): str(value) for key, value in settings.items()})
        log = self.folder / f"{name}.log"
        with log.open("ab") as out:  # a worker restarted under its name writes on
            process = subprocess.Popen(
                [sys.executable, "-m", "aftercare", "run"],
                cwd=self.folder,  # no .env here: only the environment above counts
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(name=name, process=process, log=log)
        self.workers.append(worker)
        return worker

    def stop_all(self) -> None:
        for worker in self.workers:
            worker.stop()

    # ------------------------------------------------------------------------------ patients

    def connect_patients(self, count: int, *, now: datetime | None = None) -> list[int]:
        """Enrol ``count`` patients, link each to an emulator user who has pressed Start, record their
        consent, and make each one's first check-in due a minute ago. Returns their chat ids."""
        now = now or datetime.now(UTC)
        protocol = bundled_protocols()["sacroiliac-joint-injection"]
        chats = []
        with session_scope(self.engine) as session:
            for n in range(count):
                enrolment = enrol_on_protocol(
                    session=session,
                    clinic=self.clinic,
                    protocol=protocol,
                    display_name=f"P{n}",
                    performed_at=now - timedelta(hours=2),
                    diabetic=False,
                    invite_ttl=timedelta(hours=72),
                    now=now,
                    actor="test",
                )
                user = self.emulator.create_user(first_name=f"P{n}")
                self.emulator.users[user.id].started = True  # as if they had opened the invite link
                result = redeem_invite(
                    session=session, token=enrolment.invite_token, chat_id=user.id, user_id=user.id, now=now
                )
                assert result.patient is not None and result.patient.id is not None
                record_consent(session=session, patient_id=result.patient.id, agreed=True, now=now)
                first = min(enrolment.checkins, key=lambda c: c.due_at)
                session.exec(
                    update(CheckIn)
                    .where(col(CheckIn.id) == first.id)
                    .values(due_at=now - timedelta(minutes=1))
                )
                chats.append(user.id)
        self.chats += chats
        return chats

    # ------------------------------------------------------------------------------ what happened

    def clinic_now(self) -> datetime:
        return datetime.now(UTC)

    def received(self, chat_id: int) -> list[str]:
        """The texts the bot's messages in this chat showed, in the order they arrived."""
        return [e.text for e in self.emulator.transcript(chat_id) if e.from_bot]

    def _counts(self) -> list[int]:
        # Cheap (no transcript rendering): these patients never write, so every message is the bot's.
        return [len(self.emulator.chats[chat].messages) for chat in self.chats]

    def patients_reached(self) -> int:
        return sum(1 for n in self._counts() if n)

    def delivered_to_patients(self) -> int:
        return sum(self._counts())

    def checkins_started(self) -> int:
        with session_scope(self.engine) as session:
            query = (
                select(func.count())
                .select_from(CheckIn)
                .where(CheckIn.status == CheckInStatus.AWAITING_REPLY)
            )
            return int(session.exec(query).one())

    def outbox_counts(self) -> dict[OutboundStatus, int]:
        with session_scope(self.engine) as session:
            query = select(OutboundMessage.status, func.count()).group_by(col(OutboundMessage.status))
            return {OutboundStatus(status): int(n) for status, n in session.exec(query).all()}

    def queued_for_patients(self) -> int:
        with session_scope(self.engine) as session:
            query = (
                select(func.count())
                .select_from(OutboundMessage)
                .where(col(OutboundMessage.patient_id).is_not(None))
            )
            return int(session.exec(query).one())

    def possibly_repeated(self) -> int:
        """Attempts that went out and were never answered (a kill mid-send counts as one): the bound on
        how many times a message reached a patient more than once."""
        with session_scope(self.engine) as session:
            query = select(func.coalesce(func.sum(OutboundMessage.unanswered_attempts), 0))
            return int(session.exec(query).one())

    def all_sent(self) -> bool:
        counts = self.outbox_counts()
        return sum(counts.values()) > 0 and set(counts) == {OutboundStatus.SENT}

    async def until(self, condition: Callable[[], bool], *, timeout: float, what: str) -> None:  # noqa: ASYNC109
        """Wait for ``condition`` (polled; the emulator keeps serving meanwhile). On time-out, the workers'
        logs are in the failure message."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {w.name} (alive={w.alive})\n{w.log_tail()}" for w in self.workers)
                raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
            await asyncio.sleep(POLL_SECONDS)  # the emulator serves the workers meanwhile
