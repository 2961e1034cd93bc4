"""The outbox sender on its own, against a stand-in for Telegram and a real database (SQLite, then
PostgreSQL): it holds at most BATCH claimed messages and claims the next ones before those run out, records
sends several to a transaction, keeps each chat's messages in order, and on stop finishes what it holds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import col, select

from bot.emulator import Emulator, FaultKind, RunningServer, serve
from bot.limits import SendLimits
from bot.outbox import BATCH, Outbox, Sent, SentRecorder
from bot.transport import AiohttpRequest, MessageSender
from storage.db import session_scope
from storage.messages import claim_outbound, enqueue_message, mark_attempts_started, mark_sent_many
from storage.models import MessagePurpose, OutboundMessage, OutboundStatus, Priority

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
FIRST_CHAT = 700_000_001
LEASE = timedelta(minutes=2)


@dataclass
class FakeTelegram:
    """Accepts every message. At each send it notes what the database holds: how many messages are claimed
    and not yet recorded, and whether an earlier message to the same chat is not yet recorded as sent."""

    engine: Engine
    received: dict[int, list[str]] = field(default_factory=dict)
    sent_in_order: list[str] = field(default_factory=list)
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
        self.sent_in_order.append(text)
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


# ------------------------------------------------------------------------------------------ urgent first


def _queue_one(engine: Engine, chat_id: int, text: str, priority: Priority) -> int:
    purpose = MessagePurpose.ADVICE if priority is Priority.URGENT else MessagePurpose.CHECKIN_QUESTION
    with session_scope(engine) as session:
        return enqueue_message(
            session=session, chat_id=chat_id, text=text, purpose=purpose, priority=priority, now=NOW
        )


async def test_urgent_advice_queued_mid_dispatch_goes_ahead_of_the_routine_backlog_in_chat_order(
    engine: Engine,
) -> None:
    """600 check-ins going out; a red flag's advice is queued after the 40th is sent, to a new chat and to a
    patient whose own check-in question is still far back in the queue. Each goes within the next claim,
    not behind the backlog, and that patient still gets the question before the advice."""
    _queue(engine, chats=600, per_chat=1)
    late_chat = FIRST_CHAT + 500  # its question is 500th in line
    telegram = FakeTelegram(engine)
    outbox = _outbox(engine, telegram, per_second=300.0)
    sending = telegram.send_html

    async def then_a_red_flag(**message: Any) -> int:
        sent = await sending(**message)
        if telegram.sends == 40:
            _queue_one(engine, 900_000_001, "Go to A&E now", Priority.URGENT)
            _queue_one(engine, late_chat, "Call 999 now", Priority.URGENT)
            outbox.wake.set()
        return sent

    telegram.send_html = then_a_red_flag  # type: ignore[method-assign]
    assert await outbox.drain() == 602
    order = telegram.sent_in_order
    for urgent in ("Go to A&E now", "Call 999 now"):
        # Within a claim or two: the backlog behind it is 560. Not 40 + BATCH: on a loaded machine the
        # records lag, the next claim waits for them, and the messages already held (up to BATCH, plus one
        # claim in flight) go first (seen at 108 with three test suites sharing two cores).
        assert order.index(urgent) < 40 + 2 * BATCH
    assert telegram.received[late_chat] == [f"message 1 to {late_chat}", "Call 999 now"]
    assert telegram.overtaking == []


# -------------------------------------------------------------------------------------- repeats bound


@dataclass
class Line:
    """Telegram's side, for real: the emulator over HTTP, one patient, and our sendMessage."""

    emulator: Emulator
    server: RunningServer
    request: AiohttpRequest
    chat_id: int

    def sender(self, *, answer_wait: float) -> MessageSender:
        bot_url = f"{self.server.bot_api_url}{self.emulator.token}"
        return MessageSender(request=self.request, bot_url=bot_url, answer_wait=answer_wait)

    def delivered(self) -> list[str]:
        return [entry.text for entry in self.emulator.transcript(self.chat_id) if entry.from_bot]


@pytest.fixture
async def line() -> AsyncIterator[Line]:
    emulator = Emulator(enforce_limits=False)
    server = await serve(emulator)
    patient = emulator.new_user("Ann")
    await patient.start()
    request = AiohttpRequest(read_timeout=0.5)  # every other call's answer is waited for this long
    await request.initialize()
    try:
        yield Line(emulator=emulator, server=server, request=request, chat_id=patient.chat_id)
    finally:
        await request.shutdown()
        await server.aclose()
        await emulator.aclose()


def _rows(engine: Engine) -> list[OutboundMessage]:
    with session_scope(engine) as session:
        return list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all())


async def _send_until_all_sent(outbox: Outbox) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(outbox.run(stop))
    try:
        await _until(lambda: {row.status for row in _rows(outbox.engine)} == {OutboundStatus.SENT})
    finally:
        stop.set()
        outbox.wake.set()
        await asyncio.wait_for(running, timeout=10)


async def _until(condition: Callable[[], bool], timeout: float = 20) -> None:  # noqa: ASYNC109
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


def _real_outbox(engine: Engine, sender: MessageSender) -> Outbox:
    return Outbox(
        engine=engine,
        telegram=sender,
        owner="worker-1",
        now=lambda: datetime.now(UTC),
        limits=SendLimits(per_second=300.0, private_chat_interval=0.0),
        idle_wait=0.1,
    )


async def test_a_slow_but_successful_send_is_waited_for_and_delivered_once(
    engine: Engine, line: Line
) -> None:
    """Finding 8: Telegram answered after PTB's usual read timeout; the send was taken for failed, sent
    again, and the patient got it twice. Now its answer is waited for."""
    for text in ("first", "second", "third"):
        _queue_one(engine, line.chat_id, text, Priority.REPLY)
    line.emulator.faults.script(FaultKind.SLOW, methods={"sendMessage"}, slow_seconds=1.0)  # > 0.5 s
    await _send_until_all_sent(_real_outbox(engine, line.sender(answer_wait=5.0)))
    assert line.delivered() == ["first", "second", "third"]
    assert [row.unanswered_attempts for row in _rows(engine)] == [0, 0, 0]


async def test_a_send_unanswered_past_the_wait_is_sent_again_and_arrives_at_most_once_more(
    engine: Engine, line: Line
) -> None:
    """The bound: a message arrives more than once only after an attempt got no answer within the wait
    (Telegram had it all the same), once more for each such attempt; each is counted on the message."""
    for text in ("first", "second"):
        _queue_one(engine, line.chat_id, text, Priority.REPLY)
    line.emulator.faults.script(FaultKind.SLOW, methods={"sendMessage"}, slow_seconds=2.0)
    await _send_until_all_sent(_real_outbox(engine, line.sender(answer_wait=0.3)))
    first, second = _rows(engine)
    assert (first.unanswered_attempts, second.unanswered_attempts) == (1, 0)
    assert line.delivered() == ["first"] * (1 + first.unanswered_attempts) + ["second"]  # in order, still


# ------------------------------------------------------------------------------- restarted under its name


async def test_a_worker_restarted_under_its_name_sends_its_claims_at_once_and_only_started_ones_may_repeat(
    engine: Engine,
) -> None:
    """Left as a worker killed mid-dispatch leaves them: 30 claimed under its name, the first 10 sent of
    which 8 recorded, 5 more written down as started. Restarted at the same moment (its leases still run):
    every unrecorded one goes at once, and only the 7 whose attempt had started count as possibly repeated.
    Another worker still waits for the leases."""
    _queue(engine, chats=40, per_chat=1)
    with session_scope(engine) as session:
        claimed = claim_outbound(session=session, now=NOW, owner="worker-1", lease=LEASE, limit=30)
        ids = [message.id or 0 for message in claimed]
        mark_attempts_started(
            session=session, message_ids=ids[:15], owner="worker-1", now=NOW, lease_until=NOW + LEASE
        )
        mark_sent_many(session=session, sent=[(message_id, 1) for message_id in ids[:8]], now=NOW)

    other = _outbox(engine, FakeTelegram(engine))
    other.owner = "worker-2"
    assert await other.drain() == 10  # only the 10 never claimed: worker-1's leases have not run out

    restarted = _outbox(engine, telegram := FakeTelegram(engine))
    restarted.owner = "worker-1"
    taken = restarted.take_back_claims()
    assert (taken.may_have_arrived, taken.never_sent) == (ids[8:15], ids[15:])
    assert await restarted.drain() == 22  # at NOW still: no lease waited for
    assert sum(len(texts) for texts in telegram.received.values()) == 22
    repeats = {row.id: row.unanswered_attempts for row in _rows(engine)}
    assert [n for n, count in repeats.items() if count] == ids[8:15]
    assert _statuses(engine) == {OutboundStatus.SENT: 40}
