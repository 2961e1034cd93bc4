"""Sending limits as token buckets, driven by a fake clock."""

from bot.emulator.limits import Limits, RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_one_chat_gets_a_small_burst_then_one_a_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(), clock=clock)
    assert [limiter.try_send(1, is_group=False) for _ in range(3)] == [None, None, None]
    assert limiter.try_send(1, is_group=False) == 1
    assert limiter.try_send(2, is_group=False) is None, "another chat has its own bucket"
    clock.now += 1.0
    assert limiter.try_send(1, is_group=False) is None
    assert limiter.try_send(1, is_group=False) == 1


def test_overall_limit_of_thirty_a_second() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(), clock=clock)
    sent = [limiter.try_send(chat, is_group=False) for chat in range(40)]
    assert sent.count(None) == 30
    clock.now += 0.5
    assert [limiter.try_send(100 + chat, is_group=False) for chat in range(20)].count(None) == 15


def test_a_group_gets_twenty_a_minute() -> None:
    clock = FakeClock()
    limiter = RateLimiter(Limits(group_burst=20), clock=clock)
    assert [limiter.try_send(-5, is_group=True) for _ in range(20)].count(None) == 20
    assert limiter.try_send(-5, is_group=True) == 3, "the next slot is 60/20 seconds away"
