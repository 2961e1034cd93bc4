"""`Emulator`: the local Telegram in one object, usable in-process by tests and served over HTTP by app.py.

It adds to the state and the simulated people: condition-based waiting (never fixed sleeps), the webhook's
lifecycle, the host application's "move the clock" hook, and shutdown. Construct it, optionally `serve()`
it, point PTB's `base_url` at it, and drive people with `user_sends`, `press` or an `EmulatorUser`.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from bot.emulator.errors import EmulatorUsageError
from bot.emulator.model import TranscriptEntry
from bot.emulator.simulate import UserActions
from bot.emulator.updates import BY_SET_WEBHOOK
from bot.emulator.user import EmulatorUser
from bot.emulator.webhook import WebhookConfig, WebhookDelivery

MORNING_HOUR = 10  # when morning check-ins are usually due (protocols ask at 10:00)
_RECHECK_SECONDS = 0.01


class ClockStep(StrEnum):
    HOUR = "hour"
    MORNING = "morning"
    DAY = "day"
    WEEK = "week"


class Emulator(UserActions):
    """State and behaviour of the emulated Telegram; see docs/emulator.md.

    Set `on_advance_clock` (async, takes how far to move, returns text for the page such as the new time)
    to show the page's clock control, and `clock_now` (the host's simulated aware "now") so "next morning"
    is worked out on the host's clock rather than the real one.
    """

    def user(self, user_id: int) -> EmulatorUser:
        self._user(user_id)
        return EmulatorUser(self, user_id)

    def new_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
    ) -> EmulatorUser:
        """Create a person and return a handle for driving them (see EmulatorUser)."""
        user = self.create_user(
            first_name=first_name,
            user_id=user_id,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        return self.user(user.id)

    # -- waiting on conditions -----------------------------------------------------------------------
    # These take `timeout` (ASYNC109 silenced): a test reads better as `wait_for_bot_message(..., timeout=5)`
    # than wrapped in asyncio.timeout, and the TimeoutError message says what was awaited.

    async def wait_until(
        self,
        condition: Callable[[], bool],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        what: str = "condition",
    ) -> None:
        """Return as soon as `condition()` holds; TimeoutError (saying what) after `timeout` seconds.

        The condition is checked after every change in the emulator, and every few milliseconds in case it
        depends on something else (a list a bot handler appends to).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or self.closed:
                raise TimeoutError(f"emulator: gave up waiting for {what} after {timeout} s")
            await self.changed.wait(min(remaining, _RECHECK_SECONDS))

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: Callable[[TranscriptEntry], bool] | None = None,
        *,
        after_message_id: int = 0,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> TranscriptEntry:
        """The first bot message in the chat after `after_message_id` matching `predicate` (as it is now)."""
        found: list[TranscriptEntry] = []

        def arrived() -> bool:
            found[:] = [
                entry
                for entry in self.transcript(chat_id)
                if entry.from_bot
                and entry.message_id > after_message_id
                and (predicate is None or predicate(entry))
            ]
            return bool(found)

        await self.wait_until(arrived, timeout=timeout, what=f"a bot message in chat {chat_id}")
        return found[0]

    async def wait_for_answer(self, query_id: str, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Return once the bot has answered the callback query (the button stops spinning)."""
        await self.wait_until(
            lambda: query_id in self.callbacks and self.callbacks[query_id].answered,
            timeout=timeout,
            what=f"an answer to callback query {query_id}",
        )

    # -- webhook lifecycle ---------------------------------------------------------------------------

    async def set_webhook(self, config: WebhookConfig, *, drop_pending_updates: bool) -> None:
        await self.delete_webhook(drop_pending_updates=drop_pending_updates)
        self.updates.abort_poll(BY_SET_WEBHOOK)
        self.webhook = WebhookDelivery(
            config=config, queue=self.updates, retry=self.webhook_retry, wall_clock=self.wall_clock
        )
        self.webhook.start()

    async def delete_webhook(self, *, drop_pending_updates: bool) -> None:
        if drop_pending_updates:
            self.updates.drop_all()
        if self.webhook is not None:
            await self.webhook.stop()
            self.webhook = None

    # -- the host's clock ----------------------------------------------------------------------------

    def clock_step(self, step: ClockStep) -> timedelta:
        if step is ClockStep.HOUR:
            return timedelta(hours=1)
        if step is ClockStep.DAY:
            return timedelta(days=1)
        if step is ClockStep.WEEK:
            return timedelta(days=7)
        now = self.clock_now() if self.clock_now is not None else datetime.now(UTC).astimezone()
        morning = now.replace(hour=MORNING_HOUR, minute=0, second=0, microsecond=0)
        if morning <= now:
            morning += timedelta(days=1)
        return morning - now

    async def advance_clock(self, step: ClockStep) -> str:
        if self.on_advance_clock is None:
            raise EmulatorUsageError("the host application registered no clock")
        text = await self.on_advance_clock(self.clock_step(step))
        self.changed.bump()
        return text

    # -- shutdown ------------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Stop webhook delivery and release every waiting request, so the server can stop at once."""
        self.closed = True
        self.updates.close()
        if self.webhook is not None:
            await self.webhook.stop()
        self.changed.bump()

    async def pause(self, seconds: float) -> None:
        """Sleep for a slow-response fault, cut short by shutdown."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while not self.closed and loop.time() < deadline:
            await self.changed.wait(deadline - loop.time())
