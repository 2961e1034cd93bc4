"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage.db import make_engine
from storage.inbound import canonical_json, content_digest
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


def test_upgrading_to_0003_keeps_every_update_escalation_and_note(empty_database_url: str) -> None:
    """0003 rebuilds inbound_update and escalation (on SQLite), which other rows refer to; nothing is lost,
    kept payloads are hashed in canonical form, and an escalation may then have no patient."""
    upgrade(empty_database_url, "0002")
    legacy = json.dumps({"update_id": 41, "message": {"text": "numb\u0000", "chat": {"id": 9}}}, indent=1)
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    statements = [
        ("INSERT INTO clinic (id, slug, name, created_at) VALUES (1, 'c', 'Clinic', :now)", {}),
        (
            "INSERT INTO patient (id, clinic_id, reference, display_name, diabetic, status, created_at) "
            "VALUES (1, 1, 'AC-1', 'Sam', false, 'active', :now)",
            {},
        ),
        (
            "INSERT INTO inbound_update (id, update_id, chat_id, kind, payload_json, received_at, status) "
            "VALUES (1, 41, 9, 'message', :payload, :now, 'processed')",
            {"payload": legacy},
        ),
        (
            "INSERT INTO staff_user (id, username, password_hash, role, display_name, active, failed_logins, "
            "created_at) VALUES (1, 'jo', 'x', 'nurse', 'Jo', true, 0, :now)",
            {},
        ),
        (
            "INSERT INTO escalation (id, patient_id, inbound_message_id, level, rule, trigger_text, status, "
            "created_at) VALUES (1, 1, 1, 'red', 'red.ces.bladder', 'numb', 'open', :now)",
            {},
        ),
        (
            "INSERT INTO escalation_note (id, escalation_id, staff_id, text, created_at) "
            "VALUES (1, 1, 1, 'called', :now)",
            {},
        ),
    ]
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            for statement, values in statements:
                connection.execute(text(statement), {"now": now, **values})
        upgrade(empty_database_url)
        with engine.begin() as connection:
            row = connection.execute(
                text("SELECT bot_id, update_id, content_sha256, payload_json FROM inbound_update")
            ).one()
            assert (row.bot_id, row.update_id) == (None, 41)  # adopted by the bot at its next start
            assert json.loads(row.payload_json) == json.loads(legacy)  # the same content, every character
            assert row.payload_json == canonical_json(json.loads(legacy))
            assert row.content_sha256 == content_digest(row.payload_json)
            escalation = text("SELECT patient_id, inbound_message_id FROM escalation")
            assert tuple(connection.execute(escalation).one()) == (1, 1)
            assert connection.execute(text("SELECT escalation_id FROM escalation_note")).scalar_one() == 1
            connection.execute(
                text(
                    "INSERT INTO escalation (id, patient_id, level, rule, trigger_text, status, created_at) "
                    "VALUES (2, NULL, 'amber', 'amber.system.update_not_readable', '(message)', 'open', :now)"
                ),
                {"now": now},
            )
    finally:
        engine.dispose()


def test_staff_accounts_survive_the_sign_in_hardening_migration_both_ways(empty_database_url: str) -> None:
    """0004_staffauth drops the account-wide lock-out columns and adds two-factor sign-in's."""
    upgrade(empty_database_url, "0003_inbound")
    engine = make_engine(empty_database_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO staff_user (username, password_hash, role, display_name, active, failed_logins, "
                "locked_until, created_at) VALUES ('nina', '$argon2id$x', 'nurse', 'Nina', true, 3, NULL, "
                "'2026-11-24 10:00:00+00:00')"
            )
        upgrade(empty_database_url, "0004_staffauth")
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT username, password_hash, totp_secret, totp_last_step FROM staff_user"
            ).one()
            assert tuple(row) == ("nina", "$argon2id$x", None, None)
            assert "failed_logins" not in {c["name"] for c in inspect(connection).get_columns("staff_user")}
        downgrade(empty_database_url, "0003_inbound")
        with engine.connect() as connection:
            row = connection.exec_driver_sql(
                "SELECT username, failed_logins, locked_until FROM staff_user"
            ).one()
            assert tuple(row) == ("nina", 0, None)
            assert "login_throttle" not in inspect(connection).get_table_names()
    finally:
        engine.dispose()
