"""Several workers on one PostgreSQL: due check-ins and the outbox shared, a dead worker's claims taken over.

Bound on repeats: a worker sends a claimed batch (outbox BATCH messages, one per chat) and records each
message as sent after Telegram accepts it. Killed with -9 in between, at most one batch was accepted but not
recorded; those are sent again when their lease runs out. So a kill repeats at most BATCH messages.
"""

from __future__ import annotations

import time

import pytest

from bot.outbox import BATCH
from tests.resilience.cluster import Cluster

pytestmark = pytest.mark.postgres
PATIENTS = 1000


async def test_a_worker_killed_mid_dispatch_loses_no_check_in_and_repeats_at_most_one_batch(
    cluster: Cluster,
) -> None:
    cluster.connect_patients(PATIENTS)
    first = cluster.start_worker("first", telegram_send_per_second=250)
    await cluster.until(
        lambda: cluster.patients_reached() >= 100, timeout=30, what="100 first questions sent"
    )
    first.kill_9()
    reached_at_kill = cluster.patients_reached()
    assert 0 < reached_at_kill < PATIENTS, "the kill must land mid-dispatch"

    restarted = time.monotonic()
    cluster.start_worker("second", telegram_send_per_second=1000)
    await cluster.until(
        lambda: cluster.patients_reached() == PATIENTS and cluster.all_sent(),
        timeout=40,
        what="every patient's first question delivered",
    )
    took = time.monotonic() - restarted

    assert cluster.checkins_started() == PATIENTS  # each check-in begun once: no question queued twice
    assert cluster.queued_for_patients() == PATIENTS
    repeats = cluster.delivered_to_patients() - PATIENTS
    assert 0 <= repeats <= BATCH
    print(f"\nkilled after {reached_at_kill} reached; {repeats} repeated; rest delivered in {took:.1f} s")


async def test_one_poller_and_two_senders_share_the_work_and_send_each_question_once(
    cluster: Cluster,
) -> None:
    cluster.connect_patients(100)
    workers = [
        cluster.start_worker("poller", polling=True, telegram_senders=3, telegram_send_per_second=600),
        cluster.start_worker("sender-a", telegram_senders=3, telegram_send_per_second=600),
        cluster.start_worker("sender-b", telegram_senders=3, telegram_send_per_second=600),
    ]
    await cluster.until(
        lambda: cluster.patients_reached() == 100 and cluster.all_sent(),
        timeout=40,
        what="every patient's first question delivered",
    )
    assert cluster.checkins_started() == 100
    assert cluster.delivered_to_patients() == 100  # nobody killed: nothing repeated
    assert all(worker.alive for worker in workers)
    logs = "".join(w.log.read_text(encoding="utf-8") for w in workers)
    assert "another process is polling" not in logs  # senders never call getUpdates: no 409
