"""`aftercare protocols check [FILE]` and `aftercare protocols show ID --performed-at ISO8601`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.commands.common import parse_moment
from bot.settings import Settings
from flows.catalogue import bundled_protocols, check_bundled_data, load_protocol
from flows.schedule import Patient, applies_education, applies_questions, plan
from flows.yamlsource import DataError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("protocols", help="check protocol files, or show a patient's schedule")
    commands = parser.add_subparsers(dest="protocols_command", required=True)
    check = commands.add_parser("check", help="validate protocol files (default: every bundled file)")
    check.add_argument("files", nargs="*", type=Path, metavar="FILE")
    check.set_defaults(handler=check_command)
    show = commands.add_parser("show", help="the schedule a patient would get for a procedure time")
    show.add_argument("protocol_id", metavar="ID")
    show.add_argument("--performed-at", required=True, help="ISO 8601, e.g. 2026-03-27T14:30 (clinic time)")
    show.add_argument("--diabetic", action="store_true")
    show.set_defaults(handler=show_command)
    listing = commands.add_parser("list", help="the bundled protocols")
    listing.set_defaults(handler=list_command)


def check_command(args: argparse.Namespace, settings: Settings) -> int:
    if not args.files:
        problems = check_bundled_data()
        for problem in problems:
            print(problem, file=sys.stderr)
        if not problems:
            for protocol in bundled_protocols().values():
                print(f"ok  {protocol.id} v{protocol.version} ({len(protocol.checkins)} check-ins)")
        return 1 if problems else 0
    failed = False
    for path in args.files:
        try:
            protocol = load_protocol(path.read_text(encoding="utf-8"), source=str(path))
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            failed = True
        except DataError as exc:
            for found in exc.problems:
                print(found, file=sys.stderr)
            failed = True
        else:
            print(f"ok  {path}: {protocol.id} v{protocol.version} ({len(protocol.checkins)} check-ins)")
    return 1 if failed else 0


def list_command(args: argparse.Namespace, settings: Settings) -> int:
    for protocol in bundled_protocols().values():
        print(f"{protocol.id:32} v{protocol.version}  {protocol.title}")
    return 0


def show_command(args: argparse.Namespace, settings: Settings) -> int:
    protocols = bundled_protocols()
    protocol = protocols.get(args.protocol_id)
    if protocol is None:
        print(f"unknown protocol {args.protocol_id!r}; known: {', '.join(protocols)}", file=sys.stderr)
        return 2
    clinic = settings.clinic
    performed_at = parse_moment(args.performed_at, clinic)
    patient = Patient(diabetic=args.diabetic)
    local_performed = clinic.local(performed_at)
    print(
        f"{protocol.title} (v{protocol.version}) performed {local_performed:%a %d %b %Y %H:%M %Z}, "
        f"{clinic.name} ({clinic.timezone}); contact hours {clinic.contact_hours.opens:%H:%M}-"
        f"{clinic.contact_hours.closes:%H:%M}{', diabetic' if args.diabetic else ''}"
    )
    by_id = {c.id: c for c in protocol.checkins}
    for item in plan(protocol, performed_at=performed_at, clinic=clinic, patient=patient):
        checkin = by_id[item.checkin_id]
        local = clinic.local(item.due_at)
        moved = " (moved into contact hours)" if item.moved else ""
        print(f"day {item.day:>3}  {local:%a %d %b %Y %H:%M %Z}  {item.checkin_id}{moved}")
        for lesson in applies_education(protocol, checkin, patient):
            print(f"            tell: {lesson}")
        for question in applies_questions(protocol, checkin, patient):
            print(f"            ask:  {question}")
    return 0
