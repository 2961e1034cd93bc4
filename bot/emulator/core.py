"""The emulator's state and the rules every Bot API method shares: chat lookup, who may be written to,
sending limits, storing a bot message, and the Bot API JSON of users, chats and messages.

Single event loop, no locks: every change happens between awaits. Bumping `changed` after each visible
change is what lets tests and the page wait on conditions instead of sleeping. Nothing here speaks HTTP.
"""

import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.emulator import errors
from bot.emulator.errors import ApiError, Json
from bot.emulator.faults import FaultInjector, FaultKind, FaultPlan
from bot.emulator.limits import Limits, RateLimiter
from bot.emulator.markup import MarkupKind, ReplyMarkup
from bot.emulator.model import CallRecord, Chat, ChatType, Sender, SimUser, StoredMessage, Throttle
from bot.emulator.notify import Signal
from bot.emulator.params import to_integer
from bot.emulator.updates import UpdateQueue
from bot.emulator.webhook import RetryPolicy, WebhookDelivery

# A public placeholder, not a secret: the emulator only ever runs on the developer's machine.
DEFAULT_TOKEN = "1000000001:AAEmulatorTokenForLocalUseOnly_aftercare"  # noqa: S105
_TOKEN_SHAPE = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{1,100}$")


@dataclass(kw_only=True)
class PendingCallback:
    user_id: int
    chat_id: int
    message_id: int
    created: float
    answered: bool = False


@dataclass(frozen=True, kw_only=True)
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes


class EmulatorCore:
    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "AftercareLocalBot",
        bot_first_name: str = "Aftercare (local)",
        enforce_limits: bool = True,
        limits: Limits | None = None,
        faults: FaultPlan | None = None,
        webhook_retry: RetryPolicy | None = None,
        callback_answer_seconds: float = 15.0,
        wall_clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not _TOKEN_SHAPE.match(token):
            raise ValueError("a bot token looks like 123456:ABC-def_ghi")
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.enforce_limits = enforce_limits
        self.limiter = RateLimiter(limits or Limits(), clock=monotonic)
        self.faults = FaultInjector(plan=faults or FaultPlan())
        self.webhook_retry = webhook_retry or RetryPolicy()
        self.callback_answer_seconds = callback_answer_seconds
        self.wall_clock = wall_clock
        self.monotonic = monotonic
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, Chat] = {}
        self.updates = UpdateQueue()
        self.webhook: WebhookDelivery | None = None
        self.throttles: list[Throttle] = []
        # Bounded: a dev session polls for days; tests look at the recent calls.
        self.calls: deque[CallRecord] = deque(maxlen=10_000)
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.menu_buttons: dict[int, Json] = {}
        self.callbacks: dict[str, PendingCallback] = {}
        self.files: dict[str, StoredFile] = {}
        self.changed = Signal()
        self.closed = False
        self._serial = 0
        self.on_advance_clock: Callable[[timedelta], Awaitable[str]] | None = None
        self.clock_now: Callable[[], datetime] | None = None

    # -- identity and JSON -------------------------------------------------------------------------

    def now(self) -> int:
        return int(self.wall_clock())

    def next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def bot_user_json(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    def chat_json(self, chat: Chat) -> Json:
        if chat.type is ChatType.GROUP:
            return {"id": chat.id, "title": chat.title or "", "type": "group"}
        user = self.users[chat.user_id or chat.id]
        shown = {k: v for k, v in user.user_json().items() if k in {"first_name", "last_name", "username"}}
        return {"id": chat.id, **shown, "type": "private"}

    def message_json(self, message: StoredMessage, *, with_reply: bool = True) -> Json:
        chat = self.chats[message.chat_id]
        sender = (
            self.bot_user_json()
            if message.sender is Sender.BOT
            else self.users[message.sender_id].user_json()
        )
        body: Json = {"message_id": message.message_id, "from": sender, "chat": self.chat_json(chat)}
        body["date"] = message.date
        if message.edit_date is not None:
            body["edit_date"] = message.edit_date
        if message.media is not None:
            body[message.media[0]] = message.media[1]
            if message.text:
                body["caption"] = message.text
                if message.entities:
                    body["caption_entities"] = message.entities
        else:
            body["text"] = message.text
            if message.entities:
                body["entities"] = message.entities
        if message.inline_keyboard:
            body["reply_markup"] = {"inline_keyboard": message.inline_keyboard}
        if message.protect_content:
            body["has_protected_content"] = True
        replied = chat.messages.get(message.reply_to_message_id or 0)
        if with_reply and replied is not None:
            body["reply_to_message"] = self.message_json(replied, with_reply=False)
        return body

    # -- rules shared by the Bot API methods -------------------------------------------------------

    def resolve_chat(self, chat_id_text: str) -> Chat:
        if chat_id_text == "":
            raise errors.bad_request("chat_id is empty")
        chat = self.chats.get(to_integer(chat_id_text))
        if chat is None:
            raise errors.bad_request(errors.CHAT_NOT_FOUND)
        return chat

    def check_can_write(self, chat: Chat) -> None:
        if chat.type is not ChatType.PRIVATE:
            return
        user = self.users[chat.user_id or chat.id]
        if user.blocked:
            raise errors.forbidden(errors.BOT_BLOCKED)
        if not user.started:
            raise errors.forbidden(errors.CANT_INITIATE)

    def check_send_limit(self, method: str, chat: Chat) -> None:
        if not self.enforce_limits:
            return
        retry_after = self.limiter.try_send(chat.id, is_group=chat.type is ChatType.GROUP)
        if retry_after is not None:
            self.throttles.append(
                Throttle(method=method, chat_id=chat.id, retry_after=retry_after, reason="limit")
            )
            raise errors.too_many_requests(retry_after)

    def find_message(self, chat: Chat, message_id: int, *, purpose: str) -> StoredMessage:
        message = chat.messages.get(message_id)
        if message is None:
            raise errors.bad_request(f"{purpose} not found")
        return message

    def apply_reply_keyboard(self, chat: Chat, markup: ReplyMarkup | None) -> None:
        if markup is None or markup.kind is MarkupKind.INLINE:
            return
        chat.force_reply = markup.kind is MarkupKind.FORCE_REPLY
        if markup.kind is MarkupKind.KEYBOARD:
            chat.reply_keyboard = markup
        elif markup.kind is MarkupKind.REMOVE:
            chat.reply_keyboard = None

    def store_message(self, chat: Chat, message: StoredMessage) -> StoredMessage:
        chat.messages[message.message_id] = message
        self.changed.bump()
        return message

    def record_call(self, method: str, error: ApiError | None, *, fault: FaultKind | None = None) -> None:
        code = None if error is None else error.error_code
        self.calls.append(CallRecord(method=method, error_code=code, fault=fault))

    @property
    def limit_throttles(self) -> list[Throttle]:
        """429s the limits sent (not injected faults): tests and benchmarks expect none."""
        return [throttle for throttle in self.throttles if throttle.reason == "limit"]
