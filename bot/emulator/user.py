"""`EmulatorUser`: one simulated person, for tests that read like a patient's story.

    patient = emulator.new_user("Ann")
    await patient.start("INVITE-TOKEN")
    welcome = await patient.next_bot_message()
    await patient.press_button("Yes")

`next_bot_message` keeps a cursor, so each call returns the bot's next message to this person; waiting is
always on a condition, never a fixed sleep. A thin wrapper: the Emulator does the work.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.emulator.errors import EmulatorUsageError, Json
from bot.emulator.model import TranscriptEntry

if TYPE_CHECKING:
    from bot.emulator.emulator import Emulator


class EmulatorUser:
    def __init__(self, emulator: "Emulator", user_id: int) -> None:
        self.emulator = emulator
        self.id = user_id
        self._cursor = 0

    @property
    def chat_id(self) -> int:
        return self.id

    def _moved_to(self, message: Json) -> Json:
        self._cursor = max(self._cursor, int(message["message_id"]))
        return message

    async def send(self, text: str) -> Json:
        return self._moved_to(await self.emulator.user_sends(self.id, text))

    async def start(self, token: str | None = None) -> Json:
        return self._moved_to(await self.emulator.user_starts(self.id, token))

    async def edit(self, message_id: int, text: str) -> Json:
        return await self.emulator.user_edits(self.id, message_id, text)

    async def press(self, message_id: int, data: str) -> str:
        return await self.emulator.press(self.id, message_id, data)

    async def press_button(self, text: str) -> str:
        """Tap the button labelled `text` on the newest bot message that shows one."""
        for entry in reversed(self.transcript()):
            for button in (b for row in entry.buttons for b in row):
                if entry.from_bot and button.text == text and button.callback_data is not None:
                    return await self.press(entry.message_id, button.callback_data)
        raise EmulatorUsageError(f"no button labelled {text!r} in the chat")

    async def send_photo(self, caption: str = "") -> Json:
        return self._moved_to(await self.emulator.user_sends_photo(self.id, caption=caption))

    async def send_location(self, latitude: float, longitude: float) -> Json:
        return self._moved_to(
            await self.emulator.user_sends_location(self.id, latitude=latitude, longitude=longitude)
        )

    async def block(self) -> None:
        await self.emulator.block(self.id)

    async def unblock(self) -> None:
        await self.emulator.unblock(self.id)

    def transcript(self) -> list[TranscriptEntry]:
        return self.emulator.transcript(self.id)

    async def next_bot_message(
        self,
        predicate: Callable[[TranscriptEntry], bool] | None = None,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> TranscriptEntry:
        """The bot's next message to this person after the last one seen (or after their last message)."""
        entry = await self.emulator.wait_for_bot_message(
            self.id, predicate, after_message_id=self._cursor, timeout=timeout
        )
        self._cursor = entry.message_id
        return entry
