"""Bring a database's schema up to date with Alembic, configured in code from inside the package.

Works from an installed wheel (the migrations ship as package data), with no alembic.ini needed.
Must not create tables any other way: `SQLModel.metadata.create_all` would skip the audit triggers.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import is_sqlite, make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def _config() -> Config:
    config = Config()
    # ConfigParser interpolation: a literal % must be doubled.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration up to `revision` in one transaction (SQLite and PostgreSQL DDL are
    transactional, so a failure leaves the schema as it was)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            sqlite = is_sqlite(connection)
            if sqlite:
                # SQLite alters a table by building a new one and dropping the old; with foreign keys on, the
                # drop fails while other tables refer to it. SQLite's documented procedure: switch them off
                # outside the transaction (they cannot change inside one), check them all before commit.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
            try:
                with connection.begin():
                    config = _config()
                    config.attributes["connection"] = connection
                    command.upgrade(config, revision)
                    if sqlite:
                        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                        if broken:
                            raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
            finally:
                if sqlite:
                    connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> None:
    """Undo migrations down to `revision`, in one transaction (for going back to an older Aftercare)."""
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            config = _config()
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def current(url: str) -> str | None:
    """The revision the database is at, or None for a database Alembic has never touched."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision
    finally:
        engine.dispose()


def head() -> str:
    """The newest revision shipped with this version of Aftercare."""
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    if revision is None:
        raise RuntimeError(f"No migrations found in {MIGRATIONS}")
    return revision
