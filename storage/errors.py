"""Exceptions the data functions raise. Callers (bot, console, CLI) turn them into user-facing replies."""

from __future__ import annotations


class NotFound(LookupError):
    """The row a change was asked for does not exist."""


class Conflict(ValueError):
    """The change would break a uniqueness rule (e.g. a username already taken)."""
