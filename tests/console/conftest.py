"""Fixtures for the staff console: an app on a fresh SQLite file, a clock the test moves, logged-in clients.

Route tests run on SQLite only (the data functions themselves are tested on both databases in
tests/storage). The clock starts on Tuesday 24 November 2026 at 10:00 in London, inside office hours.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import httpx
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

import storage.passwords
from console.app import create_app
from console.settings import ConsoleSettings, Environment
from flows.catalogue import bundled_protocols
from flows.levels import Level
from storage.db import make_engine, session_scope
from storage.enrolment import Enrolment, redeem_invite
from storage.escalations import raise_escalation
from storage.followup import enrol_on_protocol
from storage.models import Escalation, PatientStatus, StaffRole, StaffUser
from storage.passwords import hash_password
from storage.patients import set_patient_status
from storage.staff import create_staff_user

BASE_URL = "http://testserver"
START = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)  # London is on GMT in November
PASSWORD = "a long enough passphrase"
SIJ = "sacroiliac-joint-injection"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, amount: timedelta) -> None:
        self.now += amount


@dataclass
class Console:
    """The app under test, its database and clock, and helpers to arrange data through storage."""

    app: FastAPI
    engine: Engine
    clock: Clock
    settings: ConsoleSettings
    _chat_ids: list[int] = field(default_factory=lambda: [9_100_000_000])

    def client(self, *, address: str = "testclient", **headers: str) -> TestClient:
        """A browser; `address` is the connection's client address the console sees."""
        return TestClient(
            self.app,
            base_url=BASE_URL,
            headers={"origin": BASE_URL, **headers},
            follow_redirects=False,
            client=(address, 50000),
        )

    def staff(self, username: str, role: StaffRole = StaffRole.NURSE, password: str = PASSWORD) -> StaffUser:
        with session_scope(self.engine) as db:
            return create_staff_user(
                session=db,
                username=username,
                password_hash=hash_password(password),
                role=role,
                display_name=username.capitalize(),
                now=self.clock.now,
            )

    def logged_in(self, username: str, role: StaffRole = StaffRole.NURSE) -> TestClient:
        self.staff(username, role)
        client = self.client()
        response = login(client, username, PASSWORD)
        assert response.status_code == 303, response.text
        return client

    def enrol(
        self, name: str = "Sam", *, procedure: str = SIJ, hours_ago: float = 26, diabetic: bool = False
    ) -> Enrolment:
        with session_scope(self.engine) as db:
            return enrol_on_protocol(
                session=db,
                clinic=self.settings.clinic,
                protocol=bundled_protocols()[procedure],
                display_name=name,
                performed_at=self.clock.now - timedelta(hours=hours_ago),
                diabetic=diabetic,
                invite_ttl=timedelta(days=3),
                now=self.clock.now - timedelta(hours=hours_ago),
                actor="test",
            )

    def connect(self, enrolment: Enrolment) -> int:
        """The patient opens their link and takes part: active, with a Telegram chat. Returns the chat id."""
        chat_id = self._chat_ids[0] = self._chat_ids[0] + 1
        with session_scope(self.engine) as db:
            redeem_invite(
                session=db, token=enrolment.invite_token, chat_id=chat_id, user_id=1, now=self.clock.now
            )
            set_patient_status(
                session=db,
                patient_id=patient_id(enrolment),
                status=PatientStatus.ACTIVE,
                actor="test",
                now=self.clock.now,
            )
        return chat_id

    def escalate(
        self,
        enrolment: Enrolment,
        *,
        level: Level = Level.RED,
        rule: str = "red.ces",
        text: str = "I can't feel my bottom",
        minutes_ago: float = 10,
    ) -> Escalation:
        with session_scope(self.engine) as db:
            return raise_escalation(
                session=db,
                patient_id=patient_id(enrolment),
                episode_id=enrolment.episode.id,
                level=level,
                rule=rule,
                trigger_text=text,
                advice_id="red.ces" if level is Level.RED else None,
                now=self.clock.now - timedelta(minutes=minutes_ago),
            )

    def db(self) -> Session:
        return Session(self.engine, expire_on_commit=False)


def patient_id(enrolment: Enrolment) -> int:
    assert enrolment.patient.id is not None
    return enrolment.patient.id


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


def login(client: TestClient, username: str, password: str) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login", data={"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    )


def post(
    client: TestClient, path: str, data: dict[str, str] | None = None, *, page: str = "/"
) -> httpx.Response:
    """Post a form the way a browser does: with the CSRF token of a page of the console."""
    token = csrf_of(client.get(page).text)
    return client.post(path, data={"csrf_token": token, **(data or {})})


def make_settings(database_url: str, **overrides: object) -> ConsoleSettings:
    values: dict[str, object] = {
        "environment": Environment.DEVELOPMENT,
        "database_url": database_url,
        "clinic_file": None,
        "console_secret_key": "test-secret-key-that-is-long-enough-0123456789",
        "console_base_url": BASE_URL,
        "console_session_idle_minutes": 30,
        "bot_username": None,
        "invite_ttl_hours": 72,
        **overrides,
    }
    return ConsoleSettings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def sqlite_url(_sqlite_template: Path, tmp_path: Path) -> str:
    """A migrated, empty SQLite database of the test's own (as tests/conftest.py's `database_url`)."""
    path = tmp_path / "console.db"
    shutil.copyfile(_sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def console(sqlite_url: str) -> Iterator[Console]:
    engine = make_engine(sqlite_url)
    clock = Clock()
    settings = make_settings(sqlite_url)
    try:
        yield Console(
            app=create_app(settings, engine, clock=clock), engine=engine, clock=clock, settings=settings
        )
    finally:
        engine.dispose()


@pytest.fixture
def console_on_both(database_url: str) -> Iterator[Console]:
    """The console on SQLite, then on PostgreSQL: for what the two databases do differently (concurrent
    requests, text PostgreSQL refuses)."""
    engine = make_engine(database_url)
    clock = Clock()
    settings = make_settings(database_url)
    try:
        yield Console(
            app=create_app(settings, engine, clock=clock), engine=engine, clock=clock, settings=settings
        )
    finally:
        engine.dispose()


class CountingHasher(PasswordHasher):
    """argon2, unchanged, that also counts its verifications: how many passwords the console checked."""

    def __init__(self) -> None:
        super().__init__()
        self.checks: list[bool] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        try:
            result = super().verify(hash, password)
        except Exception:
            self.checks.append(False)
            raise
        self.checks.append(True)
        return result


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> CountingHasher:
    hasher = CountingHasher()
    monkeypatch.setattr(storage.passwords, "_hasher", hasher)
    return hasher


@pytest.fixture
def nurse(console: Console) -> TestClient:
    return console.logged_in("nina")


@pytest.fixture
def admin(console: Console) -> TestClient:
    return console.logged_in("ada", StaffRole.ADMIN)
