"""python-telegram-bot handlers: each translates one kind of update into one call to the desk.

They run inside ``bot.inbound.Inbound.process``, which gives them the update's unit of work (session, now,
inbound id). They never log what people type. Patient handlers answer private chats only; in the staff
group, only the "Acknowledge" button means anything.
"""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.desk import Desk
from bot.inbound import current
from bot.staff_alerts import ACK_PREFIX
from flows.messages import say

PRIVATE = filters.ChatType.PRIVATE
MEDIA_KINDS = (
    "photo",
    "sticker",
    "voice",
    "audio",
    "video",
    "video_note",
    "document",
    "animation",
    "location",
    "contact",
    "poll",
    "dice",
    "venue",
)
Context = ContextTypes.DEFAULT_TYPE


def register(application: Application[Any, Any, Any, Any, Any, Any], desk: Desk) -> None:
    async def start(update: Update, context: Context) -> None:
        unit, message = current(), update.effective_message
        assert message is not None and update.effective_chat is not None
        token = context.args[0] if context.args else None
        user = update.effective_user
        desk.start(
            unit.session,
            chat_id=update.effective_chat.id,
            user_id=user.id if user else None,
            token=token,
            now=unit.now,
        )

    async def command(update: Update, context: Context) -> None:
        unit, message = current(), update.effective_message
        assert message is not None and message.text is not None and update.effective_chat is not None
        name = message.text.split()[0].lstrip("/").split("@")[0].lower()
        desk.command(unit.session, chat_id=update.effective_chat.id, name=name, now=unit.now)

    async def text(update: Update, context: Context) -> None:
        unit, message = current(), update.effective_message
        assert message is not None and message.text is not None and update.effective_chat is not None
        desk.text(
            unit.session,
            chat_id=update.effective_chat.id,
            text=message.text,
            now=unit.now,
            inbound_id=unit.inbound_id,
        )

    async def edited(update: Update, context: Context) -> None:
        unit, message = current(), update.edited_message
        assert message is not None and update.effective_chat is not None
        desk.edited(
            unit.session,
            chat_id=update.effective_chat.id,
            text=message.text or message.caption or "",
            now=unit.now,
            inbound_id=unit.inbound_id,
        )

    async def media(update: Update, context: Context) -> None:
        unit, message = current(), update.effective_message
        assert message is not None and update.effective_chat is not None
        kind = next((k for k in MEDIA_KINDS if getattr(message, k, None)), "other")
        desk.media(
            unit.session,
            chat_id=update.effective_chat.id,
            kind=kind,
            caption=message.caption,
            now=unit.now,
            inbound_id=unit.inbound_id,
        )

    async def button(update: Update, context: Context) -> None:
        unit, query = current(), update.callback_query
        assert query is not None
        chat = update.effective_chat
        data = query.data or ""
        if chat is None:
            notice = say("button.stale")
        elif data.startswith(ACK_PREFIX):
            notice = desk.staff_acknowledge(
                unit.session, chat_id=chat.id, user_id=query.from_user.id, data=data, now=unit.now
            )
        elif chat.type == "private":
            notice = desk.button(
                unit.session, chat_id=chat.id, data=data, now=unit.now, inbound_id=unit.inbound_id
            )
        else:
            notice = say("button.stale")
        unit.after_commit.append(lambda: query.answer(notice[:200] or None))

    async def member(update: Update, context: Context) -> None:
        unit, change = current(), update.my_chat_member
        assert change is not None
        if change.chat.type == "private" and change.new_chat_member.status in ("kicked", "left"):
            desk.blocked(unit.session, chat_id=change.chat.id, now=unit.now)

    application.add_handler(CommandHandler("start", start, filters=PRIVATE))
    application.add_handler(CommandHandler(["help", "contact", "advice", "stop"], command, filters=PRIVATE))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(ChatMemberHandler(member, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_handler(MessageHandler(PRIVATE & filters.UpdateType.EDITED_MESSAGE, edited))
    application.add_handler(MessageHandler(PRIVATE & filters.COMMAND, command))  # unknown commands: help
    application.add_handler(MessageHandler(PRIVATE & filters.TEXT, text))
    application.add_handler(MessageHandler(PRIVATE & ~filters.TEXT, media))
