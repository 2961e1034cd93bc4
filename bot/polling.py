"""Long polling: getUpdates in a loop that never stops on its own, whatever Telegram or an update does.

Each batch comes back as raw JSON (bot/transport.py's UpdateFetcher) and is kept (bot/receiving.py) before
the next getUpdates, whose offset acknowledges it. The next poll then goes out at once, while the batch is
processed (docs/performance.md, section 1). Nothing in an update is parsed here, so an update the Telegram
library cannot read is kept and quarantined like any other failure, and the offset moves past it. A failed
call (network, a second poller, a refused token, a garbled answer) is logged and tried again with a growing
pause; the service's health shows how long ago Telegram last answered.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import Conflict, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.inbound import ALLOWED_UPDATES
from bot.receiving import Receiver
from bot.transport import UpdateFetcher

log = logging.getLogger(__name__)
POLL_TIMEOUT = 20
FIRST_PAUSE = 1.0
LONGEST_PAUSE = 30.0
CONFLICT_PAUSE = 5.0


@dataclass(kw_only=True)
class Poller:
    bot: Bot
    fetcher: UpdateFetcher
    receiver: Receiver

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop`` (or cancelled: a cancelled getUpdates acknowledges nothing)."""
        await self._forget_webhook(stop)
        offset: int | None = None
        pause = FIRST_PAUSE
        while not stop.is_set():
            try:
                entries = await self.fetcher.get_updates(
                    offset=offset, wait_seconds=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
            except Conflict:
                log.error("another process is polling this bot token; only one may poll (retrying in 5 s)")
                await asyncio.sleep(CONFLICT_PAUSE)
                continue
            except RetryAfter as exc:
                wait = _seconds(exc.retry_after)
                log.warning("getUpdates refused: too many requests; retrying in %.0f s", wait)
                await asyncio.sleep(wait)
                continue
            except Exception as exc:
                if isinstance(exc, InvalidToken):
                    log.error(
                        "Telegram refused the bot token (TELEGRAM_BOT_TOKEN); retrying in %.0f s", pause
                    )
                elif isinstance(exc, NetworkError | TimedOut):
                    log.warning("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, pause)
                else:
                    log.error("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
                continue
            updates = _with_update_ids(entries)
            try:
                await self.receiver.accept(updates)
            except Exception:
                # Not acknowledged (the offset stays): Telegram gives the batch again on the next call.
                what = f"recording {len(updates)} updates" if updates else "noting that Telegram answered"
                log.exception("%s failed; retrying in %.0f s", what, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)
                continue
            pause = FIRST_PAUSE
            if updates:
                offset = int(updates[-1]["update_id"]) + 1

    async def _forget_webhook(self, stop: asyncio.Event) -> None:
        """Polling and a webhook exclude each other at Telegram; updates waiting there are kept."""
        pause = FIRST_PAUSE
        while not stop.is_set():
            try:
                await self.bot.delete_webhook(drop_pending_updates=False)
                return
            except Exception as exc:
                log.warning("deleteWebhook failed (%s); retrying in %.0f s", type(exc).__name__, pause)
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


def _with_update_ids(entries: list[object]) -> list[dict[str, Any]]:
    """The entries that are updates at all (a JSON object with an integer update_id). Telegram sends no
    other kind; one that did could not be acknowledged by id or told apart from another, so it is logged
    and left out rather than stopping the ones after it."""
    updates = [
        entry
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("update_id"), int)
        and not isinstance(entry.get("update_id"), bool)
    ]
    if len(updates) < len(entries):
        log.error("getUpdates gave %s entries that are not updates; left out", len(entries) - len(updates))
    return updates
