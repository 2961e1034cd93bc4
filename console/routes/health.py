"""/healthz and /metrics: the health check (storage/health_check.py), for a supervisor and for Prometheus.

/healthz answers 200 when the service is hearing patients and 503 when it is not (or the database cannot be
read), with the figures as a small JSON body; /metrics gives the same figures in Prometheus's text format.
No login (a supervisor has none) and no patient data: counts and ages only. So they answer only this machine
(loopback) and the addresses in HEALTH_ALLOW_FROM, and never a request that came through a proxy (it carries
Forwarded or X-Forwarded-* headers): behind a reverse proxy on this machine every request arrives from
127.0.0.1, and these must not be readable from the internet. Anyone else gets the ordinary "Not found".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from console.web import ConsoleState, state_of
from storage.db import session_scope
from storage.health import Backlog
from storage.health_check import Figure, HealthReport, check_health

router = APIRouter()
# Set by reverse proxies (nginx with proxy_set_header, Caddy and most others by default).
PROXY_HEADERS = ("forwarded", "x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-real-ip")


def _operator(request: Request) -> ConsoleState:
    """The app's state, if this request may read the service's health; else 404, as for any unknown page."""
    state = state_of(request)
    if any(header in request.headers for header in PROXY_HEADERS):
        raise HTTPException(status_code=404)
    try:
        address = ipaddress.ip_address(request.client.host if request.client else "")
    except ValueError:
        raise HTTPException(status_code=404) from None
    if not (address.is_loopback or any(address in network for network in state.settings.health_networks)):
        raise HTTPException(status_code=404)
    return state


Operator = Annotated[ConsoleState, Depends(_operator)]


def _check(state: ConsoleState) -> HealthReport:
    with session_scope(state.engine) as session:
        return check_health(
            session=session,
            clinic=state.clinic,
            receiving=state.settings.receiving,
            thresholds=state.settings.health_thresholds,
            now=state.clock(),
        )


@router.get("/healthz")
def healthz(state: Operator) -> JSONResponse:
    try:
        report = _check(state)
    except SQLAlchemyError as exc:
        problem = f"cannot read the database ({type(exc).__name__})"
        return JSONResponse({"status": "database unreachable", "problems": [problem]}, status_code=503)
    return JSONResponse(report.as_json(), status_code=200 if report.healthy else 503)


@router.get("/metrics")
def metrics(state: Operator) -> Response:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(HealthMetrics(state))
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class HealthMetrics(Collector):
    """The health check's figures as gauges, read afresh at each scrape. An age is 0 when nothing waits."""

    def __init__(self, state: ConsoleState) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        try:
            report = _check(self.state)
        except SQLAlchemyError:
            yield _gauge("aftercare_database_readable", "1 if the health check could read the database", 0)
            return
        yield _gauge("aftercare_database_readable", "1 if the health check could read the database", 1)
        yield _gauge("aftercare_healthy", "1 if the service is hearing patients, 0 if not", report.healthy)
        problem = GaugeMetricFamily(
            "aftercare_health_problem", "1 if this figure is past its threshold (HEALTH_*)", labels=["figure"]
        )
        flagged = {p.figure for p in report.problems}
        for figure in Figure:
            problem.add_metric([figure.value], int(figure in flagged))
        yield problem
        age = report.age(report.last_delivery)
        if age is not None:  # absent: Telegram never heard
            yield _gauge(
                "aftercare_last_delivery_age_seconds",
                "seconds since Telegram last answered a getUpdates or a webhook POST was recorded",
                age,
            )
        yield CounterMetricFamily(
            "aftercare_processing_restarts",
            "times the task processing updates died and was started again (all time)",
            value=report.processing_restarts,
        )
        restarted = report.age(report.last_processing_restart)
        if restarted is not None:
            yield _gauge(
                "aftercare_last_processing_restart_age_seconds",
                "seconds since the task processing updates was last started again",
                restarted,
            )
        for name, help_text, count, oldest in (
            (
                "updates_waiting",
                "updates recorded, not yet processed",
                *_backlog(report, report.updates_waiting),
            ),
            ("outbox_unsent", "messages due and not yet sent", *_backlog(report, report.outbox_unsent)),
            (
                "checkins_overdue",
                "check-ins due, not begun, patient reachable",
                *_backlog(report, report.checkins_overdue),
            ),
            (
                "red_flags_unacknowledged",
                "red escalations not yet acknowledged",
                *_backlog(report, report.red_flags_unacknowledged),
            ),
        ):
            yield _gauge(f"aftercare_{name}", help_text, count)
            yield _gauge(f"aftercare_{name}_oldest_age_seconds", f"age of the oldest of: {help_text}", oldest)
        yield _gauge(
            "aftercare_updates_quarantined",
            "updates that could not be processed, all time",
            report.quarantined,
        )
        yield _gauge(
            "aftercare_updates_quarantined_last_hour",
            "updates that could not be processed in the last hour",
            report.quarantined_last_hour,
        )
        yield _gauge(
            "aftercare_red_flags_past_target",
            "unacknowledged red escalations past the clinic's target (working hours)",
            report.red_flags_past_target,
        )


def _backlog(report: HealthReport, backlog: Backlog) -> tuple[int, float]:
    return backlog.count, report.age(backlog.oldest) or 0.0


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help_text, value=float(value))
