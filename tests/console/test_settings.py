"""Console settings: read from the environment, and no secret has a default outside development."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from console.settings import ConsoleSettings, Environment
from flows.production import one_line_each

ENV_NAMES = [
    "ENVIRONMENT",
    "DATABASE_URL",
    "CLINIC_FILE",
    "CONSOLE_SECRET_KEY",
    "CONSOLE_BASE_URL",
    "CONSOLE_SESSION_IDLE_MINUTES",
    "BOT_USERNAME",
    "INVITE_TTL_HOURS",
    "CONSOLE_LISTEN",
    "CONSOLE_BEHIND_TLS_PROXY",
    "WEBHOOK_URL",
    "HEALTH_ALLOW_FROM",
]
GOOD_KEY = (
    "vG2mR8qLx0Tz4NcW7pHs1KdY9bEfJ3aU6o"  # random (the key this file used, "k" * 16 + "0123...", is weak)
)
CLINIC = Path(__file__).parents[2] / "flows" / "data" / "clinics" / "uhp-pain-clinic.yaml"


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
            "clinic_file": CLINIC,
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


@pytest.mark.parametrize(
    "key",
    [
        None,
        "",
        "changeme",
        "secret",
        "short-but-random-9f8e7d",
        "a" * 32,  # finding 7: accepted before
        "k" * 16 + "0123456789abcdefghijklmnop",  # this file's own key before: long, but a run and a sequence
        "please-change-me-please-change-me",
    ],
)
def test_production_refuses_a_missing_placeholder_short_or_weak_secret(key: str | None) -> None:
    with pytest.raises(ValidationError, match="CONSOLE_SECRET_KEY") as refused:
        production(console_secret_key=key)
    assert len(one_line_each(refused.value)) == 1


def test_production_refuses_the_network_without_a_statement_that_tls_is_in_front() -> None:
    with pytest.raises(ValidationError) as refused:
        production(console_listen="0.0.0.0:8080")
    [line] = one_line_each(refused.value)
    assert (
        line.startswith("CONSOLE_LISTEN is 0.0.0.0:8080, open to the network")
        and "CONSOLE_BEHIND_TLS_PROXY" in line
    )
    assert production(console_listen="0.0.0.0:8080", console_behind_tls_proxy=True).listen_port == 8080
    assert production(console_listen="127.0.0.1:9000").listen_host == "127.0.0.1"
    assert production(console_listen="localhost:9000").listen_port == 9000


def test_production_refuses_the_demo_clinic() -> None:
    with pytest.raises(ValidationError) as refused:
        production(clinic_file=None)
    [line] = one_line_each(refused.value)
    assert line.startswith("CLINIC_FILE must be set in production") and "demo clinic's phone number" in line


def test_finding_7_every_problem_is_refused_at_once_one_line_each() -> None:
    with pytest.raises(ValidationError) as refused:
        settings(
            environment="production",
            console_secret_key="a" * 32,
            console_base_url="http://console.example.nhs.uk",
            console_listen="0.0.0.0:8080",
            bot_username=None,
            clinic_file=None,
        )
    lines = one_line_each(refused.value)
    assert [line.split(" ", 1)[0] for line in lines] == [
        "CONSOLE_SECRET_KEY",
        "CONSOLE_BASE_URL",
        "BOT_USERNAME",
        "CONSOLE_LISTEN",
        "CLINIC_FILE",
    ]
    assert all(": " in line and "\n" not in line for line in lines)


def test_health_readers_are_addresses_or_networks() -> None:
    read = settings(health_allow_from="10.0.0.5, 10.1.0.0/16,::1")
    assert [str(network) for network in read.health_networks] == ["10.0.0.5/32", "10.1.0.0/16", "::1/128"]
    assert settings().health_networks == ()
    with pytest.raises(ValidationError) as refused:
        settings(health_allow_from="10.0.0.5,prometheus.internal")
    [line] = one_line_each(refused.value)
    assert line.startswith("HEALTH_ALLOW_FROM: 'prometheus.internal' is not an IP address or network")


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
