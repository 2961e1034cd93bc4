"""The `aftercare` command line: one entry point, one small module per subcommand (bot/commands/).

Run `aftercare --help` for the list. Settings come from the environment and .env (bot/settings.py).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.commands import db, demo, enrol, escalations, health, protocols, run, staff, triage
from bot.runtime import CompanionFactory
from bot.settings import Settings
from flows.production import one_line_each
from flows.yamlsource import DataError

SUBCOMMANDS = (run, demo, protocols, triage, db, enrol, escalations, staff, health)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aftercare",
        description="Aftercare: Telegram follow-up for pain-clinic patients after spinal and joint "
        "injections.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, *, companions: Sequence[CompanionFactory] = ()) -> int:
    """The CLI. ``companions``: other web apps `aftercare run` serves beside the bot (the composition root,
    aftercare/cli.py, passes the staff console)."""
    args = build_parser().parse_args(argv)
    args.companions = companions
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        settings = Settings()
        settings.clinic  # noqa: B018 - fail early, with the file and line, on a bad clinic file
    except ValidationError as exc:
        print("aftercare: cannot start with these settings:", file=sys.stderr)
        for line in one_line_each(exc):
            print(f"  {line}", file=sys.stderr)
        return 2
    except (DataError, OSError) as exc:
        print(f"aftercare: bad clinic file:\n{exc}", file=sys.stderr)
        return 2
    try:
        return int(args.handler(args, settings))
    except argparse.ArgumentTypeError as exc:
        print(f"aftercare: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
