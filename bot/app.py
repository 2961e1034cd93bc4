"""Wiring the Telegram edge: the PTB Application, the desk, the outbox, inbound updates and the scheduler.

``build`` assembles the parts; ``Service.run`` runs them in one event loop until ``stop`` is set:
- inbound: long polling (bot/polling.py: our own loop, so a batch is kept before the next getUpdates
  acknowledges it) or a webhook endpoint (bot/webhook.py); both hand updates to the same Receiver
  (bot/receiving.py), whose supervised task processes them;
- the scheduler: one repeating job on PTB's JobQueue (APScheduler), ticking over due rows in our tables;
- the outbox sender, woken as soon as something is queued.
PTB's Updater is not used (it acknowledges updates before they are handled, and parses a whole batch at
once); its Application, Bot, handlers, JobQueue and request machinery are.

Stopping (SIGTERM) never depends on how the parts ended: each is stopped in turn, whatever the one before it
raised, and the Application is always stopped before it is shut down (else PTB refuses: "This Application is
still running!").
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.clock import Clock
from bot.conversation import Conversation
from bot.desk import Desk
from bot.handlers import register
from bot.inbound import Inbound
from bot.limits import SendLimits
from bot.outbox import LEASE as OUTBOX_LEASE
from bot.outbox import Outbox
from bot.polling import Poller
from bot.receiving import Receiver
from bot.scheduler import LEASE as CHECKIN_LEASE
from bot.scheduler import Scheduler, TickReport
from bot.staff_alerts import StaffAlerts
from bot.transport import SEND_ANSWER_WAIT, AiohttpRequest, MessageSender, UpdateFetcher
from flows.clinic import Clinic

log = logging.getLogger(__name__)
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
    receiver: Receiver
    poller: Poller
    tick_seconds: float

    async def tick(self) -> TickReport:
        """One scheduler pass now (also what the JobQueue runs)."""
        report = await asyncio.to_thread(self.scheduler.tick, now=self.clock.now())
        self.outbox.wake.set()
        return report

    async def run(self, stop: asyncio.Event, *, polling: bool = True, receiving: bool | None = None) -> None:
        """Run until ``stop``. ``polling``: this process long-polls Telegram (only one may per token).
        ``receiving`` (default: ``polling``): updates reach this process (polling or webhook), so it also
        processes them, starting with those recorded before the last stop; a sender-only worker leaves them
        to the receiver."""
        receiving = polling if receiving is None else receiving
        self.receiver.mode = "polling" if polling else "webhook"
        async with self.application:
            await self.application.start()
            tasks: dict[str, asyncio.Task[None]] = {}
            try:
                job_queue = self.application.job_queue
                assert job_queue is not None, "install python-telegram-bot[job-queue]"
                job_queue.run_repeating(
                    self._tick_job,
                    interval=self.tick_seconds,
                    first=0.5,
                    name="scheduler-tick",
                    job_kwargs={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
                )
                # Claims this worker's name still holds from its last run (killed, or stopped mid-send) go
                # out again now: no other running process has the name, so no one else is working on them.
                await asyncio.to_thread(self._take_back_claims)
                tasks["outbox"] = asyncio.create_task(self.outbox.run(stop), name="outbox")
                if receiving:
                    # Set while nothing received waits: the outbox then records its own sends.
                    self.outbox.recorder.quiet = self.receiver.quiet
                    await self._adopt_old_rows()
                    tasks["processing"] = asyncio.create_task(
                        self.receiver.process_forever(), name="processing"
                    )
                if polling:
                    tasks["polling"] = asyncio.create_task(self.poller.run(stop), name="polling")
                await stop.wait()
            finally:
                await self._stop(tasks)

    def _take_back_claims(self) -> None:
        self.outbox.take_back_claims()
        self.scheduler.take_back_claims()

    async def _adopt_old_rows(self) -> None:
        try:
            await asyncio.to_thread(self.inbound.adopt_old_rows)
        except Exception:
            log.warning(
                "could not give older updates this bot's id (tried again at the next start)", exc_info=True
            )

    async def _stop(self, tasks: dict[str, asyncio.Task[None]]) -> None:
        """Each part in turn, whatever the one before raised: polling (a cancelled getUpdates acknowledges
        nothing), then what was received is processed if that is quick (else at the next start), then the
        outbox finishes what it holds, then the Application."""
        polling = tasks.pop("polling", None)
        if polling is not None:
            await _cancelled(polling)
        processing = tasks.pop("processing", None)
        if processing is not None:
            if not processing.done():
                await self.receiver.drain(SHUTDOWN_GRACE_SECONDS)
            await _cancelled(processing)
            self.outbox.recorder.quiet = None
            self.receiver.quiet.set()  # stopping: whatever waits for it writes now
        sender = tasks.pop("outbox", None)
        if sender is not None:
            await self._drain_outbox(sender)
        await self.application.stop()

    async def _drain_outbox(self, sender: asyncio.Task[None]) -> None:
        """The sender claims nothing more and finishes the messages it holds (a message cut off mid-send
        would stay leased, holding back that patient's later messages until it expires); then what is due
        and still queued (the replies to the last updates, a staff alert) is sent, within the grace."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_GRACE_SECONDS
        try:
            await asyncio.wait_for(asyncio.shield(sender), timeout=SHUTDOWN_GRACE_SECONDS)
            sent = await asyncio.wait_for(self.outbox.drain(), timeout=max(deadline - loop.time(), 0.1))
            if sent:
                log.info("sent %s queued messages before stopping", sent)
        except TimeoutError:
            log.warning(
                "outbox still sending after %s s; the rest goes at the next start", SHUTDOWN_GRACE_SECONDS
            )
            await _cancelled(sender)
        except Exception:
            log.exception("the outbox could not be drained; the rest goes at the next start")

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
    long_poll = AiohttpRequest(connection_pool_size=1)  # the one long poll (PTB starts and closes it)
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .updater(None)
        .request(requests)
        .get_updates_request(long_poll)
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
    receiver = Receiver(inbound=inbound, mode="polling")
    poller = Poller(
        bot=application.bot,
        fetcher=UpdateFetcher(request=long_poll, bot_url=application.bot.base_url),
        receiver=receiver,
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
        receiver=receiver,
        poller=poller,
        tick_seconds=tick_seconds,
    )


async def _cancelled(task: asyncio.Task[None]) -> None:
    """Cancel ``task`` and wait for it to end; what it died of (if anything) is logged, never raised."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # we are being cancelled ourselves, not just the task we cancelled
    except Exception:
        log.exception("task %s had failed", task.get_name())
