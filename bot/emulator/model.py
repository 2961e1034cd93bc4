"""The emulator's world: simulated users, chats, stored messages, and the read-only views tests get.

Mutable records (SimUser, Chat, StoredMessage) belong to the Emulator; everything handed out (Button,
TranscriptEntry, Notice, Throttle) is frozen. `*_json` methods build Bot API objects exactly as Telegram
shapes them (field names, omitted empties). No I/O, no clock: dates are passed in.
"""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bot.emulator.entities import render_html
from bot.emulator.errors import Json
from bot.emulator.markup import ReplyMarkup


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"


class Sender(StrEnum):
    BOT = "bot"
    USER = "user"


@dataclass(kw_only=True)
class SimUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    blocked: bool = False
    # Telegram lets a bot write only to people who have written to it (pressed Start) first.
    started: bool = False

    def user_json(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name):
                user[name] = getattr(self, name)
        return user

    def public_json(self) -> Json:
        return {**self.user_json(), "blocked": self.blocked, "started": self.started, "chat_id": self.id}


@dataclass(kw_only=True)
class StoredMessage:
    message_id: int
    chat_id: int
    sender: Sender
    sender_id: int
    date: int
    text: str = ""
    entities: list[Json] = field(default_factory=list)
    # For media: the Bot API field and its value, e.g. ("photo", [PhotoSize, ...]); text is then the caption.
    media: tuple[str, Any] | None = None
    inline_keyboard: list[list[Json]] | None = None
    edit_date: int | None = None
    protect_content: bool = False
    silent: bool = False
    reply_to_message_id: int | None = None

    @property
    def kind(self) -> str:
        return self.media[0] if self.media else "text"


@dataclass(frozen=True, kw_only=True)
class Notice:
    """What answerCallbackQuery showed the user: a toast, or an alert when show_alert is set."""

    text: str
    show_alert: bool
    date: int


@dataclass(kw_only=True)
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    user_id: int | None = None
    member_ids: set[int] = field(default_factory=set)
    next_message_id: int = 1
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    reply_keyboard: ReplyMarkup | None = None
    force_reply: bool = False
    notices: list[Notice] = field(default_factory=list)
    last_action: str | None = None
    last_action_date: int = 0

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass(frozen=True, kw_only=True)
class Button:
    text: str
    callback_data: str | None = None
    url: str | None = None

    def to_json(self) -> Json:
        return {key: value for key, value in self.__dict__.items() if value is not None}


@dataclass(frozen=True, kw_only=True)
class TranscriptEntry:
    """One message as the person sees it now: edits applied, deleted messages gone."""

    message_id: int
    chat_id: int
    sender: Sender
    sender_id: int
    date: int
    kind: str
    text: str
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    edited: bool = False
    protect_content: bool = False
    silent: bool = False
    media: Any = None

    @property
    def from_bot(self) -> bool:
        return self.sender is Sender.BOT

    def button(self, text: str) -> Button:
        """The button labelled `text`; KeyError when the message has none."""
        for row in self.buttons:
            for button in row:
                if button.text == text:
                    return button
        raise KeyError(text)

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    def to_json(self) -> Json:
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "sender": str(self.sender),
            "date": self.date,
            "kind": self.kind,
            "text": self.text,
            "html": self.html,
            "buttons": [[button.to_json() for button in row] for row in self.buttons],
            "edited": self.edited,
            "protect_content": self.protect_content,
            "silent": self.silent,
            "media": self.media,
        }

    @classmethod
    def of(cls, message: StoredMessage) -> "TranscriptEntry":
        rows = message.inline_keyboard or []
        buttons = tuple(
            tuple(
                Button(text=str(b.get("text", "")), callback_data=b.get("callback_data"), url=b.get("url"))
                for b in row
            )
            for row in rows
        )
        return cls(
            message_id=message.message_id,
            chat_id=message.chat_id,
            sender=message.sender,
            sender_id=message.sender_id,
            date=message.date,
            kind=message.kind,
            text=message.text,
            html=render_html(message.text, message.entities),
            buttons=buttons,
            edited=message.edit_date is not None,
            protect_content=message.protect_content,
            silent=message.silent,
            media=message.media[1] if message.media else None,
        )


@dataclass(frozen=True, kw_only=True)
class Throttle:
    """A 429 the emulator sent: from its limits ("limit") or from fault injection ("fault")."""

    method: str
    chat_id: int | None
    retry_after: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class CallRecord:
    """One Bot API call as the emulator saw it (no parameters, so no message text is kept here)."""

    method: str
    error_code: int | None
    fault: str | None = None  # the FaultKind injected into this call, if any
