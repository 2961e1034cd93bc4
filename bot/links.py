"""Telegram deep links for invites: https://t.me/<bot username>?start=<token>."""

from __future__ import annotations

import logging

import httpx

from bot.settings import Settings

LOCAL_BOT_USERNAME = "AftercareLocalBot"  # the emulator's bot
log = logging.getLogger(__name__)


def bot_username(settings: Settings) -> str | None:
    """BOT_USERNAME, the emulator's bot in local mode, else asked from Telegram (getMe)."""
    if settings.bot_username:
        return settings.bot_username.lstrip("@")
    if settings.local_mode:
        return LOCAL_BOT_USERNAME
    try:
        response = httpx.get(
            f"{settings.telegram_api_base_url}{settings.telegram_bot_token}/getMe", timeout=10
        )
        username = response.json()["result"]["username"]
        return str(username)
    except (httpx.HTTPError, KeyError, ValueError, TypeError):
        log.warning("could not ask Telegram for the bot's username; set BOT_USERNAME")
        return None


def invite_link(username: str | None, token: str) -> str:
    return f"https://t.me/{username or '<your-bot-username>'}?start={token}"
