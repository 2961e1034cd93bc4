"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import make_engine
from storage.migrate import current, head, upgrade


def test_a_new_database_has_no_revision(empty_database_url: str) -> None:
    assert current(empty_database_url) is None


def test_upgrade_builds_exactly_the_tables_of_the_models(empty_database_url: str) -> None:
    upgrade(empty_database_url)

    engine = make_engine(empty_database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, SQLModel.metadata)
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()
    assert differences == []
    assert tables == set(SQLModel.metadata.tables)
    assert current(empty_database_url) == head()


def test_upgrading_an_up_to_date_database_changes_nothing(empty_database_url: str) -> None:
    upgrade(empty_database_url)
    upgrade(empty_database_url)
    assert current(empty_database_url) == head()
