"""The outbox: queued once, claimed under a lease, most urgent first, sent in order per chat, retried or given
up, each attempt's state kept, a restarted worker's claims taken back at once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlmodel import Session

from storage.messages import (
    TELEGRAM_MAX_TEXT,
    ClaimedMessage,
    claim_next_for_chats,
    claim_outbound,
    enqueue_message,
    get_outbound,
    mark_attempts_started,
    mark_dead,
    mark_retry,
    mark_sent,
    mark_sent_many,
    outbox_backlog,
    queued_in,
    take_back_claims,
)
from storage.models import MessagePurpose, OutboundMessage, OutboundStatus, Priority
from tests.storage.factories import NOW

LEASE = timedelta(seconds=30)
SECOND = timedelta(seconds=1)
CHAT, OTHER_CHAT, THIRD_CHAT = -1001234567890, 8_123_456_789, 8_123_456_790


def _queue(
    session: Session,
    text: str = "How is your pain today?",
    chat_id: int = CHAT,
    *,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> OutboundMessage:
    message_id = enqueue_message(
        session=session,
        chat_id=chat_id,
        text=text,
        purpose=MessagePurpose.CHECKIN_QUESTION,
        priority=Priority.ROUTINE,
        now=NOW,
        dedupe_key=dedupe_key,
        not_before=not_before,
    )
    message = session.get(OutboundMessage, message_id)
    assert message is not None
    return message


def _claim(
    session: Session, *, at: timedelta = timedelta(0), owner: str = "a", limit: int = 10
) -> list[OutboundMessage]:
    return claim_outbound(session=session, now=NOW + at, owner=owner, lease=LEASE, limit=limit)


def test_a_retried_handler_queues_a_message_once(session: Session) -> None:
    first = _queue(session, dedupe_key="checkin:1:question:pain")
    again = _queue(session, text="different text", dedupe_key="checkin:1:question:pain")
    without_key = [_queue(session), _queue(session)]

    assert again.id == first.id and again.text == "How is your pain today?"
    assert len({m.id for m in [first, *without_key]}) == 3
    assert first.status == OutboundStatus.PENDING and first.not_before == NOW
    # written with a Core INSERT, yet the session's own object: what session.get returns, changes saved
    queued = without_key[0]
    assert session.get(OutboundMessage, queued.id) is queued
    queued.text = "changed"
    session.flush()
    session.expire(queued)
    assert queued.text == "changed"


def test_text_longer_than_telegram_allows_is_refused_when_queued(session: Session) -> None:
    with pytest.raises(ValueError, match="4096"):
        _queue(session, text="x" * (TELEGRAM_MAX_TEXT + 1))


def test_a_claimed_message_is_leased_and_taken_over_after_the_lease(session: Session) -> None:
    message = _queue(session)

    assert _claim(session, owner="a") == [message]
    assert (message.status, message.lease_owner, message.attempts) == (OutboundStatus.SENDING, "a", 1)
    assert _claim(session, at=LEASE - SECOND, owner="b") == []
    assert _claim(session, at=LEASE, owner="b") == [message]
    assert (message.lease_owner, message.attempts) == ("b", 2)


def test_messages_to_one_chat_go_one_at_a_time_in_order(session: Session) -> None:
    question = _queue(session, "question")
    advice = _queue(session, "advice")
    elsewhere = _queue(session, "other chat", chat_id=OTHER_CHAT)

    assert _claim(session) == [question, elsewhere]
    assert _claim(session) == []  # advice waits for the question
    mark_sent(session=session, message_id=question.id or 0, telegram_message_id=11, now=NOW)
    assert _claim(session) == [advice]


def test_a_message_waiting_for_a_retry_holds_back_later_ones(session: Session) -> None:
    question = _queue(session, "question")
    advice = _queue(session, "advice")
    _claim(session)

    assert mark_retry(
        session=session,
        message_id=question.id or 0,
        owner="a",
        not_before=NOW + 5 * SECOND,
        error="RetryAfter(5)",
        now=NOW,
    )
    assert question.status == OutboundStatus.FAILED and question.last_error == "RetryAfter(5)"
    assert _claim(session, at=SECOND) == []
    assert _claim(session, at=5 * SECOND) == [question]
    assert advice.status == OutboundStatus.PENDING


def test_a_message_queued_for_later_does_not_hold_back_the_others(session: Session) -> None:
    reminder = _queue(session, "reminder", not_before=NOW + timedelta(hours=4))
    reply = _queue(session, "reply")

    assert _claim(session) == [reply]
    assert _claim(session, at=timedelta(hours=4)) == [reminder]


def test_sent_is_recorded_once_and_dead_messages_are_never_retried(session: Session) -> None:
    sent, dead = _queue(session), _queue(session, chat_id=OTHER_CHAT)
    _claim(session)

    assert mark_sent(session=session, message_id=sent.id or 0, telegram_message_id=99, now=NOW + SECOND)
    assert not mark_sent(session=session, message_id=sent.id or 0, telegram_message_id=99, now=NOW + SECOND)
    assert (sent.status, sent.telegram_message_id, sent.sent_at) == (OutboundStatus.SENT, 99, NOW + SECOND)

    assert not mark_dead(
        session=session, message_id=dead.id or 0, owner="someone-else", error="Forbidden", now=NOW
    )
    assert mark_dead(
        session=session, message_id=dead.id or 0, owner="a", error="Forbidden: bot was blocked", now=NOW
    )
    assert (
        get_outbound(session=session, message_id=dead.id or 0) == dead and dead.status == OutboundStatus.DEAD
    )
    assert _claim(session, at=timedelta(days=1)) == []


def test_many_sends_are_recorded_in_one_go_and_an_earlier_record_is_kept(session: Session) -> None:
    first, second, third = (
        _queue(session, "question"),
        _queue(session, chat_id=OTHER_CHAT),
        _queue(session, "advice"),
    )
    _claim(session)  # the first two: the advice waits for the question
    assert mark_sent(session=session, message_id=second.id or 0, telegram_message_id=7, now=NOW)

    sent = [(first.id or 0, 11), (second.id or 0, 12)]
    assert (
        mark_sent_many(session=session, sent=sent, now=NOW + SECOND) == 1
    )  # the second was recorded already
    assert (first.status, first.telegram_message_id, first.sent_at) == (OutboundStatus.SENT, 11, NOW + SECOND)
    assert (first.lease_owner, first.lease_until) == (None, None)
    assert (second.telegram_message_id, second.sent_at) == (7, NOW)
    assert _claim(session) == [third]  # the chat's next message goes once the one before is recorded
    assert mark_sent_many(session=session, sent=[], now=NOW) == 0


def test_the_backlog_counts_messages_due_and_unsent(session: Session) -> None:
    _queue(session)
    _queue(session, chat_id=OTHER_CHAT, not_before=NOW + timedelta(hours=1))
    assert outbox_backlog(session=session, now=NOW) == 1
    assert outbox_backlog(session=session, now=NOW + timedelta(hours=1)) == 2


def _claim_chat(session: Session, chat_id: int = CHAT, *, at: timedelta = timedelta(0)) -> int | None:
    claimed = claim_next_for_chats(
        session=session, chat_ids=[chat_id], now=NOW + at, owner="a", lease=LEASE, limit=1
    )
    return claimed[0].id if claimed else None


def test_claiming_for_one_chat_takes_its_next_message_only_and_under_a_lease(session: Session) -> None:
    question = _queue(session, "question")
    advice = _queue(session, "advice")
    elsewhere = _queue(session, "other chat", chat_id=OTHER_CHAT)

    [claimed] = claim_next_for_chats(
        session=session, chat_ids=[CHAT], now=NOW, owner="a", lease=LEASE, limit=1
    )
    assert (claimed.id, claimed.chat_id, claimed.text, claimed.purpose, claimed.attempts) == (
        question.id,
        CHAT,
        "question",
        MessagePurpose.CHECKIN_QUESTION,
        1,
    )
    session.refresh(question)
    assert (question.status, question.lease_owner, question.lease_until) == (
        OutboundStatus.SENDING,
        "a",
        NOW + LEASE,
    )
    assert _claim_chat(session) is None  # the advice waits for the question to be recorded
    assert _claim(session) == [elsewhere]  # other chats are left to the outbox's own claim
    mark_sent(session=session, message_id=question.id or 0, telegram_message_id=11, now=NOW)
    assert _claim_chat(session) == advice.id


def test_claiming_for_one_chat_follows_the_outboxs_rules(session: Session) -> None:
    """Held back by an earlier message being sent or waiting for a retry; not by one queued for later; an
    abandoned claim is taken over once its lease has run out."""
    reminder = _queue(session, "reminder", not_before=NOW + timedelta(hours=4))
    question = _queue(session, "question")
    advice = _queue(session, "advice")
    assert _claim_chat(session) == question.id
    assert _claim_chat(session, at=LEASE - SECOND) is None
    assert _claim_chat(session, at=LEASE) == question.id  # its claimer is gone: taken over
    assert mark_retry(
        session=session,
        message_id=question.id or 0,
        owner="a",
        not_before=NOW + LEASE + 5 * SECOND,
        error="RetryAfter(5)",
        now=NOW + LEASE,
    )
    assert _claim_chat(session, at=LEASE + SECOND) is None  # the advice waits behind the retry
    assert _claim_chat(session, at=LEASE + 5 * SECOND) == question.id
    mark_sent(session=session, message_id=question.id or 0, telegram_message_id=12, now=NOW + LEASE)
    assert _claim_chat(session, at=LEASE + 5 * SECOND) == advice.id
    assert reminder.status == OutboundStatus.PENDING


def test_nothing_to_claim_for_a_chat_with_nothing_due(session: Session) -> None:
    _queue(session, "reminder", not_before=NOW + timedelta(hours=4))
    assert _claim_chat(session) is None
    assert _claim_chat(session, chat_id=OTHER_CHAT) is None


def test_a_session_knows_which_messages_it_has_queued(session: Session) -> None:
    assert queued_in(session) == []
    first = _queue(session, "first")
    again = _queue(session, "keyed", dedupe_key="k")
    _queue(session, "keyed again", dedupe_key="k")  # already queued: nothing new
    assert queued_in(session) == [first.id, again.id]


def test_claiming_for_several_chats_takes_each_ones_next_message_oldest_first_up_to_the_limit(
    session: Session,
) -> None:
    first = _queue(session, "first to chat")
    _queue(session, "second to chat")  # held back by the first
    other = _queue(session, "to the other chat", chat_id=OTHER_CHAT)
    third = _queue(session, "to a third chat", chat_id=THIRD_CHAT)

    def claim(chats: list[int], limit: int) -> list[int]:
        claimed = claim_next_for_chats(
            session=session, chat_ids=chats, now=NOW, owner="a", lease=LEASE, limit=limit
        )
        return [message.id for message in claimed]

    assert claim([CHAT, OTHER_CHAT, THIRD_CHAT], limit=2) == [first.id, other.id]
    assert claim([CHAT, OTHER_CHAT, THIRD_CHAT], limit=5) == [third.id]  # the chat's second waits its turn
    assert claim([], limit=5) == [] and claim([CHAT], limit=0) == []


# ------------------------------------------------------------------------------------- urgent first


def _queue_at(session: Session, text: str, chat_id: int, priority: Priority) -> int:
    purpose = MessagePurpose.ADVICE if priority is Priority.URGENT else MessagePurpose.CHECKIN_QUESTION
    return enqueue_message(
        session=session, chat_id=chat_id, text=text, purpose=purpose, priority=priority, now=NOW
    )


def test_urgent_advice_queued_behind_three_thousand_routine_check_ins_is_claimed_first(
    session: Session,
) -> None:
    routine = [_queue_at(session, f"day 1 {n}", 700_000_000 + n, Priority.ROUTINE) for n in range(3000)]
    urgent = _queue_at(session, "Go to A&E now", OTHER_CHAT, Priority.URGENT)

    assert [m.id for m in _claim(session, limit=1)] == [urgent]
    assert [m.id for m in _claim(session, limit=30)] == routine[:30]  # then the rest, oldest first


def test_urgent_then_replies_then_routine_and_oldest_first_within_each(session: Session) -> None:
    routine = _queue_at(session, "day 3 check-in", 700_000_001, Priority.ROUTINE)
    reply = _queue_at(session, "thank you", 700_000_002, Priority.REPLY)
    urgent = _queue_at(session, "call 999", 700_000_003, Priority.URGENT)
    later_reply = _queue_at(session, "noted", 700_000_004, Priority.REPLY)

    assert [m.id for m in _claim(session)] == [urgent, reply, later_reply, routine]


def test_urgent_advice_lifts_the_earlier_messages_to_its_chat_and_keeps_their_order(session: Session) -> None:
    """A patient whose routine question is still queued writes a red flag: the question must not hold the
    advice at the back of the queue, and must still arrive first (a chat's messages stay in order)."""
    others = [_queue_at(session, f"day 1 {n}", 700_000_000 + n, Priority.ROUTINE) for n in range(100)]
    question = _queue_at(session, "day 7 check-in", CHAT, Priority.ROUTINE)
    advice = _queue_at(session, "Go to A&E now", CHAT, Priority.URGENT)

    assert [m.id for m in _claim(session, limit=1)] == [question]  # lifted: first, and before the advice
    assert _claim(session, limit=1)[0].id == others[0]  # the advice waits for the question to be sent
    mark_sent(session=session, message_id=question, telegram_message_id=21, now=NOW)
    assert [m.id for m in _claim(session, limit=1)] == [advice]
    assert get_outbound(session=session, message_id=others[1]).priority == Priority.ROUTINE  # type: ignore[union-attr]


def test_a_reply_does_not_lift_the_earlier_messages_to_its_chat(session: Session) -> None:
    question = _queue_at(session, "day 7 check-in", CHAT, Priority.ROUTINE)
    _queue_at(session, "thank you", CHAT, Priority.REPLY)
    assert get_outbound(session=session, message_id=question).priority == Priority.ROUTINE  # type: ignore[union-attr]


def test_claiming_for_chats_with_little_room_takes_the_most_urgent_first(session: Session) -> None:
    _queue_at(session, "day 3 check-in", OTHER_CHAT, Priority.ROUTINE)
    urgent = _queue_at(session, "call 999", THIRD_CHAT, Priority.URGENT)
    [claimed] = claim_next_for_chats(
        session=session, chat_ids=[OTHER_CHAT, THIRD_CHAT], now=NOW, owner="a", lease=LEASE, limit=1
    )
    assert (claimed.id, claimed.priority) == (urgent, Priority.URGENT)
    assert claimed.started  # a reply claimed in its own transaction goes straight after commit


# ------------------------------------------------------------------------------ each attempt's state


def test_an_attempt_is_written_down_as_started_only_by_the_worker_that_holds_the_message(
    session: Session,
) -> None:
    mine = _queue(session, "mine", chat_id=OTHER_CHAT)
    taken_over = _queue(session, "taken over", chat_id=THIRD_CHAT)
    _claim(session, owner="a")
    assert not ClaimedMessage.of(mine).started
    _claim(session, at=LEASE, owner="b")  # a's leases ran out: b took both over
    mark_retry(
        session=session, message_id=mine.id or 0, owner="b", not_before=NOW, error="x", now=NOW + LEASE
    )
    _claim(session, at=LEASE, owner="a")  # a claims `mine` again

    held = mark_attempts_started(
        session=session,
        message_ids=[mine.id or 0, taken_over.id or 0],
        owner="a",
        now=NOW + LEASE + SECOND,
        lease_until=NOW + 3 * LEASE,
    )
    assert held == {mine.id}  # the other is b's now: a must not send it
    session.refresh(mine)
    session.refresh(taken_over)
    assert (mine.attempt_started_at, mine.lease_until) == (NOW + LEASE + SECOND, NOW + 3 * LEASE)
    assert taken_over.attempt_started_at is None


def test_an_attempt_that_went_unanswered_is_counted_as_possibly_delivered(session: Session) -> None:
    message = _queue(session)
    for attempt in (1, 2):
        _claim(session, at=attempt * SECOND)
        mark_attempts_started(
            session=session, message_ids=[message.id or 0], owner="a", now=NOW, lease_until=NOW + LEASE
        )
        mark_retry(
            session=session,
            message_id=message.id or 0,
            owner="a",
            not_before=NOW,
            error="NoAnswerInTime",
            now=NOW,
            unanswered=attempt == 2,
        )
    session.refresh(message)
    assert (message.attempts, message.unanswered_attempts, message.attempt_started_at) == (2, 1, None)


def test_a_restarted_worker_takes_its_claims_back_at_once_and_knows_which_may_have_arrived(
    session: Session,
) -> None:
    went = _queue(session, "its request went", chat_id=CHAT)
    waiting = _queue(session, "still waiting its turn", chat_id=OTHER_CHAT)
    others = _queue(session, "another worker's", chat_id=THIRD_CHAT)
    claim_outbound(session=session, now=NOW, owner="w1", lease=LEASE, limit=2)
    claim_outbound(session=session, now=NOW, owner="w2", lease=LEASE, limit=1)
    mark_attempts_started(
        session=session, message_ids=[went.id or 0], owner="w1", now=NOW, lease_until=NOW + LEASE
    )

    taken = take_back_claims(session=session, owner="w1", now=NOW + SECOND)  # killed, started again

    assert (taken.may_have_arrived, taken.never_sent) == ([went.id], [waiting.id])
    for message in (went, waiting, others):
        session.refresh(message)
    assert (went.status, went.unanswered_attempts, went.attempts) == (OutboundStatus.FAILED, 1, 1)
    assert (waiting.status, waiting.unanswered_attempts, waiting.attempts) == (OutboundStatus.PENDING, 0, 0)
    assert (others.status, others.lease_owner) == (OutboundStatus.SENDING, "w2")  # not w1's to take
    # Sendable now, not when the leases run out.
    assert {m.id for m in _claim(session, at=SECOND, owner="w1")} == {went.id, waiting.id}
