"""The sign-in throttle: how many wrong passwords (or two-factor codes) the console will check, and for whom.

Three counters, each a row of login_throttle keyed by what it counts:

- a username from one client address (`pair`): LIMITS.per_name_and_address wrong in a window stops that
  name from that address for LIMITS.window. This is the lock-out a nurse meets when she mistypes; a
  stranger who hammers her name from elsewhere meets it too, and only locks out himself.
- one address, whatever the usernames (`address`): LIMITS.per_address wrong in a window stops the address
  for LIMITS.window (someone trying many names).
- a username from everywhere (`name`): LIMITS.per_name wrong in a window stops the name for LIMITS.window,
  except from addresses it signed in from in the last LIMITS.known_address_for (guessing spread over many
  addresses slows down; the nurse at her usual desk is not stopped by it).

Keys are built from the username as typed (normalised), whether or not an account has it: an unknown name
is throttled exactly as a real one, so the answers never tell them apart.

An attempt is claimed before its password is checked, in one transaction with its counters locked (FOR
UPDATE on PostgreSQL; on SQLite, BEGIN IMMEDIATE already holds the database): it is refused if a counter
is locked, otherwise counted as a failure at once, and the lock starts as the limit is reached. A right
password gives its count back (`give_back`). So however many attempts arrive together, no more than the
limit are ever checked. Attempts refused while locked are not counted: hammering never makes a lock last
longer than LIMITS.window after the failure that started it. Rows that no longer say anything are deleted
as attempts come in. No clock is read here: `now` is an argument.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.models import LoginThrottle

NAME_LENGTH = 64  # StaffUser.username: a longer name is no account, and keys stay short
PRUNE_BATCH = 500  # rows deleted per attempt at most: the cost of an attempt stays bounded


@dataclass(frozen=True, kw_only=True)
class Limits:
    per_name_and_address: int = 5
    per_address: int = 20
    per_name: int = 50
    window: timedelta = timedelta(minutes=15)
    known_address_for: timedelta = timedelta(days=30)


LIMITS = Limits()


class Counter(StrEnum):
    """Which counter refused an attempt (in the audit trail's detail)."""

    NAME_AT_ADDRESS = "name_at_address"
    ADDRESS = "address"
    NAME = "name"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """The throttle's answer to an attempt. `refused_by` is None when the attempt may be checked; then
    `counted` names the counters it was counted on and `locks` those whose limit it reached (their lock has
    started, until `locked_until`, and stays unless the password turns out right)."""

    username: str
    address: str
    refused_by: Counter | None
    locked_until: datetime | None = None
    counted: frozenset[Counter] = frozenset()
    locks: frozenset[Counter] = frozenset()

    @property
    def allowed(self) -> bool:
        return self.refused_by is None


def throttle_name(username: str) -> str:
    """The username as counted: trimmed, lower case, printable characters only, at most NAME_LENGTH."""
    return "".join(ch for ch in username.strip().lower() if ch.isprintable())[:NAME_LENGTH]


def claim_attempt(
    *, session: Session, username: str, address: str, now: datetime, limits: Limits = LIMITS
) -> Claim:
    """Refuse the attempt, or count it as a failure before it is checked (see the module's docstring)."""
    _prune(session, now)
    rows = _locked_rows(session, username, address, now=now, window=limits.window)
    pair = rows[Counter.NAME_AT_ADDRESS]
    known = pair.last_signed_in_at is not None and pair.last_signed_in_at + limits.known_address_for > now
    for counter in (Counter.NAME_AT_ADDRESS, Counter.ADDRESS, Counter.NAME):
        row = rows[counter]
        if _is_locked(row, now) and not (counter is Counter.NAME and known):
            return Claim(
                username=username, address=address, refused_by=counter, locked_until=row.locked_until
            )
    counted, locks = set(), set()
    for counter, row in rows.items():
        if _is_locked(row, now):
            continue  # the name, locked, from a known address: it never counts past its limit
        row.failures += 1
        if row.failures >= _limit(counter, limits):
            row.locked_until = now + limits.window
            locks.add(counter)
        _keep(row, limits)
        counted.add(counter)
    session.flush()
    return Claim(
        username=username,
        address=address,
        refused_by=None,
        locked_until=now + limits.window if locks else None,
        counted=frozenset(counted),
        locks=frozenset(locks),
    )


def give_back(*, session: Session, claim: Claim, now: datetime, limits: Limits = LIMITS) -> None:
    """The password was right: the attempt's counts are given back (a lock they started ends), and the
    name has now signed in from this address, which the name-wide counter then does not stop."""
    rows = _locked_rows(session, claim.username, claim.address, now=now, window=limits.window)
    for counter in claim.counted:
        row = rows[counter]
        if row.failures > 0:  # 0 if its window passed meanwhile and it started afresh
            row.failures -= 1
        if row.failures < _limit(counter, limits):
            row.locked_until = None
    rows[Counter.NAME_AT_ADDRESS].last_signed_in_at = now
    for row in rows.values():
        _keep(row, limits)
    session.flush()


def _limit(counter: Counter, limits: Limits) -> int:
    return {
        Counter.NAME_AT_ADDRESS: limits.per_name_and_address,
        Counter.ADDRESS: limits.per_address,
        Counter.NAME: limits.per_name,
    }[counter]


def clear_name(*, session: Session, username: str) -> int:
    """Forget every counter of a username (an administrator reset the password). Returns how many."""
    name = throttle_name(username)
    result = session.exec(
        delete(LoginThrottle).where(
            (col(LoginThrottle.key) == _key(Counter.NAME, name))
            | col(LoginThrottle.key).like(
                _like_escaped(f"{Counter.NAME_AT_ADDRESS}:") + "%" + _like_escaped(f" {name}"), escape="\\"
            )
        )
    )
    return int(result.rowcount)


def _keys(username: str, address: str) -> dict[Counter, str]:
    name = throttle_name(username)
    return {
        Counter.NAME_AT_ADDRESS: _key(Counter.NAME_AT_ADDRESS, f"{address} {name}"),
        Counter.ADDRESS: _key(Counter.ADDRESS, address),
        Counter.NAME: _key(Counter.NAME, name),
    }


def _key(counter: Counter, value: str) -> str:
    # An address has no spaces, so "address name" cannot be read two ways.
    return f"{counter}:{value}"


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _locked_rows(
    session: Session, username: str, address: str, *, now: datetime, window: timedelta
) -> dict[Counter, LoginThrottle]:
    """The three counters of an attempt, created if new, locked for the rest of the transaction in one
    order (key order: two attempts never wait for each other in a circle), each started afresh once its
    window or lock has passed."""
    keys = _keys(username, address)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    fresh = [
        {"key": key, "failures": 0, "window_started_at": now, "keep_until": now + window}
        for key in sorted(keys.values())
    ]
    session.exec(insert(LoginThrottle).values(fresh).on_conflict_do_nothing(index_elements=["key"]))
    query = (
        select(LoginThrottle)
        .where(col(LoginThrottle.key).in_(list(keys.values())))
        .order_by(col(LoginThrottle.key))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    by_key = {row.key: row for row in session.exec(query).all()}
    rows = {counter: by_key[key] for counter, key in keys.items()}
    for row in rows.values():
        lock_over = row.locked_until is not None and row.locked_until <= now
        window_over = row.locked_until is None and row.window_started_at + window <= now
        if lock_over or window_over:
            row.failures = 0
            row.locked_until = None
            row.window_started_at = now
    return rows


def _is_locked(row: LoginThrottle, now: datetime) -> bool:
    return row.locked_until is not None and row.locked_until > now


def _keep(row: LoginThrottle, limits: Limits) -> None:
    until = row.window_started_at + limits.window
    if row.locked_until is not None:
        until = max(until, row.locked_until)
    if row.last_signed_in_at is not None:
        until = max(until, row.last_signed_in_at + limits.known_address_for)
    row.keep_until = until


def _prune(session: Session, now: datetime) -> None:
    """Delete counters that say nothing any more. SKIP LOCKED on PostgreSQL: a row another attempt is
    using right now is left for later, so two attempts never wait on each other here."""
    stale = (
        select(LoginThrottle.key)
        .where(col(LoginThrottle.keep_until) < now)
        .limit(PRUNE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.exec(delete(LoginThrottle).where(col(LoginThrottle.key).in_(stale.scalar_subquery())))
