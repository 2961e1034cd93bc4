"""Webhook mode: the emulator POSTs updates to a tiny Starlette endpoint that feeds PTB's update_queue."""

import contextlib
import hmac
import html
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.error import Conflict
from telegram.ext import ContextTypes, MessageHandler, filters

from bot.emulator import Emulator, RunningServer, start_server
from tests.bot.emulator.conftest import AnyApplication, bot_url, build_application

SECRET = "s3cret-token_for-tests"


class WebhookEndpoint:
    """The bot's side: checks the secret header, then hands the update to PTB (or fails on purpose)."""

    def __init__(self, application: AnyApplication, *, failures: int = 0) -> None:
        self.application = application
        self.failures_left = failures
        self.secrets: list[str | None] = []
        self.update_ids: list[int] = []

    async def handle(self, request: Request) -> Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        self.secrets.append(secret)
        if secret is None or not hmac.compare_digest(secret, SECRET):
            return Response(status_code=403)
        if self.failures_left > 0:
            self.failures_left -= 1
            return Response(status_code=503)
        update = Update.de_json(await request.json(), self.application.bot)
        self.update_ids.append(update.update_id)
        await self.application.update_queue.put(update)
        return Response()


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(f"Heard: {html.escape(update.message.text)}")


@contextlib.asynccontextmanager
async def webhook_bot(server: RunningServer, *, failures: int = 0) -> AsyncIterator[WebhookEndpoint]:
    application = build_application(server, updater=False)
    application.add_handler(MessageHandler(filters.TEXT, echo))
    endpoint = WebhookEndpoint(application, failures=failures)
    receiver = await start_server(Starlette(routes=[Route("/telegram", endpoint.handle, methods=["POST"])]))
    try:
        async with application:
            await application.start()
            await application.bot.set_webhook(f"{receiver.base_url}/telegram", secret_token=SECRET)
            yield endpoint
            await application.stop()
    finally:
        await receiver.aclose()


async def test_webhook_round_trip_carries_the_secret_header(
    emulator: Emulator, server: RunningServer
) -> None:
    patient = emulator.new_user("Ann")
    async with webhook_bot(server) as endpoint:
        await patient.send("Hello from the webhook")
        reply = await patient.next_bot_message()
    assert reply.text == "Heard: Hello from the webhook"
    assert endpoint.secrets == [SECRET]


async def test_webhook_retries_until_acknowledged_and_keeps_order(
    emulator: Emulator, server: RunningServer
) -> None:
    patient = emulator.new_user("Ann")
    async with webhook_bot(server, failures=2) as endpoint:
        await patient.send("first")
        await patient.send("second")
        await emulator.wait_until(lambda: len(endpoint.update_ids) == 2)
        assert emulator.webhook is not None
        info_error = emulator.webhook.last_error_message
    assert endpoint.update_ids == sorted(endpoint.update_ids)
    assert len(endpoint.secrets) == 4  # two refusals of "first", then each update once
    assert info_error == "Wrong response from the webhook: 503 Service Unavailable"
    assert emulator.updates.pending() == []


async def test_get_webhook_info_reports_url_and_pending_updates(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    await http.post(bot_url(emulator, "setWebhook"), data={"url": "http://127.0.0.1:9/unreachable"})
    patient = emulator.new_user("Ann")
    await patient.send("waiting")
    await emulator.wait_until(lambda: emulator.webhook is not None and emulator.webhook.last_error_date > 0)
    info = (await http.get(bot_url(emulator, "getWebhookInfo"))).json()["result"]
    assert info["url"] == "http://127.0.0.1:9/unreachable"
    assert info["pending_update_count"] == 1
    assert info["last_error_message"].startswith("Connection failed")


async def test_polling_while_a_webhook_is_set_is_a_conflict(
    emulator: Emulator, server: RunningServer
) -> None:
    application = build_application(server, updater=False)
    async with application:
        await application.bot.set_webhook("http://127.0.0.1:9/hook")
        try:
            await application.bot.get_updates()
        except Conflict as conflict:
            assert "webhook is active" in str(conflict)
        else:
            raise AssertionError("getUpdates with a webhook set must be refused")
        await application.bot.delete_webhook()
        assert await application.bot.get_updates() == ()


async def test_drop_pending_updates_forgets_them(emulator: Emulator, server: RunningServer) -> None:
    patient = emulator.new_user("Ann")
    await patient.send("stale")
    application = build_application(server, updater=False)
    async with application:
        await application.bot.delete_webhook(drop_pending_updates=True)
        assert await application.bot.get_updates() == ()
