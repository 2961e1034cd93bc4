"""Running Aftercare: the bot, the scheduler and (in local mode) the Telegram emulator, in one event loop.

With no TELEGRAM_BOT_TOKEN it runs in local mode: the built-in Telegram emulator on EMULATOR_PORT, a
staff group chat inside it, a clock a person can move forward from the patient's phone page, and a fresh
demo invite printed at start. With a token it talks to Telegram (or TELEGRAM_API_BASE_URL), by long
polling, or by webhook when WEBHOOK_URL is set. SIGTERM and Ctrl+C stop it cleanly.

If Telegram cannot be reached at start (network down, Telegram failing), it does not exit: the staff console
(and its /healthz) starts anyway, and getMe is tried again with capped exponential back-off, each wait logged,
until Telegram answers or the service is stopped. A token Telegram refuses stops it with one line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlparse

from sqlalchemy import Engine
from starlette.types import ASGIApp
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, RetryAfter

from bot.app import Service, build
from bot.clock import Clock
from bot.emulator.emulator import Emulator
from bot.emulator.server import RunningServer, serve, start_server
from bot.inbound import ALLOWED_UPDATES
from bot.limits import SendLimits
from bot.links import LOCAL_BOT_USERNAME, bot_username, invite_link
from bot.settings import Settings
from bot.webhook import create_webhook_app
from bot.wording import when
from flows.catalogue import bundled_protocols
from storage.db import session_scope
from storage.followup import enrol_on_protocol
from storage.worker_names import HeldName, hold_first_free, hold_name

log = logging.getLogger(__name__)
LOCAL_STAFF_GROUP = "Pain Clinic staff"
NAME_WAIT_SECONDS = 10  # a WORKER_NAME still held: its previous process may be a moment from gone
# Waits between getMe attempts while Telegram cannot be reached at start: 1, 2, 4 ... then every minute.
FIRST_WAIT_SECONDS = 1.0
LONGEST_WAIT_SECONDS = 60.0


@dataclass(frozen=True, kw_only=True)
class Companion:
    """Another web app served in the same process and event loop (e.g. the staff console).

    The bot knows nothing about it beyond this: the composition root (aftercare/cli.py) builds it."""

    name: str
    url: str
    host: str
    port: int
    app: ASGIApp
    notes: tuple[str, ...] = ()


CompanionFactory = Callable[[Settings, Engine, Clock], Companion]


@dataclass(kw_only=True)
class Running:
    service: Service
    emulator: Emulator | None = None
    servers: list[RunningServer] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def running(
    settings: Settings,
    engine: Engine,
    *,
    clock: Clock | None = None,
    emulator_port: int | None = None,
    limits: SendLimits | None = None,
) -> AsyncIterator[Running]:
    """Build everything (starting the emulator in local mode); the caller runs ``service.run``."""
    name = await asyncio.to_thread(hold_worker_name, settings, engine)
    try:
        async with _running(
            settings, engine, name.name, clock=clock, emulator_port=emulator_port, limits=limits
        ) as live:
            yield live
    finally:
        name.release()


def hold_worker_name(settings: Settings, engine: Engine) -> HeldName:
    """This process's name on its claims, held while it runs (storage/worker_names.py): WORKER_NAME, or the
    host's name (-2, -3... when other workers on the host have it). Under a name held before, the service
    takes that name's leftover claims back at once when it starts."""
    if settings.worker_name is None:
        return hold_first_free(engine, socket.gethostname())
    deadline = time.monotonic() + NAME_WAIT_SECONDS
    while (held := hold_name(engine, settings.worker_name)) is None:
        if time.monotonic() > deadline:
            raise SystemExit(
                f"aftercare: another running worker is named {settings.worker_name!r} (WORKER_NAME): "
                "each worker needs a name of its own"
            )
        time.sleep(0.5)
    return held


@contextlib.asynccontextmanager
async def _running(
    settings: Settings,
    engine: Engine,
    owner: str,
    *,
    clock: Clock | None,
    emulator_port: int | None,
    limits: SendLimits | None,
) -> AsyncIterator[Running]:
    clinic = settings.clinic
    clock = clock or Clock(movable=settings.local_mode)
    emulator: Emulator | None = None
    servers: list[RunningServer] = []
    staff_chat_id = settings.staff_chat_id
    if settings.local_mode:
        emulator = Emulator(bot_username=LOCAL_BOT_USERNAME)
        server = await serve(
            emulator, port=settings.emulator_port if emulator_port is None else emulator_port
        )
        servers.append(server)
        token, base_url = emulator.token, server.bot_api_url
        emulator.create_user(first_name="Sam")  # the demo patient, first so the phone page opens as Sam
        if staff_chat_id is None:
            nurse = emulator.create_user(first_name="Jo", last_name="(clinic nurse)")
            staff_chat_id = emulator.create_group(title=LOCAL_STAFF_GROUP, member_ids=[nurse.id]).id
    else:
        assert settings.telegram_bot_token is not None
        token, base_url = settings.telegram_bot_token, settings.telegram_api_base_url
    service = build(
        clinic=clinic,
        engine=engine,
        clock=clock,
        token=token,
        base_url=base_url,
        staff_chat_id=staff_chat_id,
        alert_amber=settings.alert_amber_to_staff_chat,
        tick_seconds=settings.tick_seconds,
        limits=limits or send_limits(settings),
        outbox_lease=timedelta(seconds=settings.outbox_lease_seconds),
        checkin_lease=timedelta(seconds=settings.checkin_lease_seconds),
        answer_wait=settings.outbox_answer_wait_seconds,
        owner=owner,
    )
    if emulator is not None:
        emulator.clock_now = lambda: clinic.local(clock.now())
        emulator.on_advance_clock = _clock_hook(service, clock)
    result = Running(service=service, emulator=emulator, servers=servers)
    try:
        yield result
    finally:
        for task in result.tasks:
            task.cancel()
        for server in reversed(servers):
            await server.aclose()


def send_limits(settings: Settings) -> SendLimits:
    """Telegram's limits for this worker: several senders on one token each take their share."""
    return SendLimits(per_second=settings.telegram_send_per_second, share=settings.telegram_senders)


def _clock_hook(service: Service, clock: Clock) -> Callable[[timedelta], Awaitable[str]]:
    async def advance(delta: timedelta) -> str:
        now = clock.advance(delta)
        report = await service.tick()
        local = service.clinic.local(now)
        sent = f"; {report.started} check-in(s) sent" if report.started else ""
        return f"Clinic time is now {local:%a %d %b %Y %H:%M}{sent}"

    return advance


async def run(
    settings: Settings,
    engine: Engine,
    *,
    companions: Sequence[CompanionFactory] = (),
    polling: bool | None = None,
) -> None:
    """Run until SIGTERM or Ctrl+C. ``polling`` False (or TELEGRAM_POLLING=false): a sender-only worker that
    runs the scheduler and the outbox but leaves Telegram's updates to the one process that polls."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    clock = Clock(movable=settings.local_mode)
    async with running(settings, engine, clock=clock) as live:
        served = []
        for factory in companions:  # first: the console and its /healthz work while Telegram is away
            companion = factory(settings, engine, clock)
            live.servers.append(await start_server(companion.app, host=companion.host, port=companion.port))
            served.append(companion)
        if not await wait_for_telegram(live.service.application.bot, stop):
            log.info("stopped before Telegram could be reached")
            return
        webhook = bool(settings.webhook_url) and not settings.local_mode
        if webhook:
            await _start_webhook(settings, live)
        _banner(settings, live, served)
        if polling is None:
            polling = settings.telegram_polling or settings.local_mode
        await live.service.run(stop, polling=polling and not webhook, receiving=webhook or polling)
    log.info("stopped cleanly")


async def wait_for_telegram(
    bot: Bot,
    stop: asyncio.Event,
    *,
    first_wait: float = FIRST_WAIT_SECONDS,
    longest_wait: float = LONGEST_WAIT_SECONDS,
) -> bool:
    """Ask Telegram who the bot is (getMe, through ``bot.initialize``) until it answers: True then. While it
    cannot be reached, wait and try again, doubling the wait up to ``longest_wait`` and logging each wait;
    False if ``stop`` is set meanwhile. A token Telegram refuses is not retried: SystemExit, one line (PTB's
    own message would print the token)."""
    wait = first_wait
    while True:
        try:
            await bot.initialize()
            return True
        except InvalidToken:
            raise SystemExit(
                "aftercare: Telegram refused TELEGRAM_BOT_TOKEN: set the token @BotFather gave the bot"
            ) from None
        except RetryAfter as exc:
            pause = max(wait, _seconds(exc.retry_after))
            log.warning("Telegram asks us to wait (429) before getMe; trying again in %g s", pause)
        except NetworkError as exc:  # TimedOut, refused connections and Telegram's 5xx included
            pause = wait
            log.warning(
                "Telegram's Bot API cannot be reached (%s); trying getMe again in %g s",
                type(exc).__name__,
                pause,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=pause)
            return False
        wait = min(wait * 2, longest_wait)


def _seconds(retry_after: float | timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, timedelta) else float(retry_after)


async def _start_webhook(settings: Settings, live: Running) -> None:
    assert settings.webhook_url and settings.webhook_secret
    path = urlparse(settings.webhook_url).path or "/"
    # Processing is the Receiver's, started by Service.run (receiving) as for polling.
    live.service.receiver.mode = "webhook"
    app = create_webhook_app(live.service.receiver, secret=settings.webhook_secret, path=path)
    bot = live.service.application.bot
    await bot.initialize()  # the bot's id (getMe) names the updates it records
    live.servers.append(await start_server(app, host=settings.webhook_listen, port=settings.webhook_port))
    await bot.set_webhook(
        url=settings.webhook_url, secret_token=settings.webhook_secret, allowed_updates=ALLOWED_UPDATES
    )


def demo_invite(settings: Settings, engine: Engine, clock: Clock, *, name: str = "Sam") -> str:
    """Enrol a demo patient whose injection was 4 hours ago; returns their invite link."""
    protocol = bundled_protocols()["sacroiliac-joint-injection"]
    now = clock.now()
    with session_scope(engine) as session:
        enrolment = enrol_on_protocol(
            session=session,
            clinic=settings.clinic,
            protocol=protocol,
            display_name=name,
            performed_at=now - timedelta(hours=4),
            diabetic=True,
            invite_ttl=timedelta(hours=settings.invite_ttl_hours),
            now=now,
            actor="demo",
        )
        first = min((c.due_at for c in enrolment.checkins), default=None)
        token = enrolment.invite_token
    log.info(
        "demo patient enrolled; first check-in %s",
        when(first, clinic=settings.clinic, now=now) if first else "-",
    )
    return invite_link(bot_username(settings), token)


def _banner(settings: Settings, live: Running, companions: Sequence[Companion]) -> None:
    lines = ["", "Aftercare is running."]
    for companion in companions:
        lines.append(f"  {companion.name}: {companion.url}")
        lines += [f"    {note}" for note in companion.notes]
    if live.emulator is not None:
        phone = live.servers[0].base_url + "/"
        link = demo_invite(settings, live.service.engine, live.service.clock)
        lines += [
            "Local mode: no TELEGRAM_BOT_TOKEN, so it runs its built-in Telegram emulator, SQLite and the "
            "demo clinic.",
            f"  The patient's phone:  {phone}",
            f"  A demo patient's invite link (paste it into the phone page): {link}",
            "  Use the clock buttons on the phone page to move time on (next morning, +1 day...).",
        ]
    else:
        mode = (
            f"webhook at {settings.webhook_url}"
            if settings.webhook_url and not settings.local_mode
            else "polling"
            if settings.telegram_polling
            else "not polling (a sender-only worker)"
        )
        lines.append(f"  Telegram: {mode}")
    lines += [f"  Database: {settings.database_url}", "Stop with Ctrl+C.", ""]
    print("\n".join(lines), flush=True)
