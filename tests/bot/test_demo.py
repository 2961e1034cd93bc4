"""`aftercare demo` (bot/commands/demo.py): the scripted journey runs in-process against the emulator,
prints a readable transcript with the escalations, and exits 0; if an expected step does not happen, it
says which and exits 1."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bot.cli import main
from bot.commands import demo
from bot.staff_alerts import StaffAlerts
from tests.bot.conftest import local_settings


def test_the_demo_plays_the_whole_story_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    story = [
        "Sam: opens the link (/start)",
        "Is it OK for us to message you here",
        "Sam: taps [Yes, that's OK]",
        "the day-0 check-in is due",
        "Do you have any numbness or heaviness",
        "Sam: 7.2",
        "Your next check-in will come tomorrow at 10am",
        "day 1: the morning check-in is due",
        "Sam: taps [Yes]",
        "Please read this message now.",
        "Go to A&E now.",
        "Bot → staff chat:",
        "RED escalation #1",
        "Nurse Jo (staff chat): taps [Acknowledge]",
        "#1 RED red.ces.screen_positive · acknowledged",
        "Demo complete: every step happened.",
    ]
    positions = [out.find(line) for line in story]
    assert -1 not in positions, [line for line in story if line not in out]
    assert positions == sorted(positions)  # in the order it happened
    staff_part = out[out.index("Bot → staff chat:") : out.index("Nurse Jo")]
    assert "Sam" not in staff_part  # staff alerts carry the reference, never the name


def test_the_demo_exits_1_naming_the_step_that_did_not_happen(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(StaffAlerts, "_post", lambda *args, **kwargs: None)  # staff are never alerted
    monkeypatch.setattr(demo, "WAIT", 5.0)  # the missing step fails after this; healthy ones need far less
    url = f"sqlite:///{tmp_path / 'kept.sqlite3'}"
    code = demo.demo_command(argparse.Namespace(database_url=url), local_settings("sqlite:///unused.sqlite3"))
    out = capsys.readouterr().out
    assert code == 1
    assert "DEMO FAILED: the bot never said 'RED escalation #1' to staff chat" in out
    assert "#1 RED red.ces.screen_positive · open" in out  # the escalation itself was raised
    assert (tmp_path / "kept.sqlite3").exists()  # --database-url keeps the records
