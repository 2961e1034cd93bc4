"""`aftercare health`: a table (or JSON) of the figures, exit 0 when hearing patients and 1 when not; and the
start-up refusals of production settings, one line each."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import make_engine, session_scope
from storage.inbound import note_delivery, note_processing_restart
from storage.messages import enqueue_message
from storage.migrate import upgrade
from storage.models import MessagePurpose, Priority


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    for name in (
        "DATABASE_URL",
        "TELEGRAM_BOT_TOKEN",
        "CLINIC_FILE",
        "BOT_USERNAME",
        "ENVIRONMENT",
        "WEBHOOK_URL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    upgrade(url)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


BOT = 5_000_000_001


def record(
    url: str,
    *,
    polled_ago: timedelta,
    message_queued_ago: timedelta | None = None,
    restarted_ago: timedelta | None = None,
) -> None:
    """What a running service would have left in the database, `ago` before the real clock's now."""
    now = datetime.now(UTC)
    engine = make_engine(url)
    try:
        with session_scope(engine) as session:
            note_delivery(session=session, bot_id=BOT, mode="polling", now=now - polled_ago)
            if restarted_ago is not None:
                note_processing_restart(
                    session=session,
                    bot_id=BOT,
                    mode="polling",
                    error="OperationalError",
                    now=now - restarted_ago,
                )
            if message_queued_ago is not None:
                enqueue_message(
                    session=session,
                    chat_id=1,
                    text="How is your pain?",
                    purpose=MessagePurpose.CHECKIN_QUESTION,
                    priority=Priority.ROUTINE,
                    now=now - message_queued_ago,
                )
    finally:
        engine.dispose()


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_service_hearing_patients_exits_0_with_a_readable_table(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    record(database, polled_ago=timedelta(seconds=20))
    code, out, _ = run(capsys, "health")
    assert code == 0
    assert ": HEALTHY" in out.splitlines()[0]
    rows = {line.split()[0]: line for line in out.splitlines()[2:] if line.strip()}
    assert "ok" in rows["last"] and "s ago" in rows["last"]
    assert rows["processing"].split()[-1] == "0"
    assert "PROBLEM" not in out


def test_a_service_not_hearing_patients_exits_1_and_says_why(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    record(
        database,
        polled_ago=timedelta(minutes=30),
        message_queued_ago=timedelta(minutes=20),
        restarted_ago=timedelta(minutes=3),
    )
    code, out, _ = run(capsys, "health")
    assert code == 1
    assert ": NOT HEARING PATIENTS" in out.splitlines()[0]
    assert "  - no getUpdates call has succeeded (not for 30 min)" in out
    assert "  - 1 message(s) not sent, the oldest queued 20 min ago" in out
    [outbox] = [line for line in out.splitlines() if line.strip().startswith("outbox unsent")]
    assert "PROBLEM" in outbox and "1, the oldest 20 min" in outbox
    [restarts] = [line for line in out.splitlines() if line.strip().startswith("processing restarts")]
    assert "PROBLEM" not in restarts and restarts.endswith("1, the last 3 min ago (OperationalError)")
    code, out, _ = run(capsys, "health", "--json")
    report = json.loads(out)
    assert code == 1 and report["status"] == "not hearing patients"
    assert [p["figure"] for p in report["problems"]] == ["receiving", "outbox"]
    assert report["outbox_unsent"] == 1 and report["outbox_oldest_unsent_age_seconds"] >= 20 * 60
    assert (
        report["processing_restarts"] == 1 and report["last_processing_restart_error"] == "OperationalError"
    )


def test_a_database_that_cannot_be_read_is_not_hearing_patients(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "never-created.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    code, out, _ = run(capsys, "health")
    assert code == 1 and out.startswith(f"NOT HEARING PATIENTS: there is no database at {missing}")
    assert not missing.exists()  # a health check never creates one
    empty = tmp_path / "empty.sqlite3"
    empty.touch()  # a file, but never upgraded
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
    code, out, _ = run(capsys, "health", "--json")
    assert code == 1 and json.loads(out)["status"] == "database unreachable"


def test_finding_7_production_with_weak_settings_refuses_to_start_one_line_each(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "ENVIRONMENT": "production",
        "TELEGRAM_BOT_TOKEN": "x",
        "WEBHOOK_URL": "http://aftercare.example.nhs.uk/telegram",
    }.items():
        monkeypatch.setenv(name, value)
    code, out, err = run(capsys, "run")
    assert code == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == "aftercare: cannot start with these settings:"
    assert [line.split()[0] for line in lines[1:]] == [
        "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "CLINIC_FILE",
    ]
    assert "errors.pydantic.dev" not in err
