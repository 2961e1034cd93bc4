"""`aftercare run`: the bot and the scheduler (and, in local mode, the Telegram emulator) in one process."""

from __future__ import annotations

import argparse
import asyncio

from bot.database import open_database
from bot.runtime import run
from bot.settings import Settings


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("run", help="run the service (local mode without TELEGRAM_BOT_TOKEN)")
    parser.add_argument(
        "--no-polling",
        action="store_true",
        help="a sender-only worker: scheduler and outbox, no getUpdates (another worker polls; PostgreSQL)",
    )
    parser.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings)
    try:
        polling = False if getattr(args, "no_polling", False) else None
        asyncio.run(run(settings, engine, companions=getattr(args, "companions", ()), polling=polling))
    finally:
        engine.dispose()
    return 0
