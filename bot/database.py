"""Opening the database for the edge: make the SQLite folder, bring the schema up to date, build an engine."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from bot.settings import Settings
from storage.db import make_engine
from storage.migrate import upgrade


def database_url_ready(settings: Settings) -> str:
    """The database URL, with the folder of a SQLite file created if missing."""
    url = make_url(settings.database_url)
    if url.drivername.startswith("sqlite") and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    return settings.database_url


def open_database(settings: Settings) -> Engine:
    """An engine on an up-to-date schema (migrations are idempotent and quick when nothing is pending)."""
    url = database_url_ready(settings)
    upgrade(url)
    return make_engine(url)
