"""Alembic's environment for Aftercare: which metadata to compare and how to connect.

Connects with storage.db.make_engine, so migrations run with the same SQLite settings as the service
(WAL, foreign keys, BEGIN IMMEDIATE). storage.migrate passes an open connection in
`config.attributes["connection"]`; run by hand, the URL comes from AFTERCARE_DATABASE_URL.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers every table on SQLModel.metadata)
from storage.db import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("AFTERCARE_DATABASE_URL")
    if not url:
        raise RuntimeError("Set AFTERCARE_DATABASE_URL to the database to migrate.")
    return url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # Batch mode on every database, so a migration drafted against PostgreSQL still runs on
        # SQLite (which cannot ALTER most things in place).
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as new_connection:
            _run(new_connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
