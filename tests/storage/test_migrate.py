"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from storage.db import make_engine
from storage.migrate import current, downgrade, head, upgrade


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


def test_staff_accounts_survive_the_sign_in_hardening_migration_both_ways(empty_database_url: str) -> None:
    """0003_staffauth drops the account-wide lock-out columns and adds two-factor sign-in's."""
    upgrade(empty_database_url, "0002")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO staff_user (username, password_hash, role, display_name, active, failed_logins, "
                "locked_until, created_at) VALUES ('nina', '$argon2id$x', 'nurse', 'Nina', true, 3, NULL, "
                "'2026-11-24 10:00:00+00:00')"
            )
        upgrade(empty_database_url, "0003_staffauth")
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT username, password_hash, totp_secret, totp_last_step FROM staff_user"
            ).one()
            assert tuple(row) == ("nina", "$argon2id$x", None, None)
            assert "failed_logins" not in {c["name"] for c in inspect(connection).get_columns("staff_user")}
        downgrade(empty_database_url, "0002")
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT username, failed_logins, locked_until FROM staff_user"
            ).one()
            assert tuple(row) == ("nina", 0, None)
            assert "login_throttle" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()
