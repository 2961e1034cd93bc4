"""Starting a worker: the name it claims under is its own for as long as it runs (bot/runtime.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import runtime
from bot.runtime import hold_worker_name
from bot.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade


def _settings(url: str, **values: object) -> Settings:
    return Settings(_env_file=None, database_url=url, **values)  # type: ignore[arg-type]


def test_a_worker_takes_the_hosts_name_or_the_next_free_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    monkeypatch.setattr(runtime.socket, "gethostname", lambda: "clinic-server")
    first = hold_worker_name(_settings(url), engine)
    second = hold_worker_name(_settings(url), engine)
    assert (first.name, second.name) == ("clinic-server", "clinic-server-2")
    first.release()
    second.release()
    engine.dispose()


def test_a_second_worker_given_a_name_already_running_refuses_to_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
    upgrade(url)
    engine = make_engine(url)
    monkeypatch.setattr(runtime, "NAME_WAIT_SECONDS", 0.2)
    running = hold_worker_name(_settings(url, worker_name="sender-a"), engine)
    with pytest.raises(SystemExit, match="another running worker is named 'sender-a'"):
        hold_worker_name(_settings(url, worker_name="sender-a"), engine)
    running.release()
    again = hold_worker_name(_settings(url, worker_name="sender-a"), engine)  # free once it stops
    assert again.name == "sender-a"
    again.release()
    engine.dispose()
