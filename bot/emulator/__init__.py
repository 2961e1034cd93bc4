"""A local stand-in for the Telegram Bot API, so Aftercare's real PTB code runs without a token.

The emulator speaks the Bot API over HTTP (PTB points at it with `base_url`), keeps simulated patients and a
staff group, enforces Telegram's limits, injects faults on request, and serves "the patient's phone" page.
It must stay a standalone Telegram stand-in: nothing here imports flows/, storage/ or console/.
"""

from bot.emulator.app import create_app
from bot.emulator.emulator import Emulator
from bot.emulator.errors import ApiError, EmulatorUsageError
from bot.emulator.faults import FaultKind, FaultPlan
from bot.emulator.limits import Limits
from bot.emulator.model import Button, Notice, Throttle, TranscriptEntry
from bot.emulator.server import RunningServer, serve, start_server
from bot.emulator.user import EmulatorUser
from bot.emulator.webhook import RetryPolicy

__all__ = [
    "ApiError",
    "Button",
    "Emulator",
    "EmulatorUsageError",
    "EmulatorUser",
    "FaultKind",
    "FaultPlan",
    "Limits",
    "Notice",
    "RetryPolicy",
    "RunningServer",
    "Throttle",
    "TranscriptEntry",
    "create_app",
    "serve",
    "start_server",
]
