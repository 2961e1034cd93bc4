"""Webhook delivery: POST each pending update to the bot's URL, in order, until it answers 2xx.

Like Telegram: the body is the update as JSON, the secret token (if set) comes back in the header
X-Telegram-Bot-Api-Secret-Token, a non-2xx answer or a connection error keeps the update and retries it
with growing back-off (honouring Retry-After), and the last error shows in getWebhookInfo. Unlike Telegram,
updates go one at a time (max_connections is recorded, not used) and plain http URLs are accepted, since a
local bot has no public certificate. This module must not build Bot API responses.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bot.emulator.updates import UpdateQueue

_LOG = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name, not a secret)


@dataclass(frozen=True, kw_only=True)
class WebhookConfig:
    url: str
    secret_token: str = ""
    max_connections: int = 40
    ip_address: str = ""


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    first_delay: float = 0.05
    max_delay: float = 2.0
    request_timeout: float = 10.0


class WebhookDelivery:
    def __init__(
        self,
        *,
        config: WebhookConfig,
        queue: UpdateQueue,
        retry: RetryPolicy,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._queue = queue
        self._retry = retry
        self._wall_clock = wall_clock
        self.last_error_date = 0
        self.last_error_message = ""
        self.delivered = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="emulator-webhook")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        delay = self._retry.first_delay
        async with httpx.AsyncClient(timeout=self._retry.request_timeout) as client:
            while True:
                update = self._queue.first()
                if update is None:
                    await self._queue.arrived.wait(None)
                    continue
                error, retry_after = await self._post(client, update)
                if error is None:
                    self._queue.acknowledge(update["update_id"] + 1)
                    self.delivered += 1
                    delay = self._retry.first_delay
                    continue
                self.last_error_date = int(self._wall_clock())
                self.last_error_message = error
                _LOG.info("webhook delivery of update %s failed; retrying", update["update_id"])
                await asyncio.sleep(retry_after if retry_after is not None else delay)
                delay = min(self._retry.max_delay, delay * 2)

    async def _post(
        self, client: httpx.AsyncClient, update: dict[str, object]
    ) -> tuple[str | None, float | None]:
        headers = {"Content-Type": "application/json"}
        if self.config.secret_token:
            headers[SECRET_HEADER] = self.config.secret_token
        try:
            response = await client.post(self.config.url, json=update, headers=headers)
        except httpx.HTTPError as exc:
            return f"Connection failed: {type(exc).__name__}", None
        if 200 <= response.status_code <= 299:
            return None, None
        retry_after = response.headers.get("Retry-After", "")
        wait = min(float(retry_after), self._retry.max_delay * 10) if retry_after.isdigit() else None
        return f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}", wait
