"""The outbox sender on its own, against a stand-in for Telegram and a real database (SQLite, then
PostgreSQL): it holds at most BATCH claimed messages and claims the next ones before those run out, records
sends several to a transaction, keeps each chat's messages in order, and on stop finishes what it holds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.limits import SendLimits
from bot.outbox import BATCH, Outbox, Sent, SentRecorder
from storage.db import session_scope
from storage.messages import enqueue_message
from storage.models import MessagePurpose, OutboundMessage, OutboundStatus, Priority

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FIRST_CHAT = 700_000_001


@dataclass
class FakeTelegram:
    """Accepts every message. At each send it notes what the database holds: how many messages are claimed
    and not yet recorded, and whether an earlier message to the same chat is not yet recorded as sent."""

    engine: Engine
    received: dict[int, list[str]] = field(default_factory=dict)
    held_at_each_send: list[int] = field(default_factory=list)
    overtaking: list[str] = field(default_factory=list)
    stop_after_first: asyncio.Event | None = None

    @property
    def sends(self) -> int:
        return len(self.held_at_each_send)

    async def send_html(self, *, chat_id: int, text: str, markup_json: str | None) -> int:
        with session_scope(self.engine) as session:
            held = session.exec(
                select(func.count())
                .select_from(OutboundMessage)
                .where(OutboundMessage.status == OutboundStatus.SENDING)
            ).one()
            this = session.exec(select(OutboundMessage).where(OutboundMessage.text == text)).one()
            earlier_unsent = session.exec(
                select(OutboundMessage).where(
                    OutboundMessage.chat_id == chat_id,
                    col(OutboundMessage.id) < this.id,
                    OutboundMessage.status != OutboundStatus.SENT,
                )
            ).all()
        self.held_at_each_send.append(held)
        if earlier_unsent:
            self.overtaking.append(text)
        self.received.setdefault(chat_id, []).append(text)
        if self.stop_after_first is not None:
            self.stop_after_first.set()
        return self.sends


def _queue(engine: Engine, *, chats: int, per_chat: int) -> None:
    """``per_chat`` messages to each chat, queued round-robin (so claim order and chat order differ)."""
    with session_scope(engine) as session:
        for n in range(1, per_chat + 1):
            for chat in range(FIRST_CHAT, FIRST_CHAT + chats):
                enqueue_message(
                    session=session,
                    chat_id=chat,
                    text=f"message {n} to {chat}",
                    purpose=MessagePurpose.REPLY,
                    priority=Priority.ROUTINE,
                    now=NOW,
                )


def _outbox(engine: Engine, telegram: FakeTelegram, *, per_second: float = 300.0) -> Outbox:
    limits = SendLimits(per_second=per_second, private_chat_interval=0.0)  # the real clock
    return Outbox(engine=engine, telegram=telegram, owner="test", now=lambda: NOW, limits=limits)


def _statuses(engine: Engine) -> dict[OutboundStatus, int]:
    with session_scope(engine) as session:
        rows = session.exec(
            select(OutboundMessage.status, func.count()).group_by(col(OutboundMessage.status))
        ).all()
    return {OutboundStatus(status): count for status, count in rows}


async def test_the_next_messages_are_claimed_before_the_held_ones_run_out_and_never_more_than_a_batch(
    engine: Engine,
) -> None:
    _queue(engine, chats=2 * BATCH, per_chat=1)
    telegram = FakeTelegram(engine)
    # Near Telegram's pace (far faster, most of what is held would be sent and waiting to be recorded).
    outbox = _outbox(engine, telegram, per_second=60.0)
    unsent_at_each_claim: list[int] = []
    claimed = 0
    claim = outbox._claim

    def watched_claim(limit: int) -> list[Any]:
        nonlocal claimed
        unsent_at_each_claim.append(claimed - telegram.sends)
        batch = claim(limit)
        claimed += len(batch)
        return batch

    outbox._claim = watched_claim  # type: ignore[method-assign]
    assert await outbox.drain() == 2 * BATCH
    assert _statuses(engine) == {OutboundStatus.SENT: 2 * BATCH}
    assert max(telegram.held_at_each_send) <= BATCH  # the most a kill -9 can leave to be sent twice
    assert unsent_at_each_claim[0] == 0
    assert all(unsent > 0 for unsent in unsent_at_each_claim[1:-1])  # sending never waited for a claim


async def test_each_chat_gets_its_messages_in_order_and_the_next_only_after_the_last_is_recorded(
    engine: Engine,
) -> None:
    _queue(engine, chats=40, per_chat=3)
    telegram = FakeTelegram(engine)
    assert await _outbox(engine, telegram).drain() == 120
    assert telegram.overtaking == []
    for chat, texts in telegram.received.items():
        assert texts == [f"message {n} to {chat}" for n in (1, 2, 3)]
    assert _statuses(engine) == {OutboundStatus.SENT: 120}


async def test_once_stopped_it_claims_nothing_more_and_sends_and_records_what_it_holds(
    engine: Engine,
) -> None:
    _queue(engine, chats=2 * BATCH, per_chat=1)
    stop = asyncio.Event()
    telegram = FakeTelegram(engine, stop_after_first=stop)
    handled = await _outbox(engine, telegram).drain(stop)
    assert handled == telegram.sends <= BATCH  # the first claim only
    assert _statuses(engine) == {OutboundStatus.SENT: handled, OutboundStatus.PENDING: 2 * BATCH - handled}


async def test_sends_close_together_are_recorded_in_one_write_and_a_lone_one_at_once() -> None:
    writes: list[list[Sent]] = []

    async def write(sent: list[Sent]) -> None:
        writes.append(sent)

    recorder = SentRecorder(write=write, delay=0.2)
    await asyncio.wait_for(recorder.record((1, 101)), timeout=0.1)  # nothing written lately: at once
    await asyncio.gather(*(recorder.record((n, 100 + n)) for n in range(2, 6)))
    assert writes == [[(1, 101)], [(2, 102), (3, 103), (4, 104), (5, 105)]]


async def test_a_failed_write_fails_every_send_waiting_for_it() -> None:
    async def write(sent: list[Sent]) -> None:
        raise ConnectionError("the database went away")

    recorder = SentRecorder(write=write)
    results = await asyncio.gather(*(recorder.record((n, n)) for n in range(3)), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError] * 3


def _reply_claimed_in_its_transaction(engine: Engine, outbox: Outbox, chat_id: int, text: str) -> Any:
    """What bot/inbound.py does: queue a reply, claim it in the same transaction; returns the claim."""
    with session_scope(engine) as session:
        enqueue_message(
            session=session,
            chat_id=chat_id,
            text=text,
            purpose=MessagePurpose.REPLY,
            priority=Priority.REPLY,
            now=NOW,
        )
        claimed = outbox.claim_replies(session, chat_ids=[chat_id], now=NOW)
        return claimed[0] if claimed else None


async def test_a_reply_claimed_in_its_own_transaction_is_sent_at_once_without_a_claim_of_the_outbox(
    engine: Engine,
) -> None:
    telegram = FakeTelegram(engine)
    outbox = _outbox(engine, telegram)
    claims: list[int] = []
    claim = outbox._claim

    def watched_claim(limit: int) -> list[Any]:
        claims.append(limit)
        return claim(limit)

    outbox._claim = watched_claim  # type: ignore[method-assign]
    reply = _reply_claimed_in_its_transaction(engine, outbox, FIRST_CHAT, "thank you")
    assert reply is not None and reply.text == "thank you"
    outbox.send_claimed(reply)
    assert outbox.holding == 1
    await asyncio.wait_for(outbox.finish_held(), timeout=5)
    assert telegram.received == {FIRST_CHAT: ["thank you"]}
    assert _statuses(engine) == {OutboundStatus.SENT: 1}
    assert claims == []


async def test_a_reply_waits_its_turn_behind_an_earlier_message_to_the_same_chat(engine: Engine) -> None:
    _queue(engine, chats=1, per_chat=1)  # "message 1 to ...", due and not yet sent
    telegram = FakeTelegram(engine)
    outbox = _outbox(engine, telegram)
    earlier = _reply_claimed_in_its_transaction(engine, outbox, FIRST_CHAT, "the reply")
    assert earlier is not None and earlier.text == f"message 1 to {FIRST_CHAT}"  # the earlier one goes first
    outbox.send_claimed(earlier)
    await outbox.finish_held()
    assert await outbox.drain() == 1  # the reply, once the earlier message is recorded
    assert telegram.received == {FIRST_CHAT: [f"message 1 to {FIRST_CHAT}", "the reply"]}
    assert telegram.overtaking == []


async def test_no_reply_is_claimed_while_the_sender_holds_a_full_batch(engine: Engine) -> None:
    telegram = FakeTelegram(engine)
    outbox = _outbox(engine, telegram)
    release = asyncio.Event()
    sending = telegram.send_html

    async def held_up(**message: Any) -> int:
        await release.wait()
        return await sending(**message)

    telegram.send_html = held_up  # type: ignore[method-assign]
    for n in range(BATCH):
        claimed = _reply_claimed_in_its_transaction(engine, outbox, FIRST_CHAT + n, f"reply {n}")
        outbox.send_claimed(claimed)
    assert outbox.holding == BATCH
    assert _reply_claimed_in_its_transaction(engine, outbox, FIRST_CHAT + BATCH, "one too many") is None
    release.set()
    await outbox.finish_held()
    assert await outbox.drain() == 1  # left for the outbox's own claim, and sent
    assert _statuses(engine) == {OutboundStatus.SENT: BATCH + 1}
    assert max(telegram.held_at_each_send) <= BATCH


async def test_a_burst_of_sends_is_recorded_without_waiting_out_the_delay() -> None:
    writes: list[list[Sent]] = []

    async def write(sent: list[Sent]) -> None:
        writes.append(sent)

    recorder = SentRecorder(write=write, delay=30.0, enough=5)
    await recorder.record((1, 101))  # at once: nothing written lately
    # A long delay since: fewer than `enough` would wait it out; five are written straight away.
    await asyncio.wait_for(asyncio.gather(*(recorder.record((n, 100 + n)) for n in range(2, 7))), timeout=5)
    assert writes == [[(1, 101)], [(n, 100 + n) for n in range(2, 7)]]


async def test_sends_taken_by_an_open_transaction_are_not_written_again_and_wait_for_its_commit() -> None:
    writes: list[list[Sent]] = []

    async def write(sent: list[Sent]) -> None:
        writes.append(sent)

    recorder = SentRecorder(write=write, delay=0.05)
    await recorder.record((1, 101))
    waiting = [asyncio.create_task(recorder.record((n, 100 + n))) for n in (2, 3)]
    await asyncio.sleep(0)
    taken = recorder.take()  # the inbound batch's transaction records them
    assert taken is not None and taken.sent == [(2, 102), (3, 103)]
    assert recorder.take() is None
    await asyncio.sleep(0.1)  # past the delay: the writer finds nothing of its own to write
    assert writes == [[(1, 101)]] and not any(task.done() for task in waiting)
    recorder.recorded(taken)  # committed
    await asyncio.wait_for(asyncio.gather(*waiting), timeout=1)
    assert writes == [[(1, 101)]]


async def test_sends_given_back_by_a_rolled_back_transaction_are_written_after_all() -> None:
    writes: list[list[Sent]] = []

    async def write(sent: list[Sent]) -> None:
        writes.append(sent)

    recorder = SentRecorder(write=write, delay=0.05)
    await recorder.record((1, 101))
    first = asyncio.create_task(recorder.record((2, 102)))
    await asyncio.sleep(0)
    taken = recorder.take()
    assert taken is not None
    second = asyncio.create_task(recorder.record((3, 103)))  # a new group, waiting for its write
    await asyncio.sleep(0)
    recorder.give_back(taken)  # rolled back: they join the group waiting
    await asyncio.wait_for(asyncio.gather(first, second), timeout=1)
    assert writes == [[(1, 101)], [(2, 102), (3, 103)]]
    alone = asyncio.create_task(recorder.record((4, 104)))
    await asyncio.sleep(0)
    taken = recorder.take()
    assert taken is not None
    recorder.give_back(taken)  # nothing else waiting: written on their own
    await asyncio.wait_for(alone, timeout=1)
    assert writes[-1] == [(4, 104)]


async def test_a_message_queued_while_a_pass_finishes_is_sent_at_once_not_at_the_next_look(
    engine: Engine,
) -> None:
    """Woken just after a pass's last claim (a reply queued then): the wake-up is not lost."""
    telegram = FakeTelegram(engine)
    outbox = _outbox(engine, telegram)
    outbox.idle_wait = 600.0  # a lost wake-up would wait this long
    claim = outbox._claim
    queued_late = False

    def claim_then_queue(limit: int) -> list[Any]:
        nonlocal queued_late
        batch = claim(limit)
        if not batch and not queued_late:  # this pass is about to end: now a reply is queued
            queued_late = True
            _queue(engine, chats=1, per_chat=1)
            outbox.wake.set()
        return batch

    outbox._claim = claim_then_queue  # type: ignore[method-assign]
    stop, sent = asyncio.Event(), asyncio.Event()
    telegram.stop_after_first = sent
    running = asyncio.create_task(outbox.run(stop))
    try:
        await asyncio.wait_for(sent.wait(), timeout=10)
    finally:
        stop.set()
        outbox.wake.set()
        await running
    assert telegram.received == {FIRST_CHAT: [f"message 1 to {FIRST_CHAT}"]}


async def test_when_every_held_message_waits_to_be_recorded_the_write_goes_at_once() -> None:
    """Waiting out the delay could merge nothing more: the sender has nothing else in flight."""
    writes: list[list[Sent]] = []
    held = 2

    async def write(sent: list[Sent]) -> None:
        writes.append(sent)

    recorder = SentRecorder(write=write, delay=600.0, enough=50, held=lambda: held)
    await recorder.record((1, 101))
    await asyncio.wait_for(asyncio.gather(recorder.record((2, 102)), recorder.record((3, 103))), timeout=5)
    assert writes == [[(1, 101)], [(2, 102), (3, 103)]]


async def test_a_recorder_that_is_not_quiet_leaves_its_sends_to_the_transaction_that_takes_them() -> None:
    writes: list[list[Sent]] = []

    async def write(sent: list[Sent]) -> None:
        writes.append(sent)

    quiet = asyncio.Event()  # patients' updates are being processed: their transactions record the sends
    recorder = SentRecorder(write=write, delay=0.0, quiet=quiet)
    waiting = asyncio.create_task(recorder.record((1, 101)))
    await asyncio.sleep(0.05)
    assert writes == [] and not waiting.done()
    taken = recorder.take()
    assert taken is not None
    recorder.recorded(taken)
    await asyncio.wait_for(waiting, timeout=1)
    quiet.set()
    await asyncio.sleep(0.05)
    assert writes == []  # its own write found them taken


async def test_sends_recorded_in_the_replys_own_transaction_make_room_for_it(engine: Engine) -> None:
    """A full batch held, every message sent and waiting to be recorded: the transaction that records them
    may claim its reply, since both commit together or not at all."""
    telegram = FakeTelegram(engine)
    outbox = _outbox(engine, telegram)
    quiet = asyncio.Event()
    outbox.recorder.quiet = quiet  # records wait for a transaction to take them
    all_sent = asyncio.Event()
    sending = telegram.send_html

    async def counted(**message: Any) -> int:
        telegram_id = await sending(**message)
        if telegram.sends == BATCH:
            all_sent.set()
        return telegram_id

    telegram.send_html = counted  # type: ignore[method-assign]
    for n in range(BATCH):
        outbox.send_claimed(_reply_claimed_in_its_transaction(engine, outbox, FIRST_CHAT + n, f"reply {n}"))
    await asyncio.wait_for(all_sent.wait(), timeout=10)
    chat = FIRST_CHAT + BATCH
    with session_scope(engine) as session:
        enqueue_message(
            session=session,
            chat_id=chat,
            text="the reply",
            purpose=MessagePurpose.REPLY,
            priority=Priority.REPLY,
            now=NOW,
        )
        assert outbox.claim_replies(session, chat_ids=[chat], now=NOW) == []  # no room
        taken = outbox.take_sent(session, now=NOW)
        assert taken is not None and len(taken.sent) == BATCH
        [reply] = outbox.claim_replies(session, chat_ids=[chat], now=NOW, recording=taken)
    outbox.sent_recorded(taken)
    outbox.send_claimed(reply)
    quiet.set()  # nothing more to process: the outbox records the reply itself
    await asyncio.wait_for(outbox.finish_held(), timeout=10)
    assert _statuses(engine) == {OutboundStatus.SENT: BATCH + 1}
