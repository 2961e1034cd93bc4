"""`aftercare escalations [--open] [--json]`: the escalations, most urgent first."""

from __future__ import annotations

import argparse
import json

from bot.database import open_database
from bot.settings import Settings
from storage.db import session_scope
from storage.escalations import list_escalations
from storage.patients import get_patient


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("escalations", help="list escalations (red first, then oldest)")
    parser.add_argument("--open", action="store_true", help="only those not yet closed")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=escalations_command)


def escalations_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = open_database(settings)
    rows = []
    try:
        with session_scope(engine) as session:
            for escalation in list_escalations(session=session, open_only=args.open):
                patient = (
                    get_patient(session=session, patient_id=escalation.patient_id)
                    if escalation.patient_id is not None
                    else None  # a system escalation about an update from nobody we know
                )
                rows.append(
                    {
                        "id": escalation.id,
                        "patient": patient.reference if patient else None,
                        "level": escalation.level,
                        "rule": escalation.rule,
                        "status": escalation.status,
                        "created_at": escalation.created_at.isoformat(),
                        "acknowledged_at": escalation.acknowledged_at.isoformat()
                        if escalation.acknowledged_at
                        else None,
                    }
                )
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("no escalations" + (" open" if args.open else ""))
    for row in rows:
        acknowledged = row["acknowledged_at"] or "-"
        print(
            f"{row['id']:>5}  {row['patient']}  {row['level']:<5}  {row['status']:<12}  {row['created_at']}  "
            f"ack {acknowledged}  {row['rule']}"
        )
    return 0
