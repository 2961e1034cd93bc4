"""Benchmark 3b: enrolling patients the real way, one transaction each, as the console and the CLI do.

storage.followup.enrol_on_protocol per patient (pin the protocol, plan the check-ins, patient, episode,
check-ins, invite, audit rows), each in its own transaction (or `--per-transaction N`, as a bulk import
would), on a fresh SQLite file (or a scratch PostgreSQL database). p50/p95 are per patient.

    .venv/bin/python bench/enrolment.py [--patients 10000] [--database sqlite|postgresql]
        [--per-transaction 1]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta
from typing import Any

from _common import MONDAY_9AM, PROCEDURE, header, local_settings, percentile, table, write_results
from size import database
from sqlalchemy import func, select

from flows.catalogue import bundled_protocols
from storage.db import make_engine, session_scope
from storage.followup import enrol_on_protocol
from storage.migrate import upgrade
from storage.models import CheckIn

TARGET_SECONDS = 30.0


def enrol(url: str, patients: int, batch: int = 1) -> dict[str, Any]:
    upgrade(url)
    engine = make_engine(url)
    protocol = bundled_protocols()[PROCEDURE]
    clinic = local_settings("sqlite://").clinic
    now = MONDAY_9AM
    each = []
    try:
        started = time.perf_counter()
        for first in range(0, patients, batch):
            begin = time.perf_counter()
            with session_scope(engine) as session:
                for n in range(first, min(first + batch, patients)):
                    enrol_on_protocol(
                        session=session,
                        clinic=clinic,
                        protocol=protocol,
                        display_name=f"P{n}",
                        performed_at=now - timedelta(hours=n % 48),
                        diabetic=n % 5 == 0,
                        invite_ttl=timedelta(hours=72),
                        now=now,
                        actor="bench",
                    )
            each.append((time.perf_counter() - begin) / min(batch, patients - first))
        seconds = time.perf_counter() - started
        with session_scope(engine) as session:
            checkins = session.scalar(select(func.count()).select_from(CheckIn))
    finally:
        engine.dispose()
    return {
        "patients": patients,
        "patients_per_transaction": batch,
        "checkins": checkins,
        "seconds": round(seconds, 2),
        "per_second": round(patients / seconds, 1),
        "ms_p50": round(percentile(each, 0.5) * 1000, 2),
        "ms_p95": round(percentile(each, 0.95) * 1000, 2),
    }


def main(args: argparse.Namespace) -> None:
    info = header("Enrolment: enrol_on_protocol, one transaction per patient")
    with database(args.database, None) as url:
        result = enrol(url, args.patients, args.per_transaction)
    result["database"] = args.database
    met = result["seconds"] < TARGET_SECONDS if args.patients >= 10_000 else None
    result["target"] = f"10,000 patients in under {TARGET_SECONDS:g} s on SQLite"
    result["met"] = met
    print()
    table(
        [
            [
                args.database,
                result["patients"],
                result["checkins"],
                result["seconds"],
                result["per_second"],
                result["ms_p50"],
                result["ms_p95"],
            ]
        ],
        ["database", "patients", "check-ins", "seconds", "patients/s", "p50 ms", "p95 ms"],
    )
    if met is not None:
        print(f"\ntarget (< {TARGET_SECONDS:g} s for 10,000): {'met' if met else 'NOT met'}")
    name = "enrolment" if args.database == "sqlite" else f"enrolment-{args.database}"
    write_results(name if args.per_transaction == 1 else f"{name}-batched", info, result)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=10_000, help="patients to enrol (10000)")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--per-transaction", type=int, default=1, help="patients per transaction (1, as the console does)"
    )
    main(parser.parse_args())
