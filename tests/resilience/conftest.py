"""Fixtures for the resilience tests: a fresh PostgreSQL database per test (on the server of
tests/conftest.py, so an unreachable server fails the test when CI=true) and a ``Cluster`` around it;
``any_cluster`` runs a test on a SQLite file as well."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.emulator import Emulator
from bot.emulator.server import serve
from flows.clinic import load_clinic
from storage.db import make_engine
from storage.migrate import upgrade
from tests.conftest import DATABASE_KINDS, PostgresServer
from tests.resilience.cluster import Cluster, always_open_clinic


@pytest.fixture
def pg_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A new, migrated PostgreSQL database of its own (workers in other processes share it)."""
    url = postgres_server.create_database()
    try:
        upgrade(url)
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture
async def cluster(pg_url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    async with _cluster(pg_url, tmp_path) as built:
        yield built


@pytest.fixture(params=DATABASE_KINDS)
async def any_cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cluster]:
    """A cluster on a SQLite file (one worker at a time, as SQLite allows), then on PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'aftercare.sqlite3'}"
        upgrade(url)
    else:
        url = request.getfixturevalue("pg_url")
    async with _cluster(url, tmp_path) as built:
        yield built


@contextlib.asynccontextmanager
async def _cluster(url: str, tmp_path: Path) -> AsyncIterator[Cluster]:
    emulator = Emulator(enforce_limits=False)
    server = await serve(emulator)
    engine = make_engine(url)
    clinic_file = always_open_clinic(tmp_path)
    nurse = emulator.create_user(first_name="Jo")
    staff = emulator.create_group(title="Pain Clinic staff", member_ids=[nurse.id])
    cluster = Cluster(
        emulator=emulator,
        server=server,
        engine=engine,
        database_url=url,
        clinic=load_clinic(clinic_file.read_text(encoding="utf-8"), source=str(clinic_file)),
        clinic_file=clinic_file,
        folder=tmp_path,
        staff_chat_id=staff.id,
    )
    try:
        yield cluster
    finally:
        cluster.stop_all()
        await server.aclose()
        engine.dispose()
