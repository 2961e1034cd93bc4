"""Staff passwords: argon2id hashing (argon2-cffi), verification and the rules a new password must meet.

Only the encoded hash is ever stored (storage.models.StaffUser.password_hash); it carries its own salt and
cost parameters, so `needs_rehash` can tell when the parameters have been raised since it was made. Must
not log or keep a password anywhere, and never raises on a bad or foreign hash: it simply does not verify.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 256  # argon2 takes any length; a cap stops a megabyte "password" costing a worker thread

# argon2-cffi's defaults are RFC 9106's low-memory profile (argon2id, t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """The encoded argon2id hash (salt and parameters included) to store."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches the stored hash. False for a wrong password or an unreadable hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash it at the next login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


def burn_verification(password: str) -> None:
    """Spend the time a real verification takes, for a login with an unknown username, so response
    times do not tell which usernames exist."""
    verify_password(_dummy_hash(), password)


def prepare_burn() -> None:
    """Make the dummy hash now (at start-up): made on first use, it would make the first login with an
    unknown username take twice as long as one with a real username."""
    _dummy_hash()


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, in words for the person choosing it; None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (a few unrelated words work well)."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    if not password.strip():
        return "A password cannot be only spaces."
    if len(set(password)) < 4:
        return "Use a less repetitive password."
    return None


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not a password anyone has: timing equaliser")
