"""Workers on one database: due check-ins and the outbox shared, a killed worker's claims taken over.

Bound on repeats after kill -9: each attempt to send is written down as started before its request goes, and
a message is recorded as sent shortly after Telegram accepts it. A worker restarted under its own name takes
its claims back at once, not when their leases run out: those whose attempt had started may have reached the
patient and are sent again (each counted as one unanswered attempt); the others cannot have. So a kill
repeats at most the messages whose attempts had started and were not recorded: never more than BATCH.
"""

from __future__ import annotations

import time

import pytest

from bot.outbox import BATCH
from tests.resilience.cluster import Cluster

PATIENTS = 1000


async def test_a_worker_killed_mid_dispatch_and_restarted_takes_its_claims_back_at_once(
    any_cluster: Cluster,
) -> None:
    cluster = any_cluster
    cluster.connect_patients(PATIENTS)
    # Leases of an hour: a restarted worker that waited for them would not finish in this test.
    hour = {"outbox_lease_seconds": 3600, "checkin_lease_seconds": 3600}
    first = cluster.start_worker("clinic-1", telegram_send_per_second=250, **hour)
    await cluster.until(
        lambda: cluster.patients_reached() >= 100, timeout=30, what="100 first questions sent"
    )
    first.kill_9()
    reached_at_kill = cluster.patients_reached()
    assert 0 < reached_at_kill < PATIENTS, "the kill must land mid-dispatch"

    restarted_at = time.monotonic()
    restarted = cluster.start_worker("clinic-1", telegram_send_per_second=1000, **hour)
    await cluster.until(
        lambda: cluster.patients_reached() == PATIENTS and cluster.all_sent(),
        timeout=120,
        what="every patient's first question delivered, without waiting out the leases",
    )
    took = time.monotonic() - restarted_at

    assert cluster.checkins_started() == PATIENTS  # each check-in begun once: no question queued twice
    assert cluster.queued_for_patients() == PATIENTS
    repeats = cluster.delivered_to_patients() - PATIENTS
    possibly = cluster.possibly_repeated()  # the claims whose attempt had started, taken back at restart
    assert 0 <= repeats <= possibly <= BATCH
    assert "took back" in restarted.log.read_text(encoding="utf-8")
    print(f"\nkilled after {reached_at_kill} reached; {possibly} may have arrived twice, {repeats} did")
    print(f"the rest delivered in {took:.1f} s")


@pytest.mark.postgres
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
