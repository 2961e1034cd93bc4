"""A worker's name is held by one running process at a time, and is free again the moment that process is
killed: what lets a restarted worker take its claims back at once (storage/worker_names.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine

from storage.db import make_engine
from storage.worker_names import hold_first_free, hold_name

REPO = Path(__file__).resolve().parents[2]


def test_a_name_is_held_by_one_holder_at_a_time(engine: Engine) -> None:
    first = hold_name(engine, "clinic-worker")
    assert first is not None
    assert hold_name(engine, "clinic-worker") is None  # another holder, even in this same process
    other = hold_name(engine, "other-worker")
    assert other is not None
    first.release()
    again = hold_name(engine, "clinic-worker")
    assert again is not None
    again.release()
    other.release()


def test_without_a_name_of_its_own_each_worker_on_a_host_gets_the_next_free_one(engine: Engine) -> None:
    names = [hold_first_free(engine, "ward-pc") for _ in range(3)]
    assert [held.name for held in names] == ["ward-pc", "ward-pc-2", "ward-pc-3"]
    names[0].release()
    restarted = hold_first_free(engine, "ward-pc")  # the first one, restarted: its own name back
    assert restarted.name == "ward-pc"
    for held in [restarted, *names[1:]]:
        held.release()


def test_a_name_is_free_the_moment_its_process_is_killed(database_url: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from storage.db import make_engine
                from storage.worker_names import hold_name
                held = hold_name(make_engine({database_url!r}), "killed-worker")
                print("held" if held else "refused", flush=True)
                time.sleep(60)
                """
            ),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    engine = make_engine(database_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert hold_name(engine, "killed-worker") is None
        holder.kill()  # SIGKILL: no clean-up of its own
        holder.wait(timeout=10)
        deadline = time.monotonic() + 5  # PostgreSQL notices the closed connection within moments
        while (held := hold_name(engine, "killed-worker")) is None:
            assert time.monotonic() < deadline, "the name stayed held after its process died"
            time.sleep(0.05)
        held.release()
    finally:
        holder.kill()
        holder.wait(timeout=10)
        engine.dispose()


def test_a_name_must_fit_the_claims_column(engine: Engine) -> None:
    with pytest.raises(ValueError, match="1-64"):
        hold_name(engine, "x" * 65)
