"""Bot API methods about the bot itself and its updates: getMe, getUpdates, the webhook trio, commands,
the menu button, getChat, getFile, close and logOut.

Each function takes the emulator and the call's parameters and returns the `result` value; refusals are
ApiError with Telegram's wording (telegram-bot-api's Client.cpp).
"""

import json
import re
from typing import Any
from urllib.parse import urlsplit

from bot.emulator import errors
from bot.emulator.emulator import Emulator
from bot.emulator.model import ChatType
from bot.emulator.params import Params
from bot.emulator.webhook import WebhookConfig

LONG_POLL_MAX_TIMEOUT = 50
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]*$")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
    | {"chat", "chat_administrators", "chat_member"}
)


async def get_me(emulator: Emulator, params: Params) -> Any:
    return {
        **emulator.bot_user_json(),
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _allowed_updates(params: Params) -> list[str] | None:
    try:
        raw = params.json("allowed_updates", error="can't parse allowed updates")
    except errors.ApiError:
        return None  # Telegram ignores an unreadable list and keeps the previous one.
    if not isinstance(raw, list):
        return None
    return [kind for kind in raw if isinstance(kind, str)]


async def get_updates(emulator: Emulator, params: Params) -> Any:
    if emulator.webhook is not None:
        raise errors.conflict(
            "can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first"
        )
    emulator.updates.set_allowed(_allowed_updates(params))
    return await emulator.updates.long_poll(
        offset=params.integer("offset"),
        limit=params.clamped("limit", default=100, low=1, high=100),
        wait_seconds=params.clamped("timeout", default=0, low=0, high=LONG_POLL_MAX_TIMEOUT),
    )


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    try:
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        port_ok = False
    # Telegram insists on https and ports 80/88/443/8443; a local bot has no certificate, so http is allowed.
    if parts.scheme not in {"http", "https"} or not parts.hostname or not port_ok:
        raise errors.bad_request("invalid webhook URL specified")


async def set_webhook(emulator: Emulator, params: Params) -> Any:
    url = params.text("url")
    drop = params.boolean("drop_pending_updates")
    if not url:
        await emulator.delete_webhook(drop_pending_updates=drop)
        return True
    _check_webhook_url(url)
    secret = params.text("secret_token")
    if len(secret) > 256:
        raise errors.bad_request("secret token is too long")
    if not _SECRET_TOKEN.match(secret):
        raise errors.bad_request("secret token contains unallowed characters")
    emulator.updates.set_allowed(_allowed_updates(params))
    config = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=params.clamped("max_connections", default=40, low=1, high=100),
        ip_address=params.text("ip_address"),
    )
    await emulator.set_webhook(config, drop_pending_updates=drop)
    return True


async def delete_webhook(emulator: Emulator, params: Params) -> Any:
    await emulator.delete_webhook(drop_pending_updates=params.boolean("drop_pending_updates"))
    return True


async def get_webhook_info(emulator: Emulator, params: Params) -> Any:
    webhook = emulator.webhook
    info: dict[str, Any] = {
        "url": webhook.config.url if webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(emulator.updates.pending()),
    }
    if webhook is not None:
        if webhook.last_error_date:
            info["last_error_date"] = webhook.last_error_date
            info["last_error_message"] = webhook.last_error_message
        info["max_connections"] = webhook.config.max_connections
        info["ip_address"] = webhook.config.ip_address or "127.0.0.1"
    if emulator.updates.allowed != emulator.updates.default_allowed:
        info["allowed_updates"] = sorted(emulator.updates.allowed)
    return info


def _scope_key(params: Params) -> str:
    raw = params.json("scope", error="can't parse BotCommandScope JSON object")
    if raw is None:
        return '{"type": "default"}'
    if not isinstance(raw, dict):
        raise errors.bad_request("can't parse BotCommandScope: BotCommandScope must be an Object")
    if raw.get("type") not in _SCOPES:
        raise errors.bad_request("can't parse BotCommandScope: Unsupported type specified")
    return json.dumps(raw, sort_keys=True)


def _command(item: Any) -> dict[str, str]:
    if not isinstance(item, dict):
        raise errors.bad_request("can't parse BotCommand: expected an Object")
    command, description = item.get("command"), item.get("description")
    if not isinstance(command, str) or not isinstance(description, str):
        raise errors.bad_request('can\'t parse BotCommand: Field "command" must be of type String')
    command = command.removeprefix("/")
    if not _COMMAND.match(command):
        raise errors.bad_request("BOT_COMMAND_INVALID")
    if not description.strip() or len(description) > 256:
        raise errors.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    return {"command": command, "description": description}


async def set_my_commands(emulator: Emulator, params: Params) -> Any:
    raw = params.json("commands", error="can't parse commands JSON object")
    if not isinstance(raw, list):
        raise errors.bad_request("expected an Array of BotCommand")
    if len(raw) > 100:
        raise errors.bad_request("too many commands specified")
    commands = [_command(item) for item in raw]
    emulator.commands[(_scope_key(params), params.text("language_code"))] = commands
    return True


async def get_my_commands(emulator: Emulator, params: Params) -> Any:
    return emulator.commands.get((_scope_key(params), params.text("language_code")), [])


async def delete_my_commands(emulator: Emulator, params: Params) -> Any:
    emulator.commands.pop((_scope_key(params), params.text("language_code")), None)
    return True


async def set_chat_menu_button(emulator: Emulator, params: Params) -> Any:
    raw = params.json("menu_button", error="can't parse menu button JSON object")
    button = raw if raw is not None else {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in {"commands", "web_app", "default"}:
        raise errors.bad_request("can't parse menu button: MenuButton has unsupported type")
    chat_id = 0
    if params.has("chat_id"):
        chat = emulator.resolve_chat(params.text("chat_id"))
        if chat.type is not ChatType.PRIVATE:
            raise errors.bad_request("chat not found")
        chat_id = chat.id
    emulator.menu_buttons[chat_id] = button
    return True


async def get_chat_menu_button(emulator: Emulator, params: Params) -> Any:
    chat_id = emulator.resolve_chat(params.text("chat_id")).id if params.has("chat_id") else 0
    return emulator.menu_buttons.get(chat_id, emulator.menu_buttons.get(0, {"type": "default"}))


async def get_chat(emulator: Emulator, params: Params) -> Any:
    chat = emulator.resolve_chat(params.text("chat_id"))
    return {**emulator.chat_json(chat), "accent_color_id": 0, "max_reaction_count": 11}


async def get_file(emulator: Emulator, params: Params) -> Any:
    stored = emulator.files.get(params.text("file_id"))
    if stored is None:
        raise errors.bad_request("invalid file_id")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
        "file_path": stored.file_path,
    }


async def accept(emulator: Emulator, params: Params) -> Any:
    """close, logOut, setMyName and friends: accepted and otherwise ignored."""
    return True
