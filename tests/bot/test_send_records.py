"""What the outbox writes down about its sends: here, that an attempt starts, written before its request goes,
a group at a time and never more than a few ahead of the sending, most urgent first (bot/send_records.py).
The recorder of sends Telegram accepted is tested with the outbox (test_outbox.py)."""

from __future__ import annotations

import asyncio

import pytest

from bot.send_records import StartMarks
from storage.models import Priority


class Writes:
    """Records each write; every message is still held unless named in ``lost``."""

    def __init__(self, *, lost: set[int] | None = None, fail: bool = False) -> None:
        self.groups: list[list[int]] = []
        self.lost = lost or set()
        self.fail = fail

    async def __call__(self, message_ids: list[int]) -> set[int]:
        await asyncio.sleep(0)  # a database round trip
        if self.fail:
            raise ConnectionError("database gone")
        self.groups.append(message_ids)
        return set(message_ids) - self.lost


async def test_no_more_than_a_few_are_marked_ahead_of_the_sending_and_a_group_is_written_at_a_time() -> None:
    writes = Writes()
    marks = StartMarks(write=writes, ahead=4, group=2)
    waiting = [asyncio.create_task(marks.mark(n, rank=Priority.ROUTINE)) for n in range(1, 11)]
    await asyncio.sleep(0.01)
    assert writes.groups == [[1, 2, 3, 4]]  # as many as may be marked ahead, in one write
    assert [task.done() for task in waiting] == [True] * 4 + [False] * 6
    marks.gone()  # one has gone: not yet worth a write
    await asyncio.sleep(0.01)
    assert len(writes.groups) == 1
    marks.gone()  # a group's worth of places free: the next group
    await asyncio.sleep(0.01)
    assert writes.groups[1] == [5, 6]
    for _ in range(8):
        marks.gone()
        await asyncio.sleep(0.01)
    assert await asyncio.gather(*waiting) == [True] * 10
    assert sorted(n for group in writes.groups for n in group) == list(range(1, 11))


async def test_urgent_advice_is_marked_first_and_without_waiting_for_a_group() -> None:
    writes = Writes()
    marks = StartMarks(write=writes, ahead=4, group=2)
    routine = [asyncio.create_task(marks.mark(n, rank=Priority.ROUTINE)) for n in range(1, 9)]
    await asyncio.sleep(0.01)
    urgent = asyncio.create_task(marks.mark(99, rank=Priority.URGENT))
    await asyncio.sleep(0.01)
    assert not urgent.done()  # no place free: it waits for one
    marks.gone()
    assert await urgent is True
    assert writes.groups[1] == [99]  # the one free place went to it, ahead of the routine queue
    for _ in range(8):
        marks.gone()
        await asyncio.sleep(0.01)
    await asyncio.gather(*routine)


async def test_a_message_another_worker_took_over_is_not_to_be_sent_and_frees_its_place() -> None:
    marks = StartMarks(write=Writes(lost={2}), ahead=2, group=1)
    first, taken = await asyncio.gather(
        marks.mark(1, rank=Priority.ROUTINE), marks.mark(2, rank=Priority.ROUTINE)
    )
    assert (first, taken) == (True, False)
    assert await asyncio.wait_for(marks.mark(3, rank=Priority.ROUTINE), timeout=1)  # 2's place was freed


async def test_a_failed_write_fails_those_marks_and_the_next_ones_are_written_again() -> None:
    writes = Writes(fail=True)
    marks = StartMarks(write=writes, ahead=2, group=1)
    with pytest.raises(ConnectionError):
        await marks.mark(1, rank=Priority.ROUTINE)
    writes.fail = False
    assert await asyncio.wait_for(marks.mark(2, rank=Priority.ROUTINE), timeout=1)
    assert writes.groups == [[2]]
