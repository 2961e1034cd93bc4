"""The same end-to-end journeys on PostgreSQL: the code, the migrations and the claims run unchanged there.

These reuse test_journey.py's tests with the `world` built on a fresh PostgreSQL database instead of a SQLite
file (they fail, not skip, when CI=true and PostgreSQL is unreachable, like every PostgreSQL test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from storage.migrate import upgrade
from tests.bot.test_journey import (
    test_a_red_flag_typed_at_any_time_is_caught,
    test_a_whole_follow_up_with_calm_answers_completes_every_check_in,
    test_check_in_arrives_on_schedule_and_a_red_flag_gets_urgent_advice_and_reaches_staff,
)
from tests.conftest import PostgresServer

pytestmark = pytest.mark.postgres

__all__ = [
    "test_a_red_flag_typed_at_any_time_is_caught",
    "test_a_whole_follow_up_with_calm_answers_completes_every_check_in",
    "test_check_in_arrives_on_schedule_and_a_red_flag_gets_urgent_advice_and_reaches_staff",
]


@pytest.fixture
def database_file(postgres_server: PostgresServer) -> Iterator[str]:
    """Instead of a SQLite file: a new, migrated PostgreSQL database for this test."""
    url = postgres_server.create_database()
    try:
        upgrade(url)
        yield url
    finally:
        postgres_server.drop_database(url)


def test_these_journeys_really_run_on_postgresql(database_file: str) -> None:
    assert database_file.startswith("postgresql+psycopg://")
