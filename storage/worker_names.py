"""A worker's name, held by one running process at a time.

Claims (due check-ins, outbox messages) carry the name of the worker that took them. A worker that starts
again under its name takes its claims back at once instead of waiting for their leases to run out: safe
only when no other running process has that name. So a process holds its name for as long as it runs:
- PostgreSQL: a session advisory lock, on a connection kept open; the server drops it when that connection
  goes, which a killed process's does at once (its socket is closed by the kernel).
- SQLite: an exclusive lock on a file beside the database; the kernel drops it when the process ends.
An in-memory SQLite database lives and dies with its one process: nothing to hold.

Caveat, PostgreSQL: if the database restarts, the lock is gone while this process runs on. Another process
would have to start under the same name in that moment to be harmed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from storage.db import is_sqlite

NAME_LENGTH = 64  # lease_owner's length
_ADVISORY_NAMESPACE = b"aftercare-worker:"


@dataclass(kw_only=True)
class HeldName:
    """A name this process holds until ``release`` (or until it ends)."""

    name: str
    _release: Callable[[], None] = field(repr=False)

    def release(self) -> None:
        self._release()


def hold_name(engine: Engine, name: str) -> HeldName | None:
    """Hold ``name`` for this process, or None if another running process holds it."""
    if not name or len(name) > NAME_LENGTH:
        raise ValueError(f"a worker name is 1-{NAME_LENGTH} characters")
    if is_sqlite(engine):
        return _hold_beside_sqlite(engine, name)
    return _hold_advisory(engine, name)


def hold_first_free(engine: Engine, base: str, *, tries: int = 64) -> HeldName:
    """``base``, or the first of ``base-2``, ``base-3``... that no running process holds: a lone worker on a
    host keeps one name across restarts, and several on one host each get their own."""
    base = base[: NAME_LENGTH - 4] or "worker"
    for number in range(1, tries + 1):
        held = hold_name(engine, base if number == 1 else f"{base}-{number}")
        if held is not None:
            return held
    raise RuntimeError(f"{tries} workers named {base}... are running already; set WORKER_NAME")


def _hold_advisory(engine: Engine, name: str) -> HeldName | None:
    digest = hashlib.blake2b(_ADVISORY_NAMESPACE + name.encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    connection = engine.connect()
    try:
        held = bool(connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        connection.commit()  # the lock is the session's; the connection must not sit in a transaction
    except BaseException:
        connection.close()
        raise
    if not held:
        connection.close()
        return None

    def release() -> None:
        with contextlib.suppress(Exception):  # the connection may be gone already: so is the lock
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
        connection.close()

    return HeldName(name=name, _release=release)


def _hold_beside_sqlite(engine: Engine, name: str) -> HeldName | None:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        return HeldName(name=name, _release=lambda: None)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    descriptor = os.open(f"{database}.worker-{safe}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(descriptor)
        return None

    def release() -> None:
        with contextlib.suppress(OSError):
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

    return HeldName(name=name, _release=release)
