"""Settings for the Telegram edge and the CLI, from the environment (and .env). Every name is in .env.example.

No secret has a default that works outside development. In production the service refuses to start, with one
line per problem naming the setting and what to set (checks in flows/production.py), when: the bot token is
missing or not of Telegram's shape; WEBHOOK_URL is not https; WEBHOOK_SECRET is weak (short, a placeholder,
repetitive, low entropy); or CLINIC_FILE is not set (patients would be given the demo clinic's phone number
and emergency department). The health thresholds (HEALTH_*) come from storage.health_check.HealthSettings.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.transport import SEND_ANSWER_WAIT, longest_send
from flows.clinic import Clinic, load_clinic
from flows.production import WEBHOOK_SECRET_CHARACTERS, secret_problem, telegram_token_problem
from storage.health_check import HealthSettings, Receiving

LEASE_MARGIN_SECONDS = 10  # an attempt's wait for its turn, on top of the longest send
MIN_WEBHOOK_SECRET_LENGTH = 24


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class Settings(BaseSettings, HealthSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///var/aftercare.sqlite3"
    clinic_file: Path | None = Field(default=None, description="YAML clinic file; default: the demo clinic")
    telegram_bot_token: str | None = Field(default=None, description="none: run against the local emulator")
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    bot_username: str | None = Field(
        default=None, description="for invite links; asked from Telegram if unset"
    )
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    staff_chat_id: int | None = None
    alert_amber_to_staff_chat: bool = True
    invite_ttl_hours: float = Field(default=72, gt=0)
    emulator_port: int = 8081
    tick_seconds: float = Field(default=5, gt=0)
    telegram_polling: bool = Field(
        default=True, description="false: a sender-only worker (another process polls, or webhook mode)"
    )
    telegram_send_per_second: float = Field(default=30, gt=0, description="Telegram's overall limit")
    telegram_senders: int = Field(default=1, ge=1, description="workers sharing the token's send budget")
    outbox_lease_seconds: float = Field(default=120, gt=0)
    checkin_lease_seconds: float = Field(default=300, gt=0)
    outbox_answer_wait_seconds: float = Field(
        default=SEND_ANSWER_WAIT, gt=0, description="how long a send waits for Telegram's answer"
    )
    worker_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="this worker's name on its claims; none: the host name (-2, -3... if taken)",
    )

    @model_validator(mode="after")
    def _outbox_lease_outlasts_a_send(self) -> Settings:
        # Another worker takes a message over once its lease runs out: never while an attempt to send it
        # may still succeed (the lease is renewed as the attempt starts; it may still wait its turn).
        needed = longest_send(self.outbox_answer_wait_seconds) + LEASE_MARGIN_SECONDS
        if self.outbox_lease_seconds < needed:
            raise ValueError(
                f"OUTBOX_LEASE_SECONDS must be at least {needed:.0f} with OUTBOX_ANSWER_WAIT_SECONDS="
                f"{self.outbox_answer_wait_seconds:g}: longer than a send and its wait for a turn"
            )
        return self

    @model_validator(mode="after")
    def _fit_for_production(self) -> Settings:
        if self.environment is Environment.PRODUCTION:
            problems = production_problems(self)
            if problems:
                raise ValueError("\n".join(problems))
        return self

    @property
    def local_mode(self) -> bool:
        """No token: run against the built-in Telegram emulator."""
        return not self.telegram_bot_token

    @property
    def receiving(self) -> Receiving:
        """How updates reach the service (health judges silence by the matching threshold)."""
        return Receiving.WEBHOOK if self.webhook_url and not self.local_mode else Receiving.POLLING

    @cached_property
    def clinic(self) -> Clinic:
        if self.clinic_file is None:
            text = (files("flows") / "data" / "clinics" / "uhp-pain-clinic.yaml").read_text(encoding="utf-8")
            return load_clinic(text, source="flows/data/clinics/uhp-pain-clinic.yaml")
        return load_clinic(self.clinic_file.read_text(encoding="utf-8"), source=str(self.clinic_file))


def production_problems(settings: Settings) -> list[str]:
    """What stops the bot starting in production, one line each, naming the setting and what to set."""
    problems: list[str] = []
    token = settings.telegram_bot_token
    if not token:
        problems.append("TELEGRAM_BOT_TOKEN must be set in production: the token @BotFather gave the bot")
    elif (token_problem := telegram_token_problem(token)) is not None:
        problems.append(f"TELEGRAM_BOT_TOKEN {token_problem}: set the token @BotFather gave the bot")
    if settings.webhook_url:
        if urlsplit(settings.webhook_url).scheme != "https":
            problems.append(
                "WEBHOOK_URL must be https in production (Telegram posts patients' messages to it): "
                "set https://your-host/path, or leave it empty for long polling"
            )
        secret = secret_problem(
            "WEBHOOK_SECRET",
            settings.webhook_secret,
            min_length=MIN_WEBHOOK_SECRET_LENGTH,
            allowed=WEBHOOK_SECRET_CHARACTERS,
        )
        if secret is not None:
            problems.append(secret)
    if settings.clinic_file is None:
        problems.append(
            "CLINIC_FILE must be set in production, or patients are given the demo clinic's phone number and "
            "emergency department: copy flows/data/clinics/uhp-pain-clinic.yaml, make it your clinic's, and "
            "point CLINIC_FILE at it"
        )
    return problems
