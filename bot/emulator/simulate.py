"""What simulated people do: join, write, press buttons, edit, send media, block the bot.

Each action records the message in the chat (so the transcript shows it) and queues the update Telegram
would send the bot, with realistic shapes: "/start TOKEN" carries a bot_command entity, a button press
carries the message as it is now, blocking sends my_chat_member with status "kicked". Actions a real app
cannot do (pressing a button that is not on the message) raise EmulatorUsageError.
"""

from typing import Any

from bot.emulator.core import EmulatorCore, PendingCallback, StoredFile
from bot.emulator.entities import plain_text_entities
from bot.emulator.errors import EmulatorUsageError, Json
from bot.emulator.model import Chat, ChatType, Sender, SimUser, StoredMessage, TranscriptEntry

_PLACEHOLDER = b"Aftercare emulator placeholder file: files are not emulated.\n"


def _used(chat: Chat, text: str, media: tuple[str, Any] | None) -> bool:
    """Whether this message is a tap on the chat's reply keyboard (which a one-time keyboard hides after)."""
    assert chat.reply_keyboard is not None
    for button in (b for row in chat.reply_keyboard.keyboard for b in row):
        if media is None and button.get("text") == text:
            return True
        if media is not None and button.get(f"request_{media[0]}") is True:
            return True
    return False


class UserActions(EmulatorCore):
    # -- people and chats --------------------------------------------------------------------------

    def create_user(
        self,
        *,
        first_name: str,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> SimUser:
        """A person with a Telegram account and a private chat with the bot (not yet started)."""
        if not first_name.strip():
            raise EmulatorUsageError("a Telegram user needs a first name")
        chosen = user_id if user_id is not None else self._free_id(700_000_001, step=1)
        if chosen <= 0 or chosen in self.users:
            raise EmulatorUsageError(f"user id {chosen} is taken or not positive")
        user = SimUser(
            id=chosen,
            first_name=first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        self.users[chosen] = user
        self.chats[chosen] = Chat(id=chosen, type=ChatType.PRIVATE, user_id=chosen)
        self.changed.bump()
        return user

    def create_group(
        self, *, title: str, member_ids: list[int] | None = None, chat_id: int | None = None
    ) -> Chat:
        """A basic group (negative id) the bot is a member of, e.g. the clinic's staff chat."""
        chosen = chat_id if chat_id is not None else self._free_id(-4_000_000_001, step=-1)
        if chosen >= 0 or chosen in self.chats:
            raise EmulatorUsageError(f"group id {chosen} is taken or not negative")
        for member in member_ids or []:
            self._user(member)
        chat = Chat(id=chosen, type=ChatType.GROUP, title=title, member_ids=set(member_ids or []))
        self.chats[chosen] = chat
        self.changed.bump()
        return chat

    def _free_id(self, start: int, *, step: int) -> int:
        chosen = start
        while chosen in self.chats:
            chosen += step
        return chosen

    def _user(self, user_id: int) -> SimUser:
        user = self.users.get(user_id)
        if user is None:
            raise EmulatorUsageError(f"no simulated user {user_id}")
        return user

    def _chat_for(self, user: SimUser, chat_id: int | None) -> Chat:
        chat = self.chats.get(user.id if chat_id is None else chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}")
        if chat.type is ChatType.GROUP and user.id not in chat.member_ids:
            raise EmulatorUsageError(f"user {user.id} is not in group {chat.id}")
        return chat

    # -- writing -----------------------------------------------------------------------------------

    def _post(
        self, user: SimUser, chat: Chat, *, text: str = "", media: tuple[str, Any] | None = None
    ) -> Json:
        if chat.type is ChatType.PRIVATE and user.blocked:
            raise EmulatorUsageError("the user blocked the bot; unblock first")
        entities = plain_text_entities(text) if text else []
        message = StoredMessage(
            message_id=chat.take_message_id(),
            chat_id=chat.id,
            sender=Sender.USER,
            sender_id=user.id,
            date=self.now(),
            text=text,
            entities=entities,
            media=media,
        )
        self.store_message(chat, message)
        if chat.type is ChatType.PRIVATE:
            user.started = True
        if chat.reply_keyboard is not None and chat.reply_keyboard.one_time and _used(chat, text, media):
            chat.reply_keyboard = None
        payload = self.message_json(message)
        # Group privacy mode (Telegram's default): a bot in a group sees commands, not chatter.
        if chat.type is ChatType.PRIVATE or text.startswith("/"):
            self.updates.push("message", payload)
        return payload

    async def user_sends(self, user_id: int, text: str, *, chat_id: int | None = None) -> Json:
        """The person types `text` and taps send; returns the Message the bot will receive."""
        if not text.strip():
            raise EmulatorUsageError("Telegram apps do not send empty messages")
        if len(text) > 4096:
            raise EmulatorUsageError("Telegram apps split text over 4096 characters")
        user = self._user(user_id)
        return self._post(user, self._chat_for(user, chat_id), text=text)

    async def user_starts(self, user_id: int, token: str | None = None) -> Json:
        """Pressing Start, or opening t.me/<bot>?start=<token>: the app sends "/start" or "/start TOKEN"."""
        return await self.user_sends(user_id, f"/start {token}" if token else "/start")

    async def user_edits(
        self, user_id: int, message_id: int, text: str, *, chat_id: int | None = None
    ) -> Json:
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        message = chat.messages.get(message_id)
        if message is None or message.sender is not Sender.USER or message.sender_id != user_id:
            raise EmulatorUsageError(f"user {user_id} has no message {message_id} in chat {chat.id}")
        if message.media is not None or not text.strip():
            raise EmulatorUsageError("only a text message can be edited, and not to empty text")
        message.text, message.entities, message.edit_date = text, plain_text_entities(text), self.now()
        self.changed.bump()
        payload = self.message_json(message)
        if chat.type is ChatType.PRIVATE or text.startswith("/"):
            self.updates.push("edited_message", payload)
        return payload

    async def press(self, user_id: int, message_id: int, data: str, *, chat_id: int | None = None) -> str:
        """Tap an inline button with this callback_data on a bot message (old ones too); the query id."""
        user = self._user(user_id)
        chat = self._chat_for(user, chat_id)
        message = chat.messages.get(message_id)
        buttons = [b for row in (message.inline_keyboard or []) for b in row] if message else []
        if (
            message is None
            or message.sender is not Sender.BOT
            or not any(b.get("callback_data") == data for b in buttons)
        ):
            raise EmulatorUsageError(f"message {message_id} in chat {chat.id} has no button with that data")
        if chat.type is ChatType.PRIVATE and user.blocked:
            raise EmulatorUsageError("the user blocked the bot; unblock first")
        query_id = str(4_000_000_000_000_000 + self.next_serial())
        self.callbacks[query_id] = PendingCallback(
            user_id=user.id, chat_id=chat.id, message_id=message_id, created=self.monotonic()
        )
        payload: Json = {
            "id": query_id,
            "from": user.user_json(),
            "message": self.message_json(message),
            "chat_instance": str(abs(chat.id * 7919 + self.bot_id) % 10**19),
            "data": data,
        }
        self.updates.push("callback_query", payload)
        return query_id

    # -- media ---------------------------------------------------------------------------------------

    def _file(self, kind: str, extension: str) -> Json:
        serial = self.next_serial()
        stored = StoredFile(
            file_id=f"EMU{kind.upper()}{serial:010d}",
            file_unique_id=f"U{kind[:2]}{serial:08d}",
            file_path=f"{kind}s/file_{serial}.{extension}",
            content=_PLACEHOLDER,
        )
        self.files[stored.file_id] = stored
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(_PLACEHOLDER),
        }

    async def user_sends_photo(self, user_id: int, *, caption: str = "", chat_id: int | None = None) -> Json:
        user = self._user(user_id)
        sizes = [
            {**self._file("photo", "jpg"), "width": w, "height": h}
            for w, h in ((90, 68), (320, 240), (1280, 960))
        ]
        return self._post(user, self._chat_for(user, chat_id), text=caption, media=("photo", sizes))

    async def user_sends_sticker(
        self, user_id: int, *, emoji: str = "👍", chat_id: int | None = None
    ) -> Json:
        user = self._user(user_id)
        sticker = {
            **self._file("sticker", "webp"),
            "width": 512,
            "height": 512,
            "emoji": emoji,
            "set_name": "AftercareEmulator",
            "is_animated": False,
            "is_video": False,
            "type": "regular",
        }
        return self._post(user, self._chat_for(user, chat_id), media=("sticker", sticker))

    async def user_sends_voice(self, user_id: int, *, duration: int = 3, chat_id: int | None = None) -> Json:
        user = self._user(user_id)
        voice = {**self._file("voice", "oga"), "duration": duration, "mime_type": "audio/ogg"}
        return self._post(user, self._chat_for(user, chat_id), media=("voice", voice))

    async def user_sends_location(self, user_id: int, *, latitude: float, longitude: float) -> Json:
        user = self._user(user_id)
        location = {"latitude": latitude, "longitude": longitude}
        return self._post(user, self._chat_for(user, None), media=("location", location))

    async def user_sends_contact(self, user_id: int, *, phone_number: str, own: bool = True) -> Json:
        """Share a contact card; `own` is what the "Share my phone number" keyboard button sends."""
        user = self._user(user_id)
        contact: Json = {"phone_number": phone_number, "first_name": user.first_name}
        if own:
            contact["user_id"] = user.id
        return self._post(user, self._chat_for(user, None), media=("contact", contact))

    # -- blocking ------------------------------------------------------------------------------------

    def _membership(self, user: SimUser, old: str, new: str) -> None:
        def member(status: str) -> Json:
            # A "kicked" (banned) member always carries until_date; 0 means for ever.
            extra = {"until_date": 0} if status == "kicked" else {}
            return {"user": self.bot_user_json(), "status": status, **extra}

        payload = {
            "chat": self.chat_json(self.chats[user.id]),
            "from": user.user_json(),
            "date": self.now(),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self.updates.push("my_chat_member", payload)
        self.changed.bump()

    async def block(self, user_id: int) -> None:
        """The person blocks the bot: my_chat_member "kicked", and from now on sends get 403."""
        user = self._user(user_id)
        if not user.blocked:
            user.blocked = True
            self._membership(user, "member", "kicked")

    async def unblock(self, user_id: int) -> None:
        user = self._user(user_id)
        if user.blocked:
            user.blocked = False
            self._membership(user, "kicked", "member")

    # -- reading -------------------------------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[TranscriptEntry]:
        """Both sides of the chat in order, as shown on the phone now (edits applied, deletions gone)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            raise EmulatorUsageError(f"no chat {chat_id}")
        return [TranscriptEntry.of(message) for _, message in sorted(chat.messages.items())]
