"""Two-factor sign-in for staff: time-based one-time passwords (TOTP, RFC 6238), with pyotp.

A staff member's authenticator app and Aftercare share a random base32 secret (160 bits). A code is six
digits for a 30-second step; one step either side is accepted, because phone clocks drift. `accepted_step`
returns the step a code matched, so the caller can refuse that step the next time: a code that was
overheard, or sent twice, works once. Must not log a secret or a code. The clock is an argument.
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

ISSUER = "Aftercare"  # the name an authenticator app shows beside the code
DRIFT_STEPS = 1
CODE_LENGTH = 6


def new_secret() -> str:
    return pyotp.random_base32()  # 32 base32 characters: 160 random bits, as RFC 4226 recommends


def provisioning_uri(secret: str, *, username: str) -> str:
    """The otpauth:// URI an authenticator app reads (from a QR code, or pasted)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=ISSUER)


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand ("Enter a setup key")."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def accepted_step(secret: str, code: str, *, now: datetime, after_step: int | None) -> int | None:
    """The 30-second step `code` is right for at `now` (give or take one step), or None. Steps up to
    `after_step` (the last one used) are never accepted again."""
    digits = "".join(code.split())
    if len(digits) != CODE_LENGTH or not digits.isascii() or not digits.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if after_step is not None and step <= after_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), digits):
            return step
    return None
