"""Our side of Telegram's limits: at most 30 messages in any second overall (never bunched up), 1 a second per
private chat, 20 a minute per group, everyone paused by a 429. Checked with a fake clock: no real waiting."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.limits import SendLimits, Turnstile
from storage.models import Priority


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_message_a_second_to_a_chat_and_thirty_a_second_overall() -> None:
    clock = FakeClock()
    limits = SendLimits(clock=clock)
    assert limits.take(1) == 0.0
    assert limits.take(1) == pytest.approx(1.0)  # the same chat waits a second
    clock.now += 1 / 30
    assert limits.take(2) == 0.0  # another chat only waits its turn overall
    clock.now += 0.01
    assert limits.take(3) > 0  # too soon after the last send overall


def test_a_stall_never_releases_a_burst() -> None:
    clock = FakeClock()
    limits = SendLimits(clock=clock)
    waiting = list(range(1, 101))  # 100 senders, one per patient
    sent_at: list[float] = []
    for chat in waiting:
        if limits.take(chat) == 0.0:
            sent_at.append(clock.now)
    clock.now += 5.0  # the event loop was busy for five seconds: every sender wakes at once
    for chat in waiting[1:]:
        if limits.take(chat) == 0.0:
            sent_at.append(clock.now)
    assert len([t for t in sent_at if t == clock.now]) == 1  # one goes now, the others ask again later


def test_a_429_pauses_everyone_for_retry_after() -> None:
    clock = FakeClock()
    limits = SendLimits(clock=clock)
    limits.pause(7)
    assert limits.take(42) == pytest.approx(7.0)
    clock.now += 7
    assert limits.take(42) == 0.0


def test_a_group_chat_gets_at_most_twenty_a_minute() -> None:
    clock = FakeClock()
    limits = SendLimits(clock=clock)
    assert limits.take(-100) == 0.0
    clock.now += 2.9
    assert limits.take(-100) > 0
    clock.now += 0.1
    assert limits.take(-100) == 0.0


def _send_whenever_allowed(
    limits: SendLimits, clock: FakeClock, *, seconds: float, late: float
) -> list[float]:
    """One sender with a queue that never empties, asking again when told, ``late`` seconds after."""
    sent: list[float] = []
    end = clock.now + seconds
    for chat in itertools.count(1):
        while (wait := limits.take(chat)) > 0:
            clock.now += wait + late
        if clock.now >= end:
            return sent
        sent.append(clock.now)
        clock.now += late
    raise AssertionError("unreachable")


def test_senders_sharing_a_token_split_the_rate() -> None:
    clock = FakeClock()
    limits = SendLimits(clock=clock, share=3)  # 30/s shared by three senders: 10/s each
    sent = _send_whenever_allowed(limits, clock, seconds=10, late=0.0)
    assert 99 <= len(sent) <= 100
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sent, sent[10:], strict=False))  # 10 in any second


def test_a_sender_woken_late_every_time_still_sends_thirty_a_second() -> None:
    # The event loop wakes a sleeping sender a millisecond or two late. A 1/30 s metronome would count the
    # next slot from that late moment (30 x 2 ms = 6% of the rate, lost for good); the window catches up.
    clock = FakeClock()
    limits = SendLimits(clock=clock)
    sent = _send_whenever_allowed(limits, clock, seconds=10, late=0.002)
    assert len(sent) >= 297  # 300 with no lateness at all; a metronome manages 284
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(sent, sent[30:], strict=False))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(min_value=0, max_value=1.5), st.integers(min_value=1, max_value=40)),
        min_size=1,
        max_size=200,
    )
)
def test_whatever_the_timing_the_limits_hold(steps: list[tuple[float, int]]) -> None:
    clock = FakeClock()
    limits = SendLimits(clock=clock)
    sent: list[tuple[float, int]] = []
    for advance, chat in steps:
        clock.now += advance
        if limits.take(chat) == 0.0:
            sent.append((clock.now, chat))
    times = [t for t, _ in sent]
    assert all(b - a >= 1.0 - 1e-9 for a, b in zip(times, times[30:], strict=False))  # 30 in any second
    assert all(b - a >= 0.9 / 30 - 1e-9 for a, b in itertools.pairwise(times))  # never bunched up
    for chat in {c for _, c in sent}:
        chat_times = [t for t, c in sent if c == chat]
        assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(chat_times))


async def test_queued_senders_go_one_slot_apart_in_the_order_they_came() -> None:
    limits = SendLimits(per_second=200.0)  # the real clock; 200 a second keeps this quick
    order: list[int] = []

    async def send(chat: int) -> None:
        await limits.wait_turn(chat)
        order.append(chat)

    await asyncio.gather(*(send(chat) for chat in range(1, 21)))
    assert order == list(range(1, 21))


async def test_urgent_advice_takes_the_next_slot_ahead_of_routine_senders_already_waiting() -> None:
    limits = SendLimits(per_second=100.0)  # the real clock; 10 ms apart keeps this quick
    order: list[str] = []
    first_went = asyncio.Event()

    async def send(name: str, chat: int, rank: int) -> None:
        await limits.wait_turn(chat, rank=rank)
        order.append(name)
        first_went.set()

    routine = [asyncio.create_task(send(f"check-in {n}", n, Priority.ROUTINE)) for n in range(1, 31)]
    await first_went.wait()
    arrived_after = len(order)
    reply = asyncio.create_task(send("reply", 100, Priority.REPLY))
    urgent = asyncio.create_task(send("urgent", 101, Priority.URGENT))
    await asyncio.gather(*routine, reply, urgent)
    # Past only the send already holding the turnstile when it came, never behind the queue; then the reply.
    went = order.index("urgent")
    assert went <= arrived_after + 1 and order[went + 1] == "reply"
    assert [name for name in order if name.startswith("check-in")] == [f"check-in {n}" for n in range(1, 31)]


async def test_a_sender_cancelled_while_queued_holds_no_one_up() -> None:
    turnstile = Turnstile()
    order: list[str] = []

    async def through(name: str, rank: int) -> None:
        async with turnstile.turn(rank):
            order.append(name)
            await asyncio.sleep(0.01)

    first = asyncio.create_task(through("first", 1))
    await asyncio.sleep(0)
    cancelled = asyncio.create_task(through("cancelled", 0))
    last = asyncio.create_task(through("last", 2))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.gather(first, last)
    assert order == ["first", "last"]
    assert cancelled.cancelled()
