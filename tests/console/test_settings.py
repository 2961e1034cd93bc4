"""Console settings: read from the environment, and no secret has a default outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from console.settings import ConsoleSettings, Environment

ENV_NAMES = [
    "ENVIRONMENT",
    "DATABASE_URL",
    "CLINIC_FILE",
    "CONSOLE_SECRET_KEY",
    "CONSOLE_BASE_URL",
    "CONSOLE_SESSION_IDLE_MINUTES",
    "BOT_USERNAME",
    "INVITE_TTL_HOURS",
]
GOOD_KEY = "k" * 16 + "0123456789abcdefghijklmnop"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


def settings(**values: object) -> ConsoleSettings:
    return ConsoleSettings(_env_file=None, **values)  # type: ignore[arg-type]


def production(**values: object) -> ConsoleSettings:
    return settings(
        **{
            "environment": "production",
            "console_secret_key": GOOD_KEY,
            "bot_username": "ClinicBot",
            "console_base_url": "https://console.example.nhs.uk",
            **values,
        }
    )


def test_every_setting_is_read_from_its_environment_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clinic = tmp_path / "clinic.yaml"
    clinic.write_text(
        (Path("flows/data/clinics/uhp-pain-clinic.yaml"))
        .read_text()
        .replace("name: University Hospitals Plymouth Pain Clinic", "name: Elsewhere Pain Service")
    )
    for name, value in {
        "ENVIRONMENT": "production",
        "DATABASE_URL": "sqlite:///elsewhere.db",
        "CLINIC_FILE": str(clinic),
        "CONSOLE_SECRET_KEY": GOOD_KEY,
        "CONSOLE_BASE_URL": "https://console.example.nhs.uk/",
        "CONSOLE_SESSION_IDLE_MINUTES": "15",
        "BOT_USERNAME": "@ClinicBot",
        "INVITE_TTL_HOURS": "48",
    }.items():
        monkeypatch.setenv(name, value)
    read = ConsoleSettings(_env_file=None)  # type: ignore[call-arg]
    assert read.environment is Environment.PRODUCTION and read.database_url == "sqlite:///elsewhere.db"
    assert read.clinic.name == "Elsewhere Pain Service"
    assert read.secret_key == GOOD_KEY.encode()
    assert (
        read.console_base_url == "https://console.example.nhs.uk"
        and read.origin == "https://console.example.nhs.uk"
    )
    assert read.idle_timeout.total_seconds() == 15 * 60 and read.invite_ttl.total_seconds() == 48 * 3600
    assert read.invite_bot_username == "ClinicBot" and read.secure_cookies


@pytest.mark.parametrize("key", [None, "", "changeme", "secret", "short-but-random-9f8e7d"])
def test_production_refuses_a_missing_placeholder_or_short_secret(key: str | None) -> None:
    with pytest.raises(ValidationError, match="CONSOLE_SECRET_KEY"):
        production(console_secret_key=key)


def test_production_needs_https_and_the_bots_username() -> None:
    with pytest.raises(ValidationError, match="CONSOLE_BASE_URL must be https"):
        production(console_base_url="http://console.example.nhs.uk")
    with pytest.raises(ValidationError, match="BOT_USERNAME"):
        production(bot_username=None)
    assert production().secure_cookies


def test_development_works_without_a_secret_using_a_random_one_per_process() -> None:
    first, second = settings(), settings()
    assert first.development and not first.secure_cookies
    assert first.secret_key == first.secret_key and first.secret_key != second.secret_key
    assert len(first.secret_key) >= 32
    assert (
        first.console_base_url == "http://127.0.0.1:8080" and first.invite_bot_username == "AftercareLocalBot"
    )
    assert first.clinic.id == "uhp-pain-clinic"  # the bundled demo clinic


def test_the_base_url_must_be_an_absolute_web_address() -> None:
    with pytest.raises(ValidationError, match="CONSOLE_BASE_URL"):
        settings(console_base_url="console.local")
