"""The sign-in throttle (storage/login_throttle.py), on SQLite and PostgreSQL: the limits per name and
address, per address and per name; locks that end; a right password given back; and attempts that arrive
together never getting more checks than the limit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from storage.db import session_scope
from storage.login_throttle import LIMITS, Claim, Counter, claim_attempt, clear_name, give_back
from storage.models import LoginThrottle
from tests.storage.factories import NOW, run_together

HOME = "192.0.2.10"  # the nurse's desk
STRANGER = "198.51.100.66"


def _try(session: Session, name: str = "nina", address: str = STRANGER, now: datetime = NOW) -> Claim:
    return claim_attempt(session=session, username=name, address=address, now=now)


def test_five_wrong_from_one_address_pause_that_name_there_and_nowhere_else(session: Session) -> None:
    claims = [_try(session) for _ in range(LIMITS.per_name_and_address)]
    assert all(claim.allowed for claim in claims)
    assert [bool(claim.locks) for claim in claims] == [False] * 4 + [True]
    assert claims[-1].locked_until == NOW + LIMITS.window
    refused = _try(session)
    assert refused.refused_by is Counter.NAME_AT_ADDRESS and refused.locked_until == NOW + LIMITS.window
    assert _try(session, address=HOME).allowed  # the nurse at her own desk
    assert _try(session, name="olga").allowed  # another name from the stranger's address


def test_hammering_a_paused_name_does_not_make_the_pause_longer(session: Session) -> None:
    for _ in range(LIMITS.per_name_and_address):
        _try(session)
    for minute in range(15):
        assert not _try(session, now=NOW + timedelta(minutes=minute, seconds=59)).allowed
    after = NOW + LIMITS.window
    assert _try(session, now=after).allowed  # a fresh window: the count starts again
    assert _row(session, f"name_at_address:{STRANGER} nina").failures == 1


def test_failures_age_out_with_their_window(session: Session) -> None:
    for _ in range(LIMITS.per_name_and_address - 1):
        _try(session)
    later = NOW + LIMITS.window
    assert all(_try(session, now=later).allowed for _ in range(LIMITS.per_name_and_address - 1))
    assert _try(session, now=later).locks


def test_one_address_trying_many_names_is_paused_for_all_of_them(session: Session) -> None:
    for number in range(LIMITS.per_address):
        assert _try(session, name=f"guess{number}").allowed
    refused = _try(session, name="nina")
    assert refused.refused_by is Counter.ADDRESS and refused.locked_until == NOW + LIMITS.window
    assert _try(session, name="nina", address=HOME).allowed
    assert _try(session, name="nina", now=NOW + LIMITS.window).allowed


def test_guessing_spread_over_many_addresses_pauses_the_name_except_where_it_signs_in(
    session: Session,
) -> None:
    give_back(session=session, claim=_try(session, address=HOME), now=NOW)  # nina signed in at her desk
    for number in range(LIMITS.per_name):
        assert _try(session, address=f"203.0.113.{number}").allowed
    refused = _try(session, address="203.0.113.200")
    assert refused.refused_by is Counter.NAME
    assert _try(session, address=HOME).allowed  # never stopped at her usual desk
    month_later = NOW + LIMITS.known_address_for + timedelta(minutes=1)
    for number in range(LIMITS.per_name):
        _try(session, address=f"203.0.113.{number}", now=month_later)
    assert _try(session, address=HOME, now=month_later).refused_by is Counter.NAME  # no longer her usual desk


def test_a_right_password_gives_its_attempt_back(session: Session) -> None:
    for _ in range(LIMITS.per_name_and_address - 1):
        _try(session)
    last = _try(session)
    assert last.locks == {Counter.NAME_AT_ADDRESS}
    give_back(session=session, claim=last, now=NOW)  # the fifth was the right password: no lock
    assert _try(session).locks  # the next wrong one is the fifth again
    assert _row(session, f"address:{STRANGER}").failures == LIMITS.per_name_and_address


def test_unknown_and_real_names_are_counted_alike(session: Session) -> None:
    """The throttle never looks at accounts: what happens to a name does not depend on whether it exists."""
    real = [_try(session, name="nina").allowed for _ in range(LIMITS.per_name_and_address + 1)]
    unknown = [_try(session, name="nobody-here").allowed for _ in range(LIMITS.per_name_and_address + 1)]
    assert real == unknown == [True] * LIMITS.per_name_and_address + [False]


def test_forgetting_a_name_lifts_its_pauses_and_nobody_elses(session: Session) -> None:
    for name in ("nina", "nina_x", "xnina"):
        for _ in range(LIMITS.per_name_and_address):
            _try(session, name=name, address=f"192.0.2.{len(name)}")
    assert clear_name(session=session, username=" NINA ") == 2  # her counters by name and at that address
    assert _try(session, name="nina", address="192.0.2.4").allowed
    assert not _try(session, name="nina_x", address="192.0.2.6").allowed
    assert not _try(session, name="xnina", address="192.0.2.5").allowed


def test_counters_that_say_nothing_any_more_are_deleted(session: Session) -> None:
    for number in range(10):
        _try(session, name=f"guess{number}")
    assert _count(session) == 21  # ten names at the address, ten names, the address
    _try(session, name="olga", address=HOME, now=NOW + LIMITS.window + timedelta(seconds=1))
    assert _count(session) == 3  # only the last attempt's own counters are left


def test_thirty_attempts_at_once_get_exactly_the_limit_of_checks(engine: Engine) -> None:
    """Finding 4: concurrent attempts must not all read "not locked" before any of them counts."""

    def attempt() -> bool:
        with session_scope(engine) as session:
            return _try(session).allowed

    allowed = run_together([attempt] * 30)
    assert allowed.count(True) == LIMITS.per_name_and_address and len(allowed) == 30
    with session_scope(engine) as session:
        assert _row(session, f"name_at_address:{STRANGER} nina").failures == LIMITS.per_name_and_address
        assert not _try(session).allowed


def _row(session: Session, key: str) -> LoginThrottle:
    row = session.get(LoginThrottle, key, populate_existing=True)
    assert row is not None
    return row


def _count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(LoginThrottle)).one())
