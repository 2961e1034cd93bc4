"""Settings for the staff console, from the environment (and a .env file). Every name is in .env.example.

No secret has a default outside development. In production the console refuses to start, with one line per
problem naming the setting and what to set (checks in flows/production.py), when: CONSOLE_SECRET_KEY is weak
(short, a placeholder, repetitive, low entropy); CONSOLE_BASE_URL is plain http; BOT_USERNAME is missing;
CONSOLE_LISTEN is not a loopback address and CONSOLE_BEHIND_TLS_PROXY does not say a TLS proxy is in front;
or CLINIC_FILE is not set. The clinic file is found as the bot finds it (CLINIC_FILE, else the bundled demo
clinic); the logic is copied here because console/ must never import bot/. The health thresholds (HEALTH_*)
come from storage.health_check.HealthSettings; /healthz and /metrics answer loopback and HEALTH_ALLOW_FROM.
"""

from __future__ import annotations

import ipaddress
import secrets
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.clinic import Clinic, load_clinic
from flows.production import is_loopback, secret_problem
from storage.health_check import HealthSettings, Receiving

MIN_SECRET_LENGTH = 32
LOCAL_BOT_USERNAME = "AftercareLocalBot"  # the local Telegram emulator's bot
DEMO_CLINIC = "uhp-pain-clinic.yaml"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ConsoleSettings(BaseSettings, HealthSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    database_url: str = "sqlite:///var/aftercare.sqlite3"
    clinic_file: Path | None = Field(default=None, description="YAML clinic file; default: the demo clinic")
    console_secret_key: SecretStr | None = Field(
        default=None, description="signs the login form's CSRF token; random per process in development"
    )
    console_base_url: str = "http://127.0.0.1:8080"
    console_listen: str = Field(
        default="127.0.0.1:8080",
        pattern=r"^[^\s:]+:[0-9]{1,5}$",
        description="host:port the console listens on; loopback by default, put a TLS proxy in front",
    )
    console_behind_tls_proxy: bool = Field(
        default=False,
        description="true: a TLS reverse proxy is in front of a CONSOLE_LISTEN that is not loopback",
    )
    console_session_idle_minutes: float = Field(default=30, gt=0, le=24 * 60)
    console_trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For "
        "names the client; empty: the header is never believed",
    )
    bot_username: str | None = Field(default=None, description="for invite links; required in production")
    invite_ttl_hours: float = Field(default=72, gt=0)
    webhook_url: str | None = Field(default=None, description="read to know how updates arrive (health)")
    health_allow_from: str = Field(
        default="",
        description="who besides loopback may read /healthz and /metrics (IPs or networks, comma-separated)",
    )

    @field_validator("console_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                "CONSOLE_BASE_URL must be an absolute http(s) URL, e.g. https://console.example.nhs.uk"
            )
        return value.rstrip("/")

    @field_validator("console_trusted_proxies", "health_allow_from")
    @classmethod
    def _networks(cls, value: str, info: ValidationInfo) -> str:
        for part in _parts(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(  # naming the setting, as every refusal here does
                    f"{(info.field_name or '').upper()}: {part!r} is not an IP address or network, "
                    "e.g. 127.0.0.1, ::1, 10.0.0.5 or 10.1.0.0/16"
                ) from None
        return value

    @model_validator(mode="after")
    def _fit_for_production(self) -> ConsoleSettings:
        if self.environment is Environment.PRODUCTION:
            problems = production_problems(self)
            if problems:
                raise ValueError("\n".join(problems))
        return self

    @property
    def development(self) -> bool:
        return self.environment is Environment.DEVELOPMENT

    @cached_property
    def secret_key(self) -> bytes:
        """The configured key; in development without one, a random key for this process only."""
        if self.console_secret_key is not None and self.console_secret_key.get_secret_value():
            return self.console_secret_key.get_secret_value().encode()
        return secrets.token_bytes(32)

    @property
    def origin(self) -> str:
        """scheme://host[:port] of CONSOLE_BASE_URL: the only Origin a form may be posted from."""
        parts = urlsplit(self.console_base_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    @property
    def production(self) -> bool:
        return self.environment is Environment.PRODUCTION

    @cached_property
    def trusted_proxies(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(part, strict=False) for part in _parts(self.console_trusted_proxies)
        )

    @property
    def secure_cookies(self) -> bool:
        return not self.development or urlsplit(self.console_base_url).scheme == "https"

    @property
    def idle_timeout(self) -> timedelta:
        return timedelta(minutes=self.console_session_idle_minutes)

    @property
    def listen_host(self) -> str:
        return self.console_listen.rpartition(":")[0]

    @property
    def listen_port(self) -> int:
        return int(self.console_listen.rpartition(":")[2])

    @property
    def health_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """Who may read /healthz and /metrics besides this machine (HEALTH_ALLOW_FROM)."""
        return tuple(ipaddress.ip_network(part, strict=False) for part in _parts(self.health_allow_from))

    @property
    def receiving(self) -> Receiving:
        """How updates reach the service: webhook when WEBHOOK_URL is set (as the bot decides)."""
        return Receiving.WEBHOOK if self.webhook_url else Receiving.POLLING

    @property
    def invite_ttl(self) -> timedelta:
        return timedelta(hours=self.invite_ttl_hours)

    @property
    def invite_bot_username(self) -> str:
        """The bot named in invite links: BOT_USERNAME, else the local emulator's bot (development only)."""
        return (self.bot_username or LOCAL_BOT_USERNAME).lstrip("@")

    @cached_property
    def clinic(self) -> Clinic:
        if self.clinic_file is None:
            text = (files("flows") / "data" / "clinics" / DEMO_CLINIC).read_text(encoding="utf-8")
            return load_clinic(text, source=f"flows/data/clinics/{DEMO_CLINIC}")
        return load_clinic(self.clinic_file.read_text(encoding="utf-8"), source=str(self.clinic_file))


def production_problems(settings: ConsoleSettings) -> list[str]:
    """What stops the console starting in production, one line each, naming the setting and what to set."""
    problems: list[str] = []
    key = settings.console_secret_key.get_secret_value() if settings.console_secret_key else None
    if (secret := secret_problem("CONSOLE_SECRET_KEY", key, min_length=MIN_SECRET_LENGTH)) is not None:
        problems.append(secret)
    if urlsplit(settings.console_base_url).scheme != "https":
        problems.append(
            "CONSOLE_BASE_URL must be https in production (the session cookie is Secure): set the https "
            "address staff use, e.g. https://aftercare.example.nhs.uk"
        )
    if not settings.bot_username:
        problems.append(
            "BOT_USERNAME must be set in production (invite links name the bot): set its @username"
        )
    if not is_loopback(settings.listen_host) and not settings.console_behind_tls_proxy:
        problems.append(
            f"CONSOLE_LISTEN is {settings.console_listen}, open to the network without TLS: set "
            "CONSOLE_LISTEN=127.0.0.1:8080 behind a TLS reverse proxy on this machine, or, if a TLS proxy on "
            "another machine is the only way in, say so with CONSOLE_BEHIND_TLS_PROXY=true"
        )
    if settings.clinic_file is None:
        problems.append(
            "CLINIC_FILE must be set in production, or staff see the demo clinic's phone number, hours and "
            "emergency department: point it at your clinic's copy of flows/data/clinics/uhp-pain-clinic.yaml"
        )
    return problems


def _parts(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
