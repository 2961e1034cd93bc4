"""Faults a worker meets in production: Telegram failing a share of calls, the database going away.

Loopback only, bounded in count and time. Telegram's faults come from the emulator's seeded FaultPlan; the
database's from terminating the worker's PostgreSQL connections while it sends.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from bot.emulator import FaultKind, FaultPlan
from storage.db import session_scope
from storage.messages import enqueue_message
from storage.models import MessagePurpose, Patient, Priority
from storage.patients import patient_for_chat
from tests.resilience.cluster import Cluster

pytestmark = pytest.mark.postgres
PER_PATIENT = 4


def _queue_numbered(cluster: Cluster, chats: list[int]) -> None:
    with session_scope(cluster.engine) as session:
        for chat in chats:
            patient: Patient | None = patient_for_chat(session=session, chat_id=chat)
            assert patient is not None
            for n in range(1, PER_PATIENT + 1):
                enqueue_message(
                    session=session,
                    chat_id=chat,
                    text=f"Note {n} of {PER_PATIENT}",
                    purpose=MessagePurpose.REPLY,
                    priority=Priority.REPLY,
                    patient_id=patient.id,
                    now=cluster.clinic_now(),
                )


async def test_with_telegram_failing_a_share_of_calls_everything_arrives_in_order_within_limits(
    cluster: Cluster,
) -> None:
    chats = cluster.connect_patients(6)
    _queue_numbered(cluster, chats)
    cluster.emulator.enforce_limits = True
    cluster.emulator.faults.configure(
        FaultPlan(
            seed=5,
            rate=0.3,
            kinds=(FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR, FaultKind.SLOW, FaultKind.DROP),
            methods=frozenset({"sendMessage"}),
            retry_after=1,
            slow_seconds=6,  # past PTB's usual 5 s read time-out, within the send's wait for an answer
            max_faults=10,
        )
    )
    worker = cluster.start_worker("worker")  # Telegram's real limits on our side (default settings)
    expected = [f"Note {n} of {PER_PATIENT}" for n in range(1, PER_PATIENT + 1)]

    def all_arrived() -> bool:
        return cluster.all_sent() and all(
            [t for t in cluster.received(chat) if t.startswith("Note")][-1:] == expected[-1:]
            for chat in chats
        )

    await cluster.until(all_arrived, timeout=60, what="every note delivered despite the faults")

    injected = cluster.emulator.faults.injected
    assert {fault.kind for fault in injected} >= {FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR}
    slow = sum(1 for fault in injected if fault.kind is FaultKind.SLOW)
    repeats = 0
    for chat in chats:
        notes = [t for t in cluster.received(chat) if t.startswith("Note")]
        first_seen = list(dict.fromkeys(notes))
        assert first_seen == expected  # in order, each one there
        repeats += len(notes) - len(first_seen)
    # A slow answer is waited for, not taken for a failure and resent (issue 11, finding 8: 9 of 40 repeated
    # at 50% faults); only an attempt left unanswered may be, and none was here.
    assert slow > 0 and repeats == 0
    assert repeats <= cluster.possibly_repeated()
    assert cluster.emulator.limit_throttles == []  # our limits kept Telegram from ever refusing a send
    assert worker.alive


async def test_the_worker_survives_its_database_connections_being_cut_and_loses_nothing(
    cluster: Cluster,
) -> None:
    cluster.connect_patients(150)
    worker = cluster.start_worker("worker", telegram_send_per_second=40)
    admin = sa.create_engine(cluster.database_url, poolclass=NullPool)
    cuts = 0
    try:

        def cut_connections() -> bool:
            nonlocal cuts
            if cluster.patients_reached() == 150 and cluster.all_sent():
                return True
            if cuts < 8 and cluster.patients_reached() > cuts * 15:
                with admin.connect() as connection:
                    killed = connection.exec_driver_sql(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    ).scalar_one()
                cuts += 1 if killed else 0
            return False

        await cluster.until(cut_connections, timeout=60, what="every first question delivered after outages")
    finally:
        admin.dispose()
    assert cuts >= 3
    assert worker.alive
    assert cluster.checkins_started() == 150
    repeats = cluster.delivered_to_patients() - 150
    assert repeats <= cuts  # a lost connection while recording "sent" is retried, not resent
    print(f"\n{cuts} rounds of connections cut; {repeats} repeated")
