"""Engines and sessions: SQLite settings, foreign keys, aware datetimes, commit and rollback."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError
from sqlmodel import Session, select

from storage.db import is_sqlite, make_engine, session_scope
from storage.models import Clinic, Episode
from tests.storage.factories import NOW, clinic


def test_sqlite_runs_in_wal_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'settings.db'}")
    assert is_sqlite(engine)
    with engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    engine.dispose()
    assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000, "synchronous": 1}


def test_sqlite_transactions_take_the_write_lock_up_front(tmp_path: Path) -> None:
    """A second writer cannot even start a transaction while the first is open: claims are atomic."""
    url = f"sqlite:///{tmp_path / 'lock.db'}"
    first, second = make_engine(url), make_engine(url)
    with first.connect() as holder, second.connect() as waiter:
        waiter.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once instead of waiting
        waiter.commit()
        holder.begin()
        holder.exec_driver_sql("SELECT 1")  # a read only: BEGIN IMMEDIATE already holds the lock
        with pytest.raises(OperationalError, match="locked"):
            waiter.begin()
        holder.rollback()
    first.dispose()
    second.dispose()


def test_a_row_pointing_at_a_missing_parent_is_refused(session: Session) -> None:
    session.add(
        Episode(
            patient_id=999,
            procedure_id="x",
            protocol_version=1,
            protocol_digest="d",
            performed_at=NOW,
            created_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        session.flush()


def test_naive_datetimes_are_refused(session: Session) -> None:
    session.add(Clinic(slug="naive", name="Naive", created_at=datetime(2026, 1, 1, 9, 0)))
    with pytest.raises(StatementError, match="timezone"):
        session.flush()


def test_naive_datetimes_are_refused_in_queries_too(session: Session) -> None:
    naive = datetime(2026, 1, 1, 9, 0)
    with pytest.raises(StatementError, match="timezone"):
        session.exec(select(Clinic).where(Clinic.created_at < naive)).all()


def test_datetimes_come_back_aware_utc(engine: Engine) -> None:
    with session_scope(engine) as session:
        clinic(session)
    with session_scope(engine) as session:
        stored = session.exec(select(Clinic)).one()
    assert stored.created_at == NOW
    assert stored.created_at.utcoffset() == timedelta(0)


def test_session_scope_commits_on_success_and_rolls_back_on_error(engine: Engine) -> None:
    with session_scope(engine) as session:
        session.add(Clinic(slug="kept", name="Kept", created_at=NOW))
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        session.add(Clinic(slug="lost", name="Lost", created_at=NOW))
        session.flush()
        raise RuntimeError("boom")
    with session_scope(engine) as session:
        slugs = session.exec(select(Clinic.slug)).all()
    assert slugs == ["kept"]


def test_objects_stay_readable_after_the_scope_commits(engine: Engine) -> None:
    with session_scope(engine) as session:
        created = clinic(session)
    assert created.name == "North Pain Clinic"
