"""Bot API methods that touch messages: sendMessage, editMessageText, editMessageReplyMarkup,
deleteMessage(s), answerCallbackQuery, sendChatAction.

Checks run in Telegram's order (text, then markup, then chat, then "may I write here", then the sending
limit), so the first refusal a bot meets is the one Telegram would give. Each function takes the emulator
and the call's parameters and returns the `result` value; refusals are ApiError.
"""

from typing import Any

from bot.emulator import errors
from bot.emulator.emulator import Emulator
from bot.emulator.entities import format_text
from bot.emulator.markup import MarkupKind, parse_reply_markup
from bot.emulator.model import Chat, Notice, Sender, StoredMessage
from bot.emulator.params import Params

_CHAT_ACTIONS = frozenset(
    {
        "cancel",
        "typing",
        "record_video",
        "upload_video",
        "record_audio",
        "record_voice",
        "upload_audio",
        "upload_voice",
        "upload_photo",
        "upload_document",
        "choose_sticker",
        "pick_up_location",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MAX_CALLBACK_ANSWER = 200
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same as a "
    "current content and reply markup of the message"
)
QUERY_INVALID = "query is too old and response timeout expired or query ID is invalid"


def _text_and_entities(params: Params) -> tuple[str, list[dict[str, Any]]]:
    entities = params.json("entities", error="can't parse entities JSON object")
    return format_text(params.text("text"), parse_mode=params.text("parse_mode"), explicit_entities=entities)


def _markup(params: Params, *, inline_only: bool) -> Any:
    raw = params.json("reply_markup", error="can't parse reply keyboard markup JSON object")
    return parse_reply_markup(raw, inline_only=inline_only)


def _reply_target(chat: Chat, params: Params) -> int | None:
    raw = params.json("reply_parameters", error="can't parse reply parameters JSON object")
    if isinstance(raw, dict):
        message_id = raw.get("message_id")
        allow_missing = raw.get("allow_sending_without_reply") is True
    else:
        message_id = params.integer("reply_to_message_id") or None
        allow_missing = params.boolean("allow_sending_without_reply")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        return None
    if message_id in chat.messages:
        return message_id
    if allow_missing:
        return None
    raise errors.bad_request("message to be replied not found")


async def send_message(emulator: Emulator, params: Params) -> Any:
    text, entities = _text_and_entities(params)
    markup = _markup(params, inline_only=False)
    chat = emulator.resolve_chat(params.text("chat_id"))
    reply_to = _reply_target(chat, params)
    emulator.check_can_write(chat)
    emulator.check_send_limit("sendMessage", chat)
    message = StoredMessage(
        message_id=chat.take_message_id(),
        chat_id=chat.id,
        sender=Sender.BOT,
        sender_id=emulator.bot_id,
        date=emulator.now(),
        text=text,
        entities=entities,
        inline_keyboard=markup.inline_keyboard if markup and markup.kind is MarkupKind.INLINE else None,
        protect_content=params.boolean("protect_content"),
        silent=params.boolean("disable_notification"),
        reply_to_message_id=reply_to,
    )
    emulator.apply_reply_keyboard(chat, markup)
    emulator.store_message(chat, message)
    return emulator.message_json(message)


def _editable(emulator: Emulator, params: Params) -> tuple[Chat, StoredMessage]:
    if params.has("inline_message_id"):
        raise errors.bad_request("message to edit not found")
    chat = emulator.resolve_chat(params.text("chat_id"))
    message = emulator.find_message(chat, params.integer("message_id"), purpose="message to edit")
    if message.sender is not Sender.BOT:
        raise errors.bad_request("message can't be edited")
    return chat, message


async def edit_message_text(emulator: Emulator, params: Params) -> Any:
    text, entities = _text_and_entities(params)
    markup = _markup(params, inline_only=True)
    chat, message = _editable(emulator, params)
    emulator.check_can_write(chat)
    if message.media is not None:
        raise errors.bad_request("there is no text in the message to edit")
    # As in Telegram, leaving out reply_markup when editing the text removes the message's buttons.
    keyboard = markup.inline_keyboard if markup is not None else None
    if (text, entities, keyboard) == (message.text, message.entities, message.inline_keyboard):
        raise errors.bad_request(NOT_MODIFIED)
    message.text, message.entities, message.inline_keyboard = text, entities, keyboard
    message.edit_date = emulator.now()
    emulator.changed.bump()
    return emulator.message_json(message)


async def edit_message_reply_markup(emulator: Emulator, params: Params) -> Any:
    markup = _markup(params, inline_only=True)
    chat, message = _editable(emulator, params)
    emulator.check_can_write(chat)
    keyboard = markup.inline_keyboard if markup is not None else None
    if keyboard == message.inline_keyboard or (not keyboard and not message.inline_keyboard):
        raise errors.bad_request(NOT_MODIFIED)
    message.inline_keyboard = keyboard
    message.edit_date = emulator.now()
    emulator.changed.bump()
    return emulator.message_json(message)


async def delete_message(emulator: Emulator, params: Params) -> Any:
    chat = emulator.resolve_chat(params.text("chat_id"))
    message = emulator.find_message(chat, params.integer("message_id"), purpose="message to delete")
    del chat.messages[message.message_id]
    emulator.changed.bump()
    return True


async def delete_messages(emulator: Emulator, params: Params) -> Any:
    chat = emulator.resolve_chat(params.text("chat_id"))
    raw = params.json("message_ids", error="can't parse message identifiers JSON object")
    if not isinstance(raw, list) or not 1 <= len(raw) <= 100:
        raise errors.bad_request("message identifiers are not specified")
    for message_id in raw:
        if isinstance(message_id, int) and not isinstance(message_id, bool):
            chat.messages.pop(message_id, None)
    emulator.changed.bump()
    return True


async def answer_callback_query(emulator: Emulator, params: Params) -> Any:
    pending = emulator.callbacks.get(params.text("callback_query_id"))
    too_old = pending is not None and (
        emulator.monotonic() - pending.created > emulator.callback_answer_seconds
    )
    if pending is None or pending.answered or too_old:
        raise errors.bad_request(QUERY_INVALID)
    text = params.text("text")
    if len(text) > MAX_CALLBACK_ANSWER:
        raise errors.bad_request("MESSAGE_TOO_LONG")
    pending.answered = True
    if text:
        notice = Notice(text=text, show_alert=params.boolean("show_alert"), date=emulator.now())
        emulator.chats[pending.chat_id].notices.append(notice)
    emulator.changed.bump()
    return True


async def send_chat_action(emulator: Emulator, params: Params) -> Any:
    action = params.text("action")
    if action not in _CHAT_ACTIONS:
        raise errors.bad_request("wrong parameter action in request")
    chat = emulator.resolve_chat(params.text("chat_id"))
    emulator.check_can_write(chat)
    chat.last_action = None if action == "cancel" else action
    chat.last_action_date = emulator.now()
    emulator.changed.bump()
    return True
