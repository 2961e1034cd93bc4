"""Telegram's sending limits as token buckets: ~30 messages/s overall, ~1/s per chat, 20/min per group.

A bucket holds a small burst and refills at the limit's rate; a send finding either bucket empty is refused
with the seconds until it would pass (429 retry_after). Only sends count, not edits: Telegram documents
limits for sends. The clock is injected so tests can drive it. This module keeps no record of refusals;
the emulator does.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Limits:
    global_per_second: float = 30.0
    global_burst: float = 30.0
    chat_per_second: float = 1.0
    chat_burst: float = 3.0
    group_per_minute: float = 20.0
    group_burst: float = 5.0


class TokenBucket:
    def __init__(self, *, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.updated = now

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated)
        self.tokens = min(self.capacity, self.tokens + elapsed * self.rate)
        self.updated = now

    def wait_needed(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class RateLimiter:
    def __init__(self, limits: Limits, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global = TokenBucket(rate=limits.global_per_second, capacity=limits.global_burst, now=clock())
        self._chats: dict[int, TokenBucket] = {}

    def _chat_bucket(self, chat_id: int, *, is_group: bool, now: float) -> TokenBucket:
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if is_group:
                rate, capacity = self.limits.group_per_minute / 60.0, self.limits.group_burst
            else:
                rate, capacity = self.limits.chat_per_second, self.limits.chat_burst
            bucket = self._chats[chat_id] = TokenBucket(rate=rate, capacity=capacity, now=now)
        return bucket

    def try_send(self, chat_id: int, *, is_group: bool) -> int | None:
        """Take a token from both buckets and return None, or take none and return retry_after seconds."""
        now = self._clock()
        chat = self._chat_bucket(chat_id, is_group=is_group, now=now)
        wait = max(self._global.wait_needed(now), chat.wait_needed(now))
        if wait > 0:
            return max(1, math.ceil(wait))
        self._global.tokens -= 1.0
        chat.tokens -= 1.0
        return None
