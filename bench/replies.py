"""Benchmark 1: patient replies handled end to end per second, Aftercare against a bare PTB echo bot.

Both bots run in this process against the emulator over HTTP on loopback, with the emulator's limits off
(and Aftercare's SendLimits fast), one after the other, each on a fresh emulator: first with the emulator in
a process of its own (as Telegram's servers are not on the bot's CPU), then in this one (`--emulator`).
N simulated patients are mid check-in (day 7 of a sacroiliac joint injection, asked "pain now, 0-10"); in
each round every patient types "4" at once, and a reply counts when the bot's first message lands back in
that chat. Between rounds (not timed) each check-in is put back on the pain question, so every round
measures the same work: update in, recorded, parsed, triaged, answer and next question written, reply sent
through the outbox. The echo bot (PTB's Updater.start_polling and a MessageHandler that replies with the
same text) is the ceiling: what PTB and the emulator cost on this machine with no work at all. A third
bot, the echo bot answering with Aftercare's own reply (HTML and a keyboard), shows how much of the gap is
the richer message rather than Aftercare's work.

    .venv/bin/python bench/replies.py [--patients 200] [--rounds 5] [--emulator both] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import json
import os
import pstats
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _common import (
    FAST,
    MONDAY_9AM,
    benchmark_service,
    enrol_chats,
    header,
    local_settings,
    only_checkin_due,
    past_first_job_tick,
    percentile,
    table,
    write_results,
)
from _telegram_side import Round, start_side
from sqlalchemy import update
from sqlmodel import col, select
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.clock import Clock
from flows.state import CheckInState
from storage.db import make_engine, session_scope
from storage.migrate import upgrade
from storage.models import CheckIn, CheckInStatus, OutboundMessage, OutboundStatus

UNFINISHED = (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.FAILED)


@dataclass(frozen=True, kw_only=True)
class Reply:
    """A message as Aftercare queued it: HTML text and, for a question, its inline keyboard (JSON)."""

    text: str
    markup_json: str | None


async def echo_bot(
    patients: int, rounds: int, *, own_process: bool, sending: Reply | None = None
) -> list[Round]:
    """PTB's echo bot. With ``sending``, it answers every message with that message instead of an echo
    (Aftercare's reply: HTML and a keyboard), to tell the cost of a richer message from Aftercare's work."""
    telegram = await start_side(in_own_process=own_process)
    markup = (
        InlineKeyboardMarkup.de_json(json.loads(sending.markup_json), None)
        if sending and sending.markup_json
        else None
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text is not None
        if sending is None:
            await update.effective_message.reply_text(update.effective_message.text)
        else:
            await update.effective_message.reply_text(
                sending.text, parse_mode=ParseMode.HTML, reply_markup=markup
            )

    application = ApplicationBuilder().token(telegram.token).base_url(telegram.bot_api_url).build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    chats = await telegram.create_users(patients, first_user_id=700_000_001)
    results = []
    try:
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=10)
            await telegram.round(chats, "warm up")
            for _ in range(rounds):
                results.append(await telegram.round(chats, "4"))
            await telegram.wait_for_parked_poll()
            await application.updater.stop()
            await application.stop()
    finally:
        await telegram.aclose()
    return results


async def aftercare(
    patients: int, rounds: int, database: Path, profile: cProfile.Profile | None, *, own_process: bool
) -> tuple[list[Round], list[Round], Reply]:
    """Returns (the "No" rounds that walk every patient to the pain question, the timed pain rounds, the
    reply the last patient got to "4")."""
    url = f"sqlite:///{database}"
    upgrade(url)
    engine = make_engine(url)
    settings = local_settings(url)
    clock = Clock(offset=MONDAY_9AM - datetime.now(UTC), movable=True)
    telegram = await start_side(in_own_process=own_process)
    service = benchmark_service(
        engine=engine,
        settings=settings,
        clock=clock,
        limits=FAST,
        token=telegram.token,
        bot_api_url=telegram.bot_api_url,
        staff_chat_id=await telegram.staff_group(),
    )
    now = clock.now()
    chats = await telegram.create_users(patients, first_user_id=800_000_001)
    enrol_chats(engine, chats, now=now, performed_at=now - timedelta(days=7))
    only_checkin_due(engine, key="day7", due_at=now + timedelta(days=1))
    stop = asyncio.Event()
    task = asyncio.create_task(service.run(stop))
    walk: list[Round] = []
    timed: list[Round] = []
    try:
        await until(lambda: service.application.running, what="the service to start")
        await past_first_job_tick()
        only_checkin_due(engine, key="day7", due_at=now)
        await service.tick()
        await telegram.wait_for_a_message_in(chats, timeout=120)
        await settled(engine)
        for _ in range(3):  # the red-flag screen comes first: rf.ces, rf.leg_weakness, rf.fever
            walk.append(await telegram.round(chats, "No"))
            await settled(engine)
        at_pain = open_states(engine)
        assert len(at_pain) == patients
        assert {CheckInState.from_json(s).current_question for s in at_pain.values()} == {"pain.now"}
        for _ in range(rounds):
            restore(engine, at_pain)
            if profile is not None:
                profile.enable()
            timed.append(await telegram.round(chats, "4"))
            if profile is not None:
                profile.disable()
            await settled(engine)
        reply = last_reply(engine, chats[-1])
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await telegram.aclose()
        engine.dispose()
    return walk, timed, reply


async def until(condition: Callable[[], bool], *, what: str, timeout: float = 120) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout} s")
        await asyncio.sleep(0.01)


def last_reply(engine: Any, chat_id: int) -> Reply:
    with session_scope(engine) as session:
        query = select(OutboundMessage).where(OutboundMessage.chat_id == chat_id)
        message = session.exec(query.order_by(col(OutboundMessage.id).desc())).first()
        assert message is not None
        return Reply(text=message.text, markup_json=message.reply_markup_json)


async def settled(engine: Any) -> None:
    """Everything queued has been sent (so the next round's first bot message is its reply)."""

    def empty() -> bool:
        with session_scope(engine) as session:
            query = select(OutboundMessage.id).where(col(OutboundMessage.status).in_(UNFINISHED))
            return session.exec(query).first() is None

    await until(empty, what="the outbox to empty")


def open_states(engine: Any) -> dict[int, str]:
    with session_scope(engine) as session:
        rows = session.exec(select(CheckIn).where(CheckIn.status == CheckInStatus.AWAITING_REPLY)).all()
        return {row.id: row.state_json or "" for row in rows if row.id is not None}


def restore(engine: Any, states: dict[int, str]) -> None:
    with session_scope(engine) as session:
        for checkin_id, state in states.items():
            session.exec(update(CheckIn).where(col(CheckIn.id) == checkin_id).values(state_json=state))


def summary(name: str, rounds: list[Round]) -> dict[str, Any]:
    latencies = [x for r in rounds for x in r.latencies]
    replies = sum(r.replies for r in rounds)
    seconds = sum(r.seconds for r in rounds)
    return {
        "bot": name,
        "replies": replies,
        "seconds": round(seconds, 3),
        "replies_per_second": round(replies / seconds, 1),
        "latency_ms_p50": round(percentile(latencies, 0.5) * 1000, 1),
        "latency_ms_p95": round(percentile(latencies, 0.95) * 1000, 1),
        "latency_ms_max": round(max(latencies) * 1000, 1),
        "rounds_per_second": [round(r.rate, 1) for r in rounds],
    }


MODES = {"own-process": True, "same-process": False}  # where the emulator runs (bench/_telegram_side.py)


async def compare(args: argparse.Namespace, mode: str, profile: cProfile.Profile | None) -> dict[str, Any]:
    """The echo bot, Aftercare and the echo bot sending Aftercare's reply, one after the other."""
    own_process = MODES[mode]
    print(f"emulator: {mode}")
    echo = await echo_bot(args.patients, args.rounds, own_process=own_process)
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "bench.sqlite3"
        walk, timed, reply = await aftercare(
            args.patients, args.rounds, database, profile, own_process=own_process
        )
    same_reply = await echo_bot(args.patients, args.rounds, own_process=own_process, sending=reply)
    rows = [
        summary("echo (PTB Updater)", echo),
        summary("aftercare (pain answer)", timed),
        summary("aftercare ('No' to a red flag)", walk),
        summary("echo bot sending Aftercare's reply", same_reply),
    ]
    table(
        [
            [r["bot"], r["replies"], r["replies_per_second"], r["latency_ms_p50"], r["latency_ms_p95"]]
            for r in rows
        ],
        ["bot", "replies", "replies/s", "p50 ms", "p95 ms"],
    )
    ratio = rows[1]["replies_per_second"] / rows[0]["replies_per_second"]
    same_ratio = rows[1]["replies_per_second"] / rows[3]["replies_per_second"]
    print(f"\nratio aftercare/echo: {ratio:.2f} (target >= 0.70: {'met' if ratio >= 0.7 else 'NOT met'})")
    print(f"ratio aftercare/(echo bot sending Aftercare's reply): {same_ratio:.2f} (for the analysis)\n")
    return {
        "emulator": mode,
        "echo": rows[0],
        "aftercare": rows[1],
        "aftercare_red_flag_no": rows[2],
        "echo_sending_aftercares_reply": rows[3],
        "ratio": round(ratio, 3),
        "ratio_to_echo_sending_aftercares_reply": round(same_ratio, 3),
        "target_ratio": 0.7,
        "met": ratio >= 0.7,
    }


async def main(args: argparse.Namespace) -> None:
    info = header("Reply handling: Aftercare vs the bare PTB echo bot (emulator over HTTP, limits off)")
    print(f"patients: {args.patients} in flight per round, {args.rounds} rounds; database: SQLite file\n")
    profile = cProfile.Profile() if args.profile else None
    modes = list(MODES) if args.emulator == "both" else [args.emulator]
    results: dict[str, Any] = {"patients": args.patients, "rounds": args.rounds}
    for mode in modes:
        results[mode] = await compare(args, mode, profile)
    if profile is not None:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        print(out.getvalue())
        (Path(__file__).parent / "results").mkdir(exist_ok=True)
        profile.dump_stats(str(Path(__file__).parent / "results" / "replies.prof"))
    write_results("replies", info, results)


if __name__ == "__main__":
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--patients", type=int, default=200, help="patients answering at once (200)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds (5)")
    parser.add_argument("--profile", action="store_true", help="cProfile the Aftercare rounds")
    parser.add_argument(
        "--emulator",
        choices=[*MODES, "both"],
        default="both",
        help="run the emulator in its own process (as Telegram is), in this one, or each in turn (both)",
    )
    asyncio.run(main(parser.parse_args()))
