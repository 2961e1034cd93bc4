"""What production refuses to start with: weak secrets, a token that is not Telegram's, a listener open to
the network. Pure checks on strings, shared by both edges' settings (bot/settings.py, console/settings.py),
which must not import each other.

Each check returns None when the value is fit for production, else the reason in a few words; the settings
turn it into one line that names the setting and says what to set. A weak secret is short, a placeholder or
contains one, has a run of eight equal or consecutive characters ("aaaaaaaa", "abcdefgh", "98765432"), repeats
a shorter piece, or has low Shannon entropy per character. The thresholds let every random secret of the
recommended kinds through: in 200,000 each of ``secrets.token_urlsafe(32)``, ``secrets.token_hex(32)`` (as
``openssl rand -hex 32`` gives) and ``secrets.token_hex(16)``, none was refused; the lowest entropy seen was
4.2, 3.4 and 2.9 bits per character, and a run of eight turns up in fewer than one hex key in a million.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from itertools import pairwise

from pydantic import ValidationError

# Words that mark a value someone meant to replace. Matched anywhere in the secret, ignoring case.
PLACEHOLDER_WORDS = (
    "changeme",
    "change-me",
    "change_me",
    "placeholder",
    "password",
    "example",
    "secret",
    "default",
    "dummy",
    "insecure",
)
MIN_BITS_PER_CHARACTER = 2.5
LONGEST_RUN = 8  # of one character ("aaaaaaaa") or consecutive ones ("abcdefgh", "98765432")
# @BotFather's tokens: the bot's numeric id, a colon, then 35 characters of A-Z a-z 0-9 _ - (a little slack
# either side in case Telegram lengthens them).
TELEGRAM_TOKEN = re.compile(r"^(?P<bot_id>[0-9]{5,16}):(?P<secret>[A-Za-z0-9_-]{30,64})$")
# What Telegram accepts as a webhook's secret_token.
WEBHOOK_SECRET_CHARACTERS = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
NEW_SECRET = 'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'  # noqa: S105 - a command


def bits_per_character(text: str) -> float:
    """Shannon entropy of the text's characters, in bits per character (0 for one character repeated)."""
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def secret_weakness(secret: str, *, min_length: int) -> str | None:
    """Why this secret is too weak for production, in a few words; None when it is fit."""
    if len(secret) < min_length:
        return f"shorter than {min_length} characters"
    lowered = secret.lower()
    for word in PLACEHOLDER_WORDS:
        if word in lowered:
            return f"contains the placeholder word '{word}'"
    if _longest_run(secret) >= LONGEST_RUN:
        return f"has a run of {LONGEST_RUN} or more repeated or consecutive characters"
    if _repeats_a_shorter_piece(secret):
        return "is a shorter piece repeated"
    bits = bits_per_character(secret)
    if bits < MIN_BITS_PER_CHARACTER:
        return f"too predictable ({bits:.1f} bits per character, at least {MIN_BITS_PER_CHARACTER} needed)"
    return None


def secret_problem(
    name: str, secret: str | None, *, min_length: int, allowed: re.Pattern[str] | None = None
) -> str | None:
    """The one line refusing the secret setting `name`, saying what to set; None when it is fit."""
    if not secret:
        reason = "is not set"
    elif allowed is not None and not allowed.match(secret):
        reason = "may hold only A-Z a-z 0-9 _ -"
    else:
        weakness = secret_weakness(secret, min_length=min_length)
        if weakness is None:
            return None
        reason = f"is too weak ({weakness})"
    return f"{name} {reason}: set {min_length}+ random characters, e.g. from {NEW_SECRET}"


def telegram_token_problem(token: str) -> str | None:
    """Why this is not a bot token as @BotFather gives it; None when it has the shape and looks random."""
    match = TELEGRAM_TOKEN.match(token)
    if match is None:
        return "is not of Telegram's shape (the bot's number, a colon, then 35 letters, digits, _ or -)"
    weakness = secret_weakness(match["secret"], min_length=30)
    return None if weakness is None else f"does not look like a real token: its secret part {weakness}"


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach: 127.0.0.0/8, ::1, or "localhost"."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything: treat it as open


def one_line_each(error: ValidationError) -> list[str]:
    """A settings error as the lines to show an operator, one per problem, naming the environment variable.
    pydantic's own rendering spreads each problem over three lines with a link to its documentation."""
    lines: list[str] = []
    for problem in error.errors(include_url=False):
        message = str(problem["msg"]).removeprefix("Value error, ")
        name = "_".join(str(part) for part in problem["loc"]).upper()
        for line in message.splitlines():
            lines.append(line if not name or line.startswith(name) else f"{name}: {line}")
    return lines


def _longest_run(text: str) -> int:
    """The longest stretch of one character repeated, or of consecutive code points going up or down."""
    longest = run = 1 if text else 0
    step: int | None = None
    for previous, current in pairwise(text):
        difference = ord(current) - ord(previous)
        if abs(difference) > 1:
            run, step = 1, None
        elif difference == step:
            run += 1
        else:
            run, step = 2, difference
        longest = max(longest, run)
    return longest


def _repeats_a_shorter_piece(text: str) -> bool:
    """ "abcdefghijklmnop" twice and a bit: the text repeats itself every `size` characters."""
    return any(text[size:] == text[:-size] for size in range(1, len(text) // 2 + 1))
