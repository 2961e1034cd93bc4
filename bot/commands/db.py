"""`aftercare db upgrade`: bring the database schema up to date (safe to run at any time)."""

from __future__ import annotations

import argparse

from bot.database import database_url_ready
from bot.settings import Settings
from storage.migrate import current, upgrade


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("db", help="database schema")
    commands = parser.add_subparsers(dest="db_command", required=True)
    commands.add_parser("upgrade", help="apply migrations up to the latest").set_defaults(
        handler=upgrade_command
    )


def upgrade_command(args: argparse.Namespace, settings: Settings) -> int:
    url = database_url_ready(settings)
    upgrade(url)
    print(f"database at revision {current(url)}")
    return 0
