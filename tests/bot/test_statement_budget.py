"""What a patient's answer costs the database, held to a budget.

Every reply runs this path, and it is most of what a reply costs (docs/performance.md, section 1). A per-row
ORM read or write slipping back in (the first version ran about 20 statements a reply) would otherwise show
only as a slower benchmark. The statements counted are those run while the update is processed, in its own
transaction (including claiming the reply, which is sent straight after commit); the outbox's own claims and
its records of what was sent run in other tasks and are not counted here.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.bot.world import World

# BEGIN, take the update, the open check-in (with its episode and patient), the answer, retire the old
# buttons, the new state, the next question's buttons, the message, and claiming it for sending straight
# after commit: 9. Two to spare.
BUDGET = 11
PROCESSING: contextvars.ContextVar[bool] = contextvars.ContextVar("processing", default=False)


@pytest.fixture
def statements(world: World, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The SQL run while the service processes an update (a context variable marks that task)."""
    seen: list[str] = []
    inbound = world.service.inbound
    process_many = inbound.process_many

    async def marked(updates: Any) -> None:
        token = PROCESSING.set(True)
        try:
            await process_many(updates)
        finally:
            PROCESSING.reset(token)

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if PROCESSING.get():
            seen.append(" ".join(statement.split())[:80])

    monkeypatch.setattr(inbound, "process_many", marked)
    event.listen(Engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", note)


async def test_a_typed_answer_runs_a_handful_of_statements(world: World, statements: list[str]) -> None:
    phone = await world.join("Sam")
    await world.advance(timedelta(days=1, hours=1))  # Tuesday 10:00: the day-1 check-in
    await world.bot_says(phone, "Since your injection, have you had any of these")
    await world.delivered(phone)
    statements.clear()

    await world.reply(phone, "no", "weakness")  # the red-flag screen's next question

    assert 0 < len(statements) <= BUDGET, "\n".join(statements)
    assert sum(s.startswith("INSERT INTO callback_token") for s in statements) == 1  # all buttons at once
