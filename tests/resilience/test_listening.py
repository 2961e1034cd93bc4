"""A real `aftercare run` process that polls, on PostgreSQL: an update python-telegram-bot cannot parse does
not stop it listening (the red flag behind it is answered and reaches staff), and SIGTERM then drains the
outbox and ends the process cleanly, with exit status 0 (not "This Application is still running!")."""

from __future__ import annotations

import signal

import httpx
import pytest
from sqlmodel import select

from bot.inbound import UNREADABLE
from storage.db import session_scope
from storage.models import Escalation, InboundStatus, InboundUpdate
from tests.resilience.cluster import STOP_WAIT_SECONDS, Cluster

pytestmark = pytest.mark.postgres
RED_TEXT = "I've wet myself twice today and couldn't feel it"


async def test_an_unreadable_update_never_stops_polling_and_sigterm_drains_and_exits_cleanly(
    cluster: Cluster,
) -> None:
    [chat_id] = cluster.connect_patients(1)
    worker = cluster.start_worker("poller", polling=True)
    await cluster.until(lambda: cluster.received(chat_id) != [], timeout=30, what="the first question")
    chat = {"id": chat_id, "type": "private", "first_name": "P0"}
    poll = {"id": "77", "question": "Which day suits you?", "options": []}  # no total_voter_count etc.
    unreadable = {
        "message": {"message_id": 900, "date": 1764000000, "chat": chat, "from": {**chat, "is_bot": False}}
        | {"poll": poll}
    }
    async with httpx.AsyncClient(base_url=cluster.server.base_url) as client:
        queued = await client.post("/_emulator/updates", json={"update": unreadable})
    assert queued.json()["ok"] is True
    await cluster.emulator.user_sends(chat_id, RED_TEXT)

    def escalated() -> list[str]:
        with session_scope(cluster.engine) as session:
            return sorted(e.rule for e in session.exec(select(Escalation)).all())

    await cluster.until(
        lambda: any("Go to A&E now." in text for text in cluster.received(chat_id)) and len(escalated()) == 2,
        timeout=30,
        what="the red flag answered and escalated behind the unreadable update",
    )
    assert escalated()[0] == UNREADABLE
    # SIGTERM, waited for without blocking this event loop: the emulator answers the sends of the drain.
    worker.process.send_signal(signal.SIGTERM)
    await cluster.until(lambda: not worker.alive, timeout=STOP_WAIT_SECONDS, what="the worker to stop")
    assert worker.process.returncode == 0, worker.log_tail()
    log = worker.log.read_text(encoding="utf-8")
    assert "stopped cleanly" in log and "still running" not in log
    assert cluster.all_sent(), cluster.outbox_counts()  # drained: the advice, the apology, the staff alerts
    with session_scope(cluster.engine) as session:
        statuses = [row.status for row in session.exec(select(InboundUpdate)).all()]
    assert statuses.count(InboundStatus.FAILED) == 1 and InboundStatus.RECEIVED not in statuses
