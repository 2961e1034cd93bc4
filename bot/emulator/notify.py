"""A change counter that waiters can sleep on: the emulator's only way to wait, so nothing uses fixed sleeps.

Single event loop, no threads: checking a condition and grabbing the current event happen without an await
in between, so a change cannot slip past a waiter.
"""

import asyncio


class Signal:
    def __init__(self) -> None:
        self._version = 0
        self._event = asyncio.Event()

    @property
    def version(self) -> int:
        return self._version

    def bump(self) -> None:
        self._version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float | None) -> bool:
        """Sleep until the next bump (True) or until `seconds` pass (False); None waits for ever."""
        event = self._event
        if seconds is not None and seconds <= 0:
            return False
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            return False
        return True
