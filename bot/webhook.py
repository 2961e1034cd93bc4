"""Webhook mode: Telegram POSTs updates to us. Each is committed before the 200 goes back.

The secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token is compared in constant time; anything
without it gets 403 and is not recorded. Processing happens after the 200, one update at a time in
arrival order, from the recorded row (so a crash after the 200 loses nothing: it is processed at start).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.inbound import Inbound

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


def create_webhook_app(
    inbound: Inbound, *, secret: str, path: str, on_accepted: Callable[[], None] | None = None
) -> tuple[Starlette, asyncio.Queue[int]]:
    """``on_accepted``: called after each POST with the right secret is recorded (the health heartbeat)."""
    queue: asyncio.Queue[int] = asyncio.Queue()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            payload = json.loads(await request.body())
            int(payload["update_id"])
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        for update_id in await asyncio.to_thread(inbound.record, [payload]):
            queue.put_nowait(update_id)
        if on_accepted is not None:
            on_accepted()
        return Response(status_code=200)

    return Starlette(routes=[Route(path, receive, methods=["POST"])]), queue


async def process_forever(inbound: Inbound, queue: asyncio.Queue[int]) -> None:
    while True:
        update_id = await queue.get()
        await inbound.process(update_id)
