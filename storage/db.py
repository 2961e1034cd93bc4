"""Engines and sessions: the only place that knows how Aftercare talks to SQLite or PostgreSQL.

`make_engine(url)` is a factory; nothing here creates an engine at import time, so tests and the CLI
choose the database. SQLite gets WAL, enforced foreign keys, a busy timeout and `BEGIN IMMEDIATE` for
every transaction: the write lock is taken up front, so a claim (read due rows, then mark them) is atomic
with a single writer and never fails half-way with "database is locked" on upgrade from read to write.
PostgreSQL gets pool_pre_ping; claims there use `FOR UPDATE SKIP LOCKED` (see storage/checkins.py).

Must not create tables (Alembic does, see storage/migrate.py) or hold a session open across awaits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session

SQLITE_BUSY_TIMEOUT_MS = 5000


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url` ("sqlite:///path/to.db" or "postgresql+psycopg://user@host/db")."""
    # hide_parameters: a database error logged with its SQL must never carry what a patient wrote.
    if make_url(url).get_backend_name() == "sqlite":
        # LIFO: the connection used last is used next. Its page cache is warm; SQLite empties a connection's
        # cache whenever another connection has written since it last ran, which with the pool's default
        # rotation (FIFO) was every time (statements took about a third longer, bench/replies.py).
        engine = create_engine(url, echo=echo, hide_parameters=True, pool_use_lifo=True)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, hide_parameters=True)


def is_sqlite(engine_or_connection: Engine | Connection) -> bool:
    return engine_or_connection.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    # SQLAlchemy's documented recipe for taking over BEGIN from the sqlite3 driver (its "legacy
    # transaction control" does not BEGIN before SELECTs, so a read-then-write could interleave).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
            cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")  # durable with WAL except on power loss
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_session(engine: Engine) -> Session:
    """A session whose objects stay readable after commit (the bot reads them after the transaction)."""
    return Session(engine, expire_on_commit=False)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: commits when the block ends normally, rolls back if it raises."""
    with make_session(engine) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
