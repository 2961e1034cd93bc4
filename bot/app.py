"""Wiring the Telegram edge: the PTB Application, the desk, the outbox, inbound updates and the scheduler.

``build`` assembles the parts; ``Service.run`` runs them in one event loop until ``stop`` is set:
- inbound: long polling (our own loop, so a batch is committed before the next getUpdates acknowledges it)
  or a webhook endpoint (see bot/webhook.py);
- the scheduler: one repeating job on PTB's JobQueue (APScheduler), ticking over due rows in our tables;
- the outbox sender, woken as soon as something is queued.
PTB's Updater is not used (it acknowledges updates before they are handled); its Application, Bot,
handlers, JobQueue and request machinery are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TimedOut
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.clock import Clock
from bot.conversation import Conversation
from bot.desk import Desk
from bot.handlers import register
from bot.inbound import ALLOWED_UPDATES, Inbound
from bot.limits import SendLimits
from bot.outbox import LEASE as OUTBOX_LEASE
from bot.outbox import Outbox
from bot.scheduler import LEASE as CHECKIN_LEASE
from bot.scheduler import Scheduler, TickReport
from bot.staff_alerts import StaffAlerts
from bot.transport import SEND_ANSWER_WAIT, AiohttpRequest, MessageSender
from flows.clinic import Clinic

log = logging.getLogger(__name__)
POLL_TIMEOUT = 20
# Updates recorded and waiting to be processed before polling pauses: ten of Telegram's batches.
RECEIVED_AHEAD = 1000
# Updates processed in one transaction at most; their replies go once it commits.
PROCESS_TOGETHER = 40
SHUTDOWN_GRACE_SECONDS = 15


@dataclass(kw_only=True)
class Service:
    clinic: Clinic
    engine: Engine
    clock: Clock
    application: Application[Any, Any, Any, Any, Any, Any]
    desk: Desk
    scheduler: Scheduler
    outbox: Outbox
    inbound: Inbound
    tick_seconds: float

    async def tick(self) -> TickReport:
        """One scheduler pass now (also what the JobQueue runs)."""
        report = await asyncio.to_thread(self.scheduler.tick, now=self.clock.now())
        self.outbox.wake.set()
        return report

    async def run(self, stop: asyncio.Event, *, polling: bool = True, receiving: bool | None = None) -> None:
        """Run until ``stop``. ``polling``: this process long-polls Telegram (only one may per token).
        ``receiving`` (default: ``polling``): updates reach this process (polling or webhook), so it also
        processes those recorded before the last stop; a sender-only worker leaves them to the receiver."""
        receiving = polling if receiving is None else receiving
        async with self.application:
            await self.application.start()
            job_queue = self.application.job_queue
            assert job_queue is not None, "install python-telegram-bot[job-queue]"
            job_queue.run_repeating(
                self._tick_job,
                interval=self.tick_seconds,
                first=0.5,
                name="scheduler-tick",
                job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
            )
            # Claims this worker's name still holds from its last run (killed, or stopped mid-send) go out
            # again now: no other running process has the name, so no one else is working on them.
            await asyncio.to_thread(self._take_back_claims)
            backlog = await self.inbound.process_backlog() if receiving else 0
            if backlog:
                log.info("processed %s updates recorded before the last stop", backlog)
            sender = asyncio.create_task(self.outbox.run(stop), name="outbox")
            poller = asyncio.create_task(self.poll(stop), name="polling") if polling else None
            try:
                await stop.wait()
            finally:
                if poller is not None:
                    poller.cancel()  # a cancelled getUpdates acknowledges nothing: safe
                    with contextlib.suppress(asyncio.CancelledError):
                        await poller
                # The sender claims nothing more and finishes the messages it holds: a message cut off
                # mid-send would stay leased, holding back that patient's later messages until it expires.
                try:
                    await asyncio.wait_for(sender, timeout=SHUTDOWN_GRACE_SECONDS)
                except TimeoutError:
                    log.warning("outbox still sending after %s s; stopping it", SHUTDOWN_GRACE_SECONDS)
                await self.application.stop()

    def _take_back_claims(self) -> None:
        self.outbox.take_back_claims()
        self.scheduler.take_back_claims()

    async def poll(self, stop: asyncio.Event) -> None:
        """Long polling, and processing what it receives, side by side.

        Each batch is committed to our database before the next getUpdates acknowledges it; the next poll
        then goes out at once, while the batch is processed (the updates are ours from the moment they are
        recorded: one that is not processed before a crash is processed at the next start). Waiting for
        each batch to be processed before polling again left the bot idle for a third of the time, waiting
        on Telegram's answer (docs/performance.md, section 1)."""
        received: asyncio.Queue[tuple[int, Update | None]] = asyncio.Queue(maxsize=RECEIVED_AHEAD)
        # Set while nothing received waits to be processed: the outbox then records its sends itself;
        # otherwise the transactions that process the updates record them (SentRecorder.quiet).
        quiet = asyncio.Event()
        quiet.set()
        self.outbox.recorder.quiet = quiet
        processing = asyncio.create_task(self._process_received(received, quiet), name="processing")
        try:
            await self._receive(stop, received, quiet)
        finally:
            # Stopping: what has been received is recorded; process it now if that is quick, else it is
            # processed at the next start.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(received.join(), timeout=SHUTDOWN_GRACE_SECONDS)
            processing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await processing
            self.outbox.recorder.quiet = None
            quiet.set()  # stopping: whatever waits for it writes now

    async def _receive(
        self, stop: asyncio.Event, received: asyncio.Queue[tuple[int, Update | None]], quiet: asyncio.Event
    ) -> None:
        bot = self.application.bot
        await bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        delay = 1.0
        while not stop.is_set():
            try:
                updates = await bot.get_updates(
                    offset=offset, timeout=POLL_TIMEOUT, allowed_updates=ALLOWED_UPDATES
                )
            except Conflict:
                log.error("another process is polling this bot token; only one may poll (retrying in 5 s)")
                await asyncio.sleep(5)
                continue
            except InvalidToken:
                log.error("Telegram refused the bot token (TELEGRAM_BOT_TOKEN)")
                raise
            except (NetworkError, TimedOut) as exc:
                log.warning("getUpdates failed (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            if not updates:
                delay = 1.0
                continue
            quiet.clear()  # processing is coming: leave the outbox's records to it
            try:
                fresh = await asyncio.to_thread(self.inbound.record, [u.to_dict() for u in updates])
            except Exception:
                # Not acknowledged (the offset stays): Telegram gives the batch again on the next call.
                log.exception("recording %s updates failed; retrying in %.0f s", len(updates), delay)
                if received.empty():
                    quiet.set()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
                continue
            delay = 1.0
            offset = updates[-1].update_id + 1
            parsed = {u.update_id: u for u in updates}
            for update_id in fresh:  # waits here only while RECEIVED_AHEAD updates are still unprocessed
                await received.put((update_id, parsed.get(update_id)))
            if received.empty():  # all of them repeats, recorded before
                quiet.set()

    async def _process_received(
        self, received: asyncio.Queue[tuple[int, Update | None]], quiet: asyncio.Event
    ) -> None:
        """In the order received, up to PROCESS_TOGETHER at a time in one transaction (what has arrived
        while the last ones were processed: one at a time when things are quiet)."""
        while True:
            batch = [await received.get()]
            while len(batch) < PROCESS_TOGETHER and not received.empty():
                batch.append(received.get_nowait())
            quiet.clear()
            try:
                await self.inbound.process_many(batch)
            except Exception:
                # Recorded, so not lost: processed at the next start (or left for staff to see).
                log.exception("updates %s could not be processed now", [update_id for update_id, _ in batch])
            finally:
                for _ in batch:
                    received.task_done()
            if received.empty():
                quiet.set()
            # Let the sends and the next poll move between batches (processing holds the event loop).
            await asyncio.sleep(0)

    async def _tick_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            report = await self.tick()
        except Exception:
            log.exception("scheduler tick failed")
            return
        if report.started or report.missed or report.unanswered:
            log.info("tick: %s", report)


def build(
    *,
    clinic: Clinic,
    engine: Engine,
    clock: Clock,
    token: str,
    base_url: str,
    staff_chat_id: int | None,
    alert_amber: bool,
    tick_seconds: float,
    owner: str | None = None,
    limits: SendLimits | None = None,
    outbox_lease: timedelta = OUTBOX_LEASE,
    checkin_lease: timedelta = CHECKIN_LEASE,
    answer_wait: float = SEND_ANSWER_WAIT,
) -> Service:
    """The service, its claims made under ``owner``: a name no other running process may have, since the
    service takes that name's claims back when it starts (storage/worker_names.py holds one). Default: a
    name of this process's own, host and process id."""
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    requests = AiohttpRequest(connection_pool_size=64)  # bot/transport.py says why not PTB's default
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .updater(None)
        .request(requests)
        .get_updates_request(AiohttpRequest(connection_pool_size=1))  # the one long poll
        .build()
    )
    staff = StaffAlerts(clinic=clinic, staff_chat_id=staff_chat_id, alert_amber=alert_amber)
    conversation = Conversation(clinic=clinic, staff=staff)
    desk = Desk(clinic=clinic, conversation=conversation, staff_chat_id=staff_chat_id)
    register(application, desk)
    outbox = Outbox(
        engine=engine,
        telegram=MessageSender(request=requests, bot_url=application.bot.base_url, answer_wait=answer_wait),
        owner=owner,
        now=clock.now,
        limits=limits or SendLimits(),
        lease=outbox_lease,
    )
    inbound = Inbound(
        engine=engine,
        application=application,
        clinic=clinic,
        now=clock.now,
        on_processed=outbox.wake.set,
        outbox=outbox,
    )
    scheduler = Scheduler(
        engine=engine, clinic=clinic, conversation=conversation, owner=owner, lease=checkin_lease
    )
    return Service(
        clinic=clinic,
        engine=engine,
        clock=clock,
        application=application,
        desk=desk,
        scheduler=scheduler,
        outbox=outbox,
        inbound=inbound,
        tick_seconds=tick_seconds,
    )
