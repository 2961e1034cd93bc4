"""The Telegram edge's settings refuse combinations that would break a promise the service makes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_the_outbox_lease_must_outlast_an_attempt_to_send() -> None:
    """Otherwise another worker could take a message over and send it while the first attempt may still
    succeed: the patient would get it twice."""
    assert Settings(_env_file=None).outbox_lease_seconds == 120  # the defaults fit: 60 s wait, 120 s lease
    with pytest.raises(ValidationError, match="OUTBOX_LEASE_SECONDS must be at least 81"):
        Settings(_env_file=None, outbox_lease_seconds=60)
    with pytest.raises(ValidationError, match="OUTBOX_LEASE_SECONDS must be at least 191"):
        Settings(_env_file=None, outbox_answer_wait_seconds=170)
    Settings(_env_file=None, outbox_lease_seconds=30, outbox_answer_wait_seconds=8)
