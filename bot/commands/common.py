"""Small helpers shared by the CLI's subcommands."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from flows.clinic import Clinic


def parse_moment(text: str, clinic: Clinic) -> datetime:
    """An ISO 8601 time; without an offset it is read on the clinic's wall clock. Returned aware, in UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 date and time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clinic.zone)
    return moment.astimezone(UTC)
