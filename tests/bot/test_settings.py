"""The bot's settings: in production each guard refuses with one line naming the setting and what to set;
and combinations that would break a promise the service makes are refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.settings import Settings
from flows.production import one_line_each
from storage.health_check import HealthThresholds, Receiving

CLINIC = Path(__file__).parents[2] / "flows" / "data" / "clinics" / "uhp-pain-clinic.yaml"
TOKEN = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
WEBHOOK_SECRET = "Qm3vZ8rT1xK5nB7wY2cJ9hL4"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def production(**values: object) -> Settings:
    return settings(
        **{"environment": "production", "telegram_bot_token": TOKEN, "clinic_file": CLINIC, **values}
    )


def refusals(**values: object) -> list[str]:
    with pytest.raises(ValidationError) as refused:
        production(**values)
    return one_line_each(refused.value)


def test_a_well_configured_production_starts() -> None:
    assert production().clinic.id == "uhp-pain-clinic"
    assert production(webhook_url="https://a.example.nhs.uk/tg", webhook_secret=WEBHOOK_SECRET).receiving == (
        Receiving.WEBHOOK
    )


@pytest.mark.parametrize("token", ["x", "123456:ABC", "changeme", "123456:" + "A" * 35])
def test_a_token_not_of_telegrams_shape_is_refused(token: str) -> None:
    [line] = refusals(telegram_bot_token=token)
    assert line.startswith("TELEGRAM_BOT_TOKEN ") and "set the token @BotFather gave the bot" in line


def test_a_missing_token_is_refused_and_never_falls_back_to_the_emulator() -> None:
    [line] = refusals(telegram_bot_token=None)
    assert line.startswith("TELEGRAM_BOT_TOKEN must be set in production")


def test_an_http_webhook_is_refused() -> None:
    [line] = refusals(webhook_url="http://a.example.nhs.uk/tg", webhook_secret=WEBHOOK_SECRET)
    assert line.startswith("WEBHOOK_URL must be https in production")


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (None, "is not set"),
        ("x" * 24, "is too weak"),
        ("short-Qm3vZ8", "is too weak (shorter than 24"),
        ("secret-secret-secret-secret", "is too weak"),
        ("Qm3vZ8rT1xK5nB7wY2cJ9hL4!", "may hold only A-Z a-z 0-9 _ -"),
    ],
)
def test_a_weak_webhook_secret_is_refused(secret: str | None, reason: str) -> None:
    [line] = refusals(webhook_url="https://a.example.nhs.uk/tg", webhook_secret=secret)
    assert line.startswith(f"WEBHOOK_SECRET {reason}") and "24+ random characters" in line


def test_production_without_a_clinic_file_is_refused_rather_than_giving_the_demo_clinics_numbers() -> None:
    [line] = refusals(clinic_file=None)
    assert line.startswith("CLINIC_FILE must be set in production") and "demo clinic's phone number" in line


def test_finding_7_every_problem_is_refused_at_once_one_line_each() -> None:
    lines = refusals(telegram_bot_token="x", webhook_url="http://a.example.nhs.uk/tg", clinic_file=None)
    assert [line.split(" ", 1)[0] for line in lines] == [
        "TELEGRAM_BOT_TOKEN",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET",
        "CLINIC_FILE",
    ]


def test_development_keeps_its_conveniences() -> None:
    local = settings(telegram_bot_token=None, webhook_url="http://127.0.0.1:9000/tg", clinic_file=None)
    assert local.local_mode and local.receiving is Receiving.POLLING and local.clinic.id == "uhp-pain-clinic"


def test_health_thresholds_come_from_settings_with_documented_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert settings().health_thresholds == HealthThresholds()
    monkeypatch.setenv("HEALTH_POLLING_SILENCE_MINUTES", "2")
    monkeypatch.setenv("HEALTH_WEBHOOK_SILENCE_MINUTES", "90")
    monkeypatch.setenv("HEALTH_QUARANTINED_PER_HOUR", "0")
    read = settings().health_thresholds
    assert read.polling_silence == timedelta(minutes=2) and read.webhook_silence == timedelta(minutes=90)
    assert read.quarantined_per_hour == 0 and read.outbox_unsent == HealthThresholds().outbox_unsent


def test_the_outbox_lease_must_outlast_an_attempt_to_send() -> None:
    """Otherwise another worker could take a message over and send it while the first attempt may still
    succeed: the patient would get it twice."""
    assert settings().outbox_lease_seconds == 120  # the defaults fit: 60 s wait, 120 s lease
    with pytest.raises(ValidationError, match="OUTBOX_LEASE_SECONDS must be at least 81"):
        settings(outbox_lease_seconds=60)
    with pytest.raises(ValidationError, match="OUTBOX_LEASE_SECONDS must be at least 191"):
        settings(outbox_answer_wait_seconds=170)
    settings(outbox_lease_seconds=30, outbox_answer_wait_seconds=8)
