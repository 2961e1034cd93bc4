"""The emulator's own JSON API under /_emulator/: what the phone page (and any script) uses to act as
people, read chats, move the host's clock, and set faults and limits.

Not part of Telegram and unauthenticated: the server binds to 127.0.0.1. Changes must be POSTed as
application/json, which a foreign web page cannot send without a CORS preflight we never grant.
Answers are {"ok": true, "result": ...} or {"ok": false, "error": "..."}.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.emulator.emulator import ClockStep, Emulator
from bot.emulator.errors import EmulatorUsageError, Json
from bot.emulator.faults import FaultKind, FaultPlan
from bot.emulator.model import ChatType

Action = Callable[[Emulator, int, Json], Awaitable[Any]]


def _ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def _refuse(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"ok": False, "error": message}, status_code=status)


async def _body(request: Request) -> Json:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        raise EmulatorUsageError("send the control API JSON (Content-Type: application/json)")
    try:
        decoded = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise EmulatorUsageError("the body is not JSON") from exc
    if not isinstance(decoded, dict):
        raise EmulatorUsageError("the body must be a JSON object")
    return decoded


def _field(body: Json, name: str, kind: type, default: Any = None) -> Any:
    value = body.get(name, default)
    if value is None and default is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise EmulatorUsageError(f"field {name!r} must be {kind.__name__}")
    return value


def _handled(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    async def run(request: Request) -> Response:
        try:
            return await handler(request)
        except EmulatorUsageError as error:
            return _refuse(str(error))
        except (ValueError, KeyError) as error:
            return _refuse(f"bad request: {error}")

    return run


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


async def state(request: Request) -> Response:
    emulator = _emulator(request)
    groups = [
        {"id": chat.id, "title": chat.title, "member_ids": sorted(chat.member_ids)}
        for chat in emulator.chats.values()
        if chat.type is ChatType.GROUP
    ]
    return _ok(
        {
            "bot": emulator.bot_user_json(),
            "users": [user.public_json() for user in emulator.users.values()],
            "groups": groups,
            "clock": emulator.on_advance_clock is not None,
            "webhook": emulator.webhook.config.url if emulator.webhook else "",
            "enforce_limits": emulator.enforce_limits,
            "throttles": [throttle.__dict__ for throttle in emulator.throttles],
        }
    )


async def create_user(request: Request) -> Response:
    body = await _body(request)
    user = _emulator(request).create_user(
        first_name=_field(body, "first_name", str, ""),
        user_id=_field(body, "id", int),
        last_name=_field(body, "last_name", str) or None,
        username=_field(body, "username", str) or None,
        language_code=_field(body, "language_code", str, "en") or None,
    )
    return _ok(user.public_json())


async def create_group(request: Request) -> Response:
    body = await _body(request)
    members = _field(body, "member_ids", list, [])
    if not all(isinstance(member, int) for member in members):
        raise EmulatorUsageError("member_ids must be a list of user ids")
    chat = _emulator(request).create_group(
        title=_field(body, "title", str, "Staff"), member_ids=members, chat_id=_field(body, "id", int)
    )
    return _ok({"id": chat.id, "title": chat.title})


async def _send(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_sends(
        user_id, _field(body, "text", str, ""), chat_id=_field(body, "chat_id", int)
    )


async def _start(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_starts(user_id, _field(body, "token", str) or None)


async def _press(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.press(
        user_id,
        _field(body, "message_id", int, 0),
        _field(body, "data", str, ""),
        chat_id=_field(body, "chat_id", int),
    )


async def _edit(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_edits(
        user_id, _field(body, "message_id", int, 0), _field(body, "text", str, "")
    )


async def _photo(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_sends_photo(user_id, caption=_field(body, "caption", str, ""))


async def _sticker(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_sends_sticker(user_id, emoji=_field(body, "emoji", str, "👍"))


async def _voice(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_sends_voice(user_id, duration=_field(body, "duration", int, 3))


async def _location(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_sends_location(
        user_id,
        latitude=_field(body, "latitude", float, 51.5072),
        longitude=_field(body, "longitude", float, -0.1276),
    )


async def _contact(emulator: Emulator, user_id: int, body: Json) -> Any:
    return await emulator.user_sends_contact(
        user_id, phone_number=_field(body, "phone_number", str, "+447700900123")
    )


async def _block(emulator: Emulator, user_id: int, body: Json) -> Any:
    await emulator.block(user_id)
    return True


async def _unblock(emulator: Emulator, user_id: int, body: Json) -> Any:
    await emulator.unblock(user_id)
    return True


ACTIONS: dict[str, Action] = {
    "send": _send,
    "start": _start,
    "press": _press,
    "edit": _edit,
    "photo": _photo,
    "sticker": _sticker,
    "voice": _voice,
    "location": _location,
    "contact": _contact,
    "block": _block,
    "unblock": _unblock,
}


async def user_action(request: Request) -> Response:
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        return _refuse("no such action", 404)
    body = await _body(request)
    return _ok(await action(_emulator(request), int(request.path_params["user_id"]), body))


async def chat(request: Request) -> Response:
    """The chat as the phone shows it; `?since=<version>` answers {"changed": false} when nothing moved."""
    emulator = _emulator(request)
    version = emulator.changed.version
    if request.query_params.get("since") == str(version):
        return _ok({"version": version, "changed": False})
    chat_id = int(request.path_params["chat_id"])
    record = emulator.chats.get(chat_id)
    if record is None:
        return _refuse("no such chat", 404)
    keyboard = record.reply_keyboard
    return _ok(
        {
            "version": version,
            "changed": True,
            "messages": [entry.to_json() for entry in emulator.transcript(chat_id)],
            "reply_keyboard": keyboard.keyboard if keyboard else None,
            "placeholder": keyboard.placeholder if keyboard else "",
            "notices": [notice.__dict__ for notice in record.notices[-5:]],
            "action": record.last_action if record.last_action_date >= emulator.now() - 5 else None,
            "blocked": emulator.users[chat_id].blocked if chat_id in emulator.users else False,
        }
    )


async def clock(request: Request) -> Response:
    body = await _body(request)
    step = ClockStep(_field(body, "step", str, ""))
    return _ok({"text": await _emulator(request).advance_clock(step)})


async def faults(request: Request) -> Response:
    """POST a plan (seed, rate, kinds, methods, retry_after, slow_seconds, max_faults); {} clears it."""
    body = await _body(request)
    emulator = _emulator(request)
    if not body:
        emulator.faults.clear()
        return _ok(True)
    methods = _field(body, "methods", list)
    plan = FaultPlan(
        seed=_field(body, "seed", int, 0),
        rate=_field(body, "rate", float, 0.0),
        kinds=tuple(FaultKind(kind) for kind in _field(body, "kinds", list, list(FaultKind))),
        methods=None if methods is None else frozenset(str(m) for m in methods),
        retry_after=_field(body, "retry_after", int, 1),
        slow_seconds=_field(body, "slow_seconds", float, 10.0),
        max_faults=_field(body, "max_faults", int, 100),
    )
    emulator.faults.configure(plan)
    return _ok(True)


async def updates(request: Request) -> Response:
    """POST {"update": {...}} to queue an update for the bot exactly as given (no checks: for updates no
    simulated person can produce, such as one the bot's library cannot parse), optionally with
    "update_id" (Telegram's choice, e.g. a reused one). Answers {"update_id": n}, or null when the bot's
    allowed_updates filter it out."""
    body = await _body(request)
    update = _field(body, "update", dict)
    if not update:
        raise EmulatorUsageError("give the update as a JSON object in 'update'")
    emulator = _emulator(request)
    update_id = emulator.updates.push_raw(update, update_id=_field(body, "update_id", int))
    emulator.changed.bump()
    return _ok({"update_id": update_id})


async def limits(request: Request) -> Response:
    body = await _body(request)
    emulator = _emulator(request)
    emulator.enforce_limits = _field(body, "enforce", bool, True)
    return _ok({"enforce_limits": emulator.enforce_limits})


def routes() -> list[Route]:
    return [
        Route("/_emulator/state", _handled(state), methods=["GET"]),
        Route("/_emulator/users", _handled(create_user), methods=["POST"]),
        Route("/_emulator/users/{user_id:int}/{action:str}", _handled(user_action), methods=["POST"]),
        Route("/_emulator/groups", _handled(create_group), methods=["POST"]),
        Route("/_emulator/chats/{chat_id}", _handled(chat), methods=["GET"]),
        Route("/_emulator/clock", _handled(clock), methods=["POST"]),
        Route("/_emulator/faults", _handled(faults), methods=["POST"]),
        Route("/_emulator/limits", _handled(limits), methods=["POST"]),
        Route("/_emulator/updates", _handled(updates), methods=["POST"]),
    ]
