"""The Bot API over HTTP: `/bot<token>/<method>` and `/file/bot<token>/<path>`, as PTB calls them.

Order per call: token (401; 404 for a malformed one), method (404 "Not Found"), injected fault, parameters
(query string, form, multipart or JSON, all flattened to strings as Telegram does), the method itself.
Every answer is Telegram-shaped JSON; an emulator bug shows as a logged 500, never as a hang. The bot token
is part of every URL, so nothing here logs URLs.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from bot.emulator import errors, methods_bot, methods_messages
from bot.emulator.emulator import Emulator
from bot.emulator.errors import ApiError
from bot.emulator.faults import Fault, FaultKind
from bot.emulator.model import Throttle
from bot.emulator.params import Params

_LOG = logging.getLogger(__name__)
Method = Callable[[Emulator, Params], Awaitable[Any]]

METHODS: dict[str, tuple[str, Method]] = {
    name.lower(): (name, function)
    for name, function in {
        "getMe": methods_bot.get_me,
        "getUpdates": methods_bot.get_updates,
        "setWebhook": methods_bot.set_webhook,
        "deleteWebhook": methods_bot.delete_webhook,
        "getWebhookInfo": methods_bot.get_webhook_info,
        "sendMessage": methods_messages.send_message,
        "editMessageText": methods_messages.edit_message_text,
        "editMessageReplyMarkup": methods_messages.edit_message_reply_markup,
        "deleteMessage": methods_messages.delete_message,
        "deleteMessages": methods_messages.delete_messages,
        "answerCallbackQuery": methods_messages.answer_callback_query,
        "sendChatAction": methods_messages.send_chat_action,
        "setMyCommands": methods_bot.set_my_commands,
        "getMyCommands": methods_bot.get_my_commands,
        "deleteMyCommands": methods_bot.delete_my_commands,
        "setChatMenuButton": methods_bot.set_chat_menu_button,
        "getChatMenuButton": methods_bot.get_chat_menu_button,
        "getChat": methods_bot.get_chat,
        "getFile": methods_bot.get_file,
        "setMyName": methods_bot.accept,
        "setMyDescription": methods_bot.accept,
        "setMyShortDescription": methods_bot.accept,
        "close": methods_bot.accept,
        "logOut": methods_bot.accept,
    }.items()
}
# Real Telegram methods the emulator does not do: refused plainly rather than as "unknown method".
UNSUPPORTED = frozenset(
    name.lower()
    for name in (
        "sendPhoto",
        "sendDocument",
        "sendVideo",
        "sendAudio",
        "sendVoice",
        "sendVideoNote",
        "sendAnimation",
        "sendSticker",
        "sendMediaGroup",
        "sendLocation",
        "sendVenue",
        "sendContact",
        "sendPoll",
        "sendDice",
        "sendInvoice",
        "forwardMessage",
        "forwardMessages",
        "copyMessage",
        "copyMessages",
        "editMessageCaption",
        "editMessageMedia",
        "stopPoll",
        "answerInlineQuery",
        "sendGame",
        "setMessageReaction",
        "pinChatMessage",
        "unpinChatMessage",
        "banChatMember",
        "leaveChat",
        "getChatMember",
        "getChatAdministrators",
        "createChatInviteLink",
    )
)


def telegram_error(error: ApiError) -> JSONResponse:
    return JSONResponse(error.to_json(), status_code=error.error_code)


class DroppedConnection(Response):
    """Hang up without answering, like a connection lost mid-call: the client sees no status line."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # uvicorn's receive is a method of its per-request cycle, which holds the transport. Aborting it
        # is the only way to close without a response; where that is not reachable, send headers and stop.
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if transport is not None and hasattr(transport, "abort"):
            transport.abort()
            for _ in range(3):  # let the server notice the disconnect before this app returns
                await asyncio.sleep(0)
            return
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]})


def _check_token(emulator: Emulator, token: str) -> None:
    if token == emulator.token:
        return
    if ":" not in token:
        raise errors.not_found()
    raise errors.unauthorized()


async def read_params(request: Request) -> Params:
    """All parameters of the call as strings; ApiError 400 when the body cannot be read."""
    query = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method != "POST" or not content_type:
        return Params(query)
    try:
        if content_type == "application/json":
            body = await request.body()
            decoded = json.loads(body) if body.strip() else {}
            if not isinstance(decoded, dict):
                raise errors.bad_request("JSON object expected as request body")
            return Params.from_json_object(decoded, extra=query)
        if content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            async with request.form(max_files=10, max_fields=200) as form:
                for name, value in form.multi_items():
                    # Files are not emulated: an uploaded file reads as an empty parameter.
                    query[name] = "" if isinstance(value, UploadFile) else value
            return Params(query)
    except ApiError:
        raise
    except Exception as exc:  # any unreadable body: python-multipart, JSON and decoding errors differ
        raise errors.bad_request("can't parse request body") from exc
    return Params(query)


def _injected(emulator: Emulator, method: str, fault: Fault) -> Response:
    if fault.kind is FaultKind.RATE_LIMIT:
        emulator.throttles.append(
            Throttle(method=method, chat_id=None, retry_after=fault.retry_after, reason="fault")
        )
        error = errors.too_many_requests(fault.retry_after)
        emulator.record_call(method, error, fault=fault.kind)
        return telegram_error(error)
    emulator.record_call(method, None, fault=fault.kind)
    if fault.kind is FaultKind.SERVER_ERROR:
        return telegram_error(errors.internal_server_error())
    return DroppedConnection()


def _resolve(emulator: Emulator, token: str, method_name: str) -> tuple[str, Method]:
    _check_token(emulator, token)
    known = METHODS.get(method_name.lower())
    if known is not None:
        return known
    if method_name.lower() in UNSUPPORTED:
        raise errors.bad_request(f"method {method_name} is not supported by the local emulator")
    raise errors.not_found()


async def endpoint(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    method_name = request.path_params.get("method", "")
    try:
        name, function = _resolve(emulator, request.path_params.get("token", ""), method_name)
    except ApiError as error:
        emulator.record_call(method_name, error)
        return telegram_error(error)
    fault = emulator.faults.decide(name)
    if fault is not None and fault.kind is not FaultKind.SLOW:
        return _injected(emulator, name, fault)
    try:
        result = await function(emulator, await read_params(request))
    except ApiError as error:
        emulator.record_call(name, error)
        return telegram_error(error)
    except Exception:
        _LOG.exception("emulator bug in Bot API method %s", name)
        emulator.record_call(name, errors.internal_server_error())
        return telegram_error(errors.internal_server_error())
    emulator.record_call(name, None, fault=None if fault is None else fault.kind)
    if fault is not None:
        # A slow answer: the call took effect, the client hears only after slow_seconds (or never).
        await emulator.pause(fault.slow_seconds)
    return JSONResponse({"ok": True, "result": result})


async def file_endpoint(request: Request) -> Response:
    emulator: Emulator = request.app.state.emulator
    try:
        _check_token(emulator, request.path_params.get("token", ""))
    except ApiError as error:
        return telegram_error(error)
    path = request.path_params.get("path", "")
    for stored in emulator.files.values():
        if stored.file_path == path:
            return Response(stored.content, media_type="application/octet-stream")
    return telegram_error(errors.not_found())
