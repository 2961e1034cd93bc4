"""Settings for the staff console, from the environment (and a .env file). Every name is in .env.example.

No secret has a default outside development: in production a missing, placeholder or short
CONSOLE_SECRET_KEY, a plain-http CONSOLE_BASE_URL or a missing BOT_USERNAME stops the console at start-up
with a message naming the setting. The clinic file is found as the bot finds it (CLINIC_FILE, else the
bundled demo clinic); the logic is copied here because console/ must never import bot/.
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

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from flows.clinic import Clinic, load_clinic

PLACEHOLDERS = {"", "changeme", "change-me", "secret", "please-change-me", "dev", "development"}
MIN_SECRET_LENGTH = 32
LOCAL_BOT_USERNAME = "AftercareLocalBot"  # the local Telegram emulator's bot
DEMO_CLINIC = "uhp-pain-clinic.yaml"


class Environment(StrEnum):
    DEVELOPMENT = "development"
    PRODUCTION = "production"


class ConsoleSettings(BaseSettings):
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
    console_session_idle_minutes: float = Field(default=30, gt=0, le=24 * 60)
    console_trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of the reverse proxies whose X-Forwarded-For "
        "names the client; empty: the header is never believed",
    )
    bot_username: str | None = Field(default=None, description="for invite links; required in production")
    invite_ttl_hours: float = Field(default=72, gt=0)

    @field_validator("console_base_url")
    @classmethod
    def _absolute_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                "CONSOLE_BASE_URL must be an absolute http(s) URL, e.g. https://console.example.nhs.uk"
            )
        return value.rstrip("/")

    @field_validator("console_trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in _parts(value):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(
                    f"CONSOLE_TRUSTED_PROXIES: {part!r} is not an address or network (e.g. 127.0.0.1, ::1, "
                    "10.0.0.0/8)"
                ) from None
        return value

    @model_validator(mode="after")
    def _no_placeholder_secrets_in_production(self) -> ConsoleSettings:
        if self.environment is not Environment.PRODUCTION:
            return self
        key = self.console_secret_key.get_secret_value() if self.console_secret_key else ""
        if key.lower() in PLACEHOLDERS or len(key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"CONSOLE_SECRET_KEY must be a random string of {MIN_SECRET_LENGTH}+ characters in "
                'production (e.g. python -c "import secrets; print(secrets.token_urlsafe(48))")'
            )
        if urlsplit(self.console_base_url).scheme != "https":
            raise ValueError("CONSOLE_BASE_URL must be https in production (the session cookie is Secure)")
        if not self.bot_username:
            raise ValueError("BOT_USERNAME must be set in production (invite links name the bot)")
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


def _parts(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]
