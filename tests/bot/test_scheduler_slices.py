"""A tick starting many check-ins at once on SQLite (one writer) leaves the database free between slices, so
the outbox's claims and patients' replies are not kept waiting for the whole tick."""

from __future__ import annotations

import itertools
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, update
from sqlmodel import col, select

from bot.conversation import Conversation
from bot.scheduler import BATCH, Scheduler, TickReport
from bot.staff_alerts import StaffAlerts
from flows.catalogue import bundled_protocols
from storage.db import make_engine, session_scope
from storage.enrolment import record_consent, redeem_invite
from storage.followup import enrol_on_protocol
from storage.messages import claim_outbound
from storage.migrate import upgrade
from storage.models import CheckIn, CheckInStatus
from tests.bot.conftest import local_settings

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # a Tuesday morning, within contact hours
PATIENTS = 4 * BATCH
FIRST_CHAT = 700_000_001


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    path = tmp_path / "slices.sqlite3"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = make_engine(url)
    yield path, engine
    engine.dispose()


def _connected_patients_with_one_checkin_due(engine: Engine) -> None:
    clinic = local_settings("sqlite://").clinic
    protocol = bundled_protocols()["sacroiliac-joint-injection"]
    enrolled = NOW - timedelta(days=1)
    for n in range(PATIENTS):
        with session_scope(engine) as session:
            enrolment = enrol_on_protocol(
                session=session,
                clinic=clinic,
                protocol=protocol,
                display_name=f"P{n}",
                performed_at=enrolled,
                diabetic=False,
                invite_ttl=timedelta(hours=72),
                now=enrolled,
                actor="test",
            )
            chat = FIRST_CHAT + n
            redeem_invite(
                session=session, token=enrolment.invite_token, chat_id=chat, user_id=chat, now=enrolled
            )
            assert enrolment.patient.id is not None
            record_consent(session=session, patient_id=enrolment.patient.id, agreed=True, now=enrolled)
    with session_scope(engine) as session:
        session.exec(
            update(CheckIn).where(col(CheckIn.key) != "day1.morning").values(status=CheckInStatus.CANCELLED)
        )
        session.exec(update(CheckIn).where(col(CheckIn.key) == "day1.morning").values(due_at=NOW))


def _started(path: Path) -> int:
    """Check-ins started so far, read outside SQLAlchemy (whose every transaction takes the write lock)."""
    with sqlite3.connect(path) as reader:
        (count,) = reader.execute(
            "SELECT count(*) FROM checkin WHERE status = ?", (CheckInStatus.AWAITING_REPLY.value,)
        ).fetchone()
    return int(count)


def test_the_outbox_is_never_kept_waiting_longer_than_one_slice_of_a_long_tick(
    database: tuple[Path, Engine],
) -> None:
    path, engine = database
    _connected_patients_with_one_checkin_due(engine)
    settings = local_settings(f"sqlite:///{path}")
    staff = StaffAlerts(clinic=settings.clinic, staff_chat_id=-4_000_000_001, alert_amber=True)
    conversation = Conversation(clinic=settings.clinic, staff=staff)
    scheduler = Scheduler(engine=engine, clinic=settings.clinic, conversation=conversation, owner="tick")
    reports: list[TickReport] = []
    tick = threading.Thread(target=lambda: reports.append(scheduler.tick(now=NOW)))
    tick.start()
    started_at_each_claim = [0]
    try:
        while _started(path) == 0:
            time.sleep(0.001)
        # The outbox claims again and again while the tick is busy starting check-ins: each claim waits
        # for the write lock, and notes how many check-ins the tick had started when it got it.
        while tick.is_alive():
            with session_scope(engine) as session:
                claim_outbound(session=session, now=NOW, owner="outbox", lease=timedelta(minutes=2), limit=10)
                started_at_each_claim.append(
                    session.exec(
                        select(func.count())
                        .select_from(CheckIn)
                        .where(CheckIn.status == CheckInStatus.AWAITING_REPLY)
                    ).one()
                )
    finally:
        tick.join()
    assert reports and reports[0].started == PATIENTS and scheduler.errors == []
    # No claim waited for more than one slice: at the latest it got in when the tick paused after it.
    assert len(started_at_each_claim) > 2
    assert max(b - a for a, b in itertools.pairwise(started_at_each_claim)) <= BATCH
