"""The bot's pending updates and getUpdates long polling, with Telegram's acknowledgement rules.

An update stays pending until acknowledged: by a getUpdates whose offset is higher than its id, or by a 2xx
from the webhook. Ids only grow. One long poll at a time: a new getUpdates ends the waiting one with
409 "terminated by other getUpdates request", as Telegram does when two bot instances poll one token.
Updates of types the bot did not ask for (allowed_updates) are never stored, as in Telegram.
"""

import asyncio
from collections.abc import Iterable

from bot.emulator.errors import Json, conflict
from bot.emulator.notify import Signal

ALL_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "message_reaction",
        "message_reaction_count",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
# Telegram's default: everything except these three, which a bot must ask for by name.
DEFAULT_UPDATE_TYPES = ALL_UPDATE_TYPES - {"chat_member", "message_reaction", "message_reaction_count"}
OTHER_POLLER = "terminated by other getUpdates request; make sure that only one bot instance is running"
BY_SET_WEBHOOK = "terminated by setWebhook request"


class UpdateQueue:
    def __init__(self) -> None:
        self._pending: list[Json] = []
        self._next_id = 1
        self.allowed: frozenset[str] = DEFAULT_UPDATE_TYPES
        self.default_allowed = DEFAULT_UPDATE_TYPES
        self.arrived = Signal()
        self._poll_generation = 0
        self._waiting_poll: int | None = None
        self._terminated: dict[int, str] = {}
        self._closed = False

    def push(self, kind: str, payload: Json) -> int | None:
        """Store an update; its id, or None when the bot's allowed_updates filter it out."""
        if kind not in self.allowed:
            return None
        update_id = self._next_id
        self._next_id += 1
        self._pending.append({"update_id": update_id, kind: payload})
        self.arrived.bump()
        return update_id

    def push_raw(self, body: Json, *, update_id: int | None = None) -> int | None:
        """Store ``body`` (an update without its update_id) exactly as given, unchecked: what Telegram may
        send and no simulated person can (a shape the bot's library cannot read). Its kind is its first
        key; filtered by allowed_updates like any other. ``update_id``: the id Telegram chose for it (after
        a week without updates Telegram picks the next id at random); numbering goes on from there."""
        kinds = [key for key in body if key != "update_id"]
        if not kinds or kinds[0] not in self.allowed:
            return None
        chosen = self._next_id if update_id is None else update_id
        self._next_id = chosen + 1
        self._pending.append({"update_id": chosen, **{k: v for k, v in body.items() if k != "update_id"}})
        self.arrived.bump()
        return chosen

    def set_allowed(self, kinds: Iterable[str] | None) -> None:
        """Telegram keeps the previous setting when the list is absent; an empty list means the default."""
        if kinds is None:
            return
        chosen = frozenset(kind for kind in kinds if kind in ALL_UPDATE_TYPES)
        self.allowed = chosen or DEFAULT_UPDATE_TYPES

    def acknowledge(self, offset: int) -> None:
        """Forget updates below `offset`; a negative offset keeps only the last -offset updates."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    @property
    def poll_waiting(self) -> bool:
        """A getUpdates long poll is parked here waiting for updates."""
        return self._waiting_poll is not None

    def first(self) -> Json | None:
        return self._pending[0] if self._pending else None

    def pending(self) -> list[Json]:
        return list(self._pending)

    def drop_all(self) -> None:
        self._pending.clear()

    def abort_poll(self, reason: str) -> None:
        """End the waiting long poll (if any) with 409 Conflict: `reason`."""
        if self._waiting_poll is not None:
            self._terminated[self._waiting_poll] = reason
            self._waiting_poll = None
            self.arrived.bump()

    def close(self) -> None:
        """Shutting down: waiting polls return what they have (nothing) at once."""
        self._closed = True
        self.arrived.bump()

    async def long_poll(self, *, offset: int, limit: int, wait_seconds: float) -> list[Json]:
        self.acknowledge(offset)
        self.abort_poll(OTHER_POLLER)
        self._poll_generation += 1
        generation = self._poll_generation
        self._waiting_poll = generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        try:
            while True:
                if generation in self._terminated:
                    raise conflict(self._terminated.pop(generation))
                batch = self._pending[:limit]
                if batch or self._closed:
                    return [dict(update) for update in batch]
                if not await self.arrived.wait(deadline - loop.time()):
                    return []
        finally:
            if self._waiting_poll == generation:
                self._waiting_poll = None
            self._terminated.pop(generation, None)
