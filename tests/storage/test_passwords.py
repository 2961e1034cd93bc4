"""Staff passwords: only a salted argon2id hash is kept, and it verifies only the right password."""

from __future__ import annotations

from argon2 import PasswordHasher

from storage.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    burn_verification,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

PASSWORD = "correct horse battery staple"


def test_a_hash_verifies_the_right_password_and_no_other() -> None:
    encoded = hash_password(PASSWORD)
    assert encoded.startswith("$argon2id$")
    assert PASSWORD not in encoded
    assert verify_password(encoded, PASSWORD)
    assert not verify_password(encoded, PASSWORD.upper())
    assert not verify_password(encoded, "")


def test_the_same_password_gets_a_different_salt_each_time() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert verify_password(first, PASSWORD) and verify_password(second, PASSWORD)


def test_a_damaged_or_foreign_hash_never_verifies_and_never_raises() -> None:
    assert not verify_password("", PASSWORD)
    assert not verify_password("plain text", PASSWORD)
    assert not verify_password("$2b$12$abcdefghijklmnopqrstuu", PASSWORD)  # bcrypt
    assert needs_rehash("not a hash")


def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    assert verify_password(weak, PASSWORD)  # still lets the person in...
    assert needs_rehash(weak)  # ...and is replaced at that login
    assert not needs_rehash(hash_password(PASSWORD))


def test_an_enormous_password_is_refused_before_hashing() -> None:
    encoded = hash_password(PASSWORD)
    assert not verify_password(encoded, "x" * (MAX_LENGTH + 1))
    burn_verification("anything")  # the unknown-user path costs the same and reveals nothing


def test_new_passwords_must_be_long_and_not_trivial() -> None:
    assert password_problem("short") is not None
    assert password_problem("a" * MIN_LENGTH) is not None
    assert password_problem(" " * 20) is not None
    assert password_problem("x" * (MAX_LENGTH + 1)) is not None
    assert password_problem(PASSWORD) is None
