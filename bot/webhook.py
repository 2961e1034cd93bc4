"""Webhook mode: Telegram POSTs updates to us. Each is kept before the 200 goes back.

The secret Telegram echoes in X-Telegram-Bot-Api-Secret-Token is compared in constant time; anything
without it gets 403 and is not recorded. With it, any JSON object with an integer update_id is kept as it
came (bot/receiving.py, the same path polling takes) and answered 200, even if nothing else in it can be
read: such an update is quarantined when processed, and Telegram, which retries anything but a 2xx, never
holds the updates behind it. Processing happens after the 200, in the order received, by the Receiver's
supervised task (so a crash after the 200 loses nothing: it is processed at start). If the update cannot be
kept (the database is down), the answer is 500 and Telegram tries again later.
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.receiving import Receiver

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret


def create_webhook_app(receiver: Receiver, *, secret: str, path: str) -> Starlette:
    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            return Response(status_code=403)
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return Response(status_code=400)
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            return Response(status_code=400)  # not an update at all: Telegram never sends one
        try:
            await receiver.accept([payload])
        except Exception:
            log.exception("webhook update %s could not be recorded; Telegram will send it again", update_id)
            return Response(status_code=500)
        return Response(status_code=200)

    return Starlette(routes=[Route(path, receive, methods=["POST"])])
