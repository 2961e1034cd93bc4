"""/healthz and /metrics on the console's listener: 200 or 503 with the figures, Prometheus text, and only for
this machine or HEALTH_ALLOW_FROM, never through a proxy."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from console.app import create_app
from storage.db import make_engine, session_scope
from storage.inbound import note_delivery, note_processing_restart
from storage.messages import enqueue_message
from storage.models import MessagePurpose, Priority
from tests.console.conftest import BASE_URL, Console, make_settings

LOOPBACK = ("127.0.0.1", 50000)
BOT = 5_000_000_001


def client(console: Console, address: tuple[str, int] = LOOPBACK, **headers: str) -> TestClient:
    return TestClient(console.app, base_url=BASE_URL, client=address, headers=headers, follow_redirects=False)


def polled(console: Console, ago: timedelta = timedelta(seconds=10)) -> None:
    with session_scope(console.engine) as session:
        note_delivery(session=session, bot_id=BOT, mode="polling", now=console.clock.now - ago)


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_is_200_while_patients_are_heard_and_503_when_not(console: Console) -> None:
    polled(console)
    healthy = client(console).get("/healthz")
    assert healthy.status_code == 200 and healthy.headers["content-type"] == "application/json"
    assert healthy.json()["status"] == "healthy" and healthy.json()["problems"] == []
    console.clock.advance(timedelta(minutes=6))
    silent = client(console).get("/healthz")
    assert silent.status_code == 503
    assert silent.json()["status"] == "not hearing patients"
    assert silent.json()["problems"] == [
        {"figure": "receiving", "message": "no getUpdates call has succeeded (not for 6 min)"}
    ]


def test_metrics_give_the_same_figures_in_prometheus_text(console: Console) -> None:
    polled(console, ago=timedelta(seconds=30))
    with session_scope(console.engine) as session:
        enqueue_message(
            session=session,
            chat_id=1,
            text="How is your pain?",
            purpose=MessagePurpose.CHECKIN_QUESTION,
            priority=Priority.ROUTINE,
            now=console.clock.now - timedelta(minutes=20),
        )
        note_processing_restart(
            session=session,
            bot_id=BOT,
            mode="polling",
            error="OperationalError",
            now=console.clock.now - timedelta(minutes=3),
        )
    console.escalate(console.enrol(), minutes_ago=30)  # Tuesday 09:30, in office hours
    response = client(console).get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain; version=")
    figures = metrics(response.text)
    assert figures[("aftercare_healthy", ())] == 0
    assert figures[("aftercare_database_readable", ())] == 1
    assert figures[("aftercare_health_problem", (("figure", "outbox"),))] == 1
    assert figures[("aftercare_health_problem", (("figure", "receiving"),))] == 0
    assert figures[("aftercare_last_delivery_age_seconds", ())] == 30
    assert figures[("aftercare_processing_restarts_total", ())] == 1  # shown, not judged: it restarted
    assert figures[("aftercare_last_processing_restart_age_seconds", ())] == 3 * 60
    assert figures[("aftercare_outbox_unsent", ())] == 1
    assert figures[("aftercare_outbox_unsent_oldest_age_seconds", ())] == 20 * 60
    assert figures[("aftercare_updates_waiting", ())] == 0
    assert figures[("aftercare_updates_waiting_oldest_age_seconds", ())] == 0
    assert figures[("aftercare_red_flags_unacknowledged", ())] == 1
    assert figures[("aftercare_red_flags_unacknowledged_oldest_age_seconds", ())] == 30 * 60
    assert figures[("aftercare_red_flags_past_target", ())] == 0  # the target is 1 h of office time
    assert figures[("aftercare_updates_quarantined_last_hour", ())] == 0


@pytest.mark.parametrize(
    ("address", "headers"),
    [
        (("testclient", 50000), {}),  # not an address at all
        (("203.0.113.9", 50000), {}),  # the internet
        (("10.1.2.3", 50000), {}),  # the trust's network, not allowed by default
        (LOOPBACK, {"X-Forwarded-For": "203.0.113.9"}),  # through the reverse proxy on this machine
        (LOOPBACK, {"X-Forwarded-Proto": "https"}),  # the nginx configuration in docs/operations.md
        (LOOPBACK, {"Forwarded": "for=203.0.113.9;proto=https"}),
        (LOOPBACK, {"X-Real-IP": "203.0.113.9"}),
    ],
)
def test_anyone_but_this_machine_gets_not_found(
    console: Console, address: tuple[str, int], headers: dict[str, str]
) -> None:
    polled(console)
    for path in ("/healthz", "/metrics"):
        response = client(console, address, **headers).get(path)
        assert response.status_code == 404
        assert "healthy" not in response.text and "aftercare_" not in response.text


def test_health_allow_from_lets_a_monitoring_network_in(console: Console, sqlite_url: str) -> None:
    polled(console)
    settings = make_settings(sqlite_url, health_allow_from="10.1.0.0/16, 192.0.2.7")
    console.app = create_app(settings, console.engine, clock=console.clock)
    assert client(console, ("10.1.2.3", 40000)).get("/healthz").status_code == 200
    assert client(console, ("192.0.2.7", 40000)).get("/metrics").status_code == 200
    assert client(console, ("192.0.2.8", 40000)).get("/healthz").status_code == 404


def test_a_database_that_cannot_be_read_is_503_and_a_zero_gauge(console: Console, tmp_path: Path) -> None:
    never_upgraded = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        console.app = create_app(console.settings, never_upgraded, clock=console.clock)
        response = client(console).get("/healthz")
        assert response.status_code == 503 and response.json()["status"] == "database unreachable"
        figures = metrics(client(console).get("/metrics").text)
        assert figures == {("aftercare_database_readable", ()): 0}
    finally:
        never_upgraded.dispose()
