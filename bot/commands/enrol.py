"""`aftercare enrol`: enrol a patient on a procedure's follow-up and print their single-use invite link."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime, timedelta

from bot.commands.common import parse_moment
from bot.database import open_database
from bot.links import bot_username, invite_link
from bot.settings import Settings
from flows.catalogue import bundled_protocols
from storage.db import session_scope
from storage.followup import enrol_on_protocol


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("enrol", help="enrol a patient and print their invite link")
    parser.add_argument("--name", required=True, help="first name or initials only")
    parser.add_argument("--procedure", required=True, help="protocol id, e.g. sacroiliac-joint-injection")
    parser.add_argument("--performed-at", required=True, help="ISO 8601; without an offset, clinic time")
    parser.add_argument("--diabetic", action="store_true")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=enrol_command)


def enrol_command(args: argparse.Namespace, settings: Settings) -> int:
    protocols = bundled_protocols()
    protocol = protocols.get(args.procedure)
    if protocol is None:
        print(f"unknown procedure {args.procedure!r}; choose one of: {', '.join(protocols)}", file=sys.stderr)
        return 2
    clinic = settings.clinic
    performed_at = parse_moment(args.performed_at, clinic)
    now = datetime.now(UTC)
    engine = open_database(settings)
    try:
        with session_scope(engine) as session:
            enrolment = enrol_on_protocol(
                session=session,
                clinic=clinic,
                protocol=protocol,
                display_name=args.name,
                performed_at=performed_at,
                diabetic=args.diabetic,
                invite_ttl=timedelta(hours=settings.invite_ttl_hours),
                now=now,
                actor="cli",
            )
            reference = enrolment.patient.reference
            checkins = [(c.key, c.due_at) for c in enrolment.checkins]
            patient_id, episode_id = enrolment.patient.id, enrolment.episode.id
    except ValueError as exc:
        print(f"aftercare: {exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    link = invite_link(bot_username(settings), enrolment.invite_token)
    expires = enrolment.invite_expires_at
    if args.json:
        print(
            json.dumps(
                {
                    "reference": reference,
                    "patient_id": patient_id,
                    "episode_id": episode_id,
                    "procedure": protocol.id,
                    "protocol_version": protocol.version,
                    "performed_at": performed_at.isoformat(),
                    "checkins": [{"key": key, "due_at": due.isoformat()} for key, due in checkins],
                    "invite": {
                        "token": enrolment.invite_token,
                        "link": link,
                        "expires_at": expires.isoformat(),
                    },
                },
                indent=2,
            )
        )
        return 0
    print(
        f"Enrolled {reference} on {protocol.title} (v{protocol.version}), performed "
        f"{clinic.local(performed_at):%a %d %b %Y %H:%M}; {len(checkins)} check-ins planned."
    )
    print(f"Invite link (single use, expires {clinic.local(expires):%a %d %b %H:%M}):\n  {link}")
    return 0
