"""Shared pytest fixtures. This part: databases.

`database_url` runs a test twice: on SQLite (a fresh file per test, copied from one migrated template)
and on PostgreSQL (marked `postgres`; one freshly created, randomly named database per test session,
emptied before each test, dropped at the end). Without a reachable PostgreSQL the postgres variant is
skipped locally but fails when CI=true, so CI can never pass by silently skipping it.

Server: AFTERCARE_TEST_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/ (trust auth).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

import storage.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from storage.db import make_engine, make_session
from storage.migrate import upgrade

POSTGRES_SERVER = os.environ.get(
    "AFTERCARE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/"
)
DATABASE_KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _unavailable(reason: str) -> None:
    if _in_ci():
        pytest.fail(f"PostgreSQL is required in CI (CI=true): {reason}")
    pytest.skip(f"PostgreSQL not reachable: {reason}")


class PostgresServer:
    """Creates and drops throwaway databases on the test server."""

    def __init__(self, server_url: str) -> None:
        self.base = make_url(server_url)
        self.admin = sa.create_engine(
            self.base.set(database="postgres"),
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
            connect_args={"connect_timeout": 3},
        )

    def check(self) -> None:
        with self.admin.connect() as connection:
            connection.exec_driver_sql("SELECT 1")

    def create_database(self) -> str:
        name = f"aftercare_test_{secrets.token_hex(6)}"
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        return self.base.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(POSTGRES_SERVER)
    try:
        server.check()
    except sa.exc.OperationalError as error:
        _unavailable(str(error).splitlines()[0])
    yield server
    server.admin.dispose()


@pytest.fixture(scope="session")
def _postgres_migrated(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    try:
        upgrade(url)
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "aftercare.db"
    upgrade(f"sqlite:///{path}")  # disposes its engine: the WAL is checkpointed into the file
    return path


def _empty_postgres(url: str) -> None:
    """Delete every row between tests; much faster than a new database. The audit table refuses
    TRUNCATE by trigger, so the owner switches its triggers off inside the same transaction (DDL is
    transactional in PostgreSQL: no other session ever sees them off)."""
    tables = ", ".join(f'"{table.name}"' for table in SQLModel.metadata.sorted_tables)
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE audit_event DISABLE TRIGGER USER")
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
            connection.exec_driver_sql("ALTER TABLE audit_event ENABLE TRIGGER USER")
    finally:
        engine.dispose()


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "aftercare.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("_postgres_migrated")
    _empty_postgres(url)
    return url


@pytest.fixture(params=DATABASE_KINDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all (for migration tests): SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database. Data functions flush; tests commit when they need to."""
    with make_session(engine) as session:
        yield session
