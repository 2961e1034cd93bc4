"""The console's web security: response headers, the session cookie, CSRF tokens and the Origin check.

Every response gets a strict Content-Security-Policy (no inline script or style, nothing from other sites),
framing denied, MIME sniffing off, no caching of pages (they hold patient data) and a referrer policy.
The session cookie holds only the random staff_session id (HttpOnly, SameSite=Lax so a link in a staff
alert opens the page, Secure outside development). Every POST must come from CONSOLE_BASE_URL's origin
and carry the CSRF token bound to the session (the login form, before any session exists, carries an
HMAC of a nonce kept in its own cookie).

Referrer-Policy is `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null` on
same-origin form posts (Fetch standard, "serializing a request origin"; checked in Chromium), which would
defeat the Origin check. `same-origin` still sends nothing at all to any other site.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from console.settings import ConsoleSettings

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
LOGIN_NONCE_COOKIE = "aftercare_login"
LOGIN_NONCE_MAX_AGE = 3600
# Between a right password and its two-factor code: who, and since when, signed with CONSOLE_SECRET_KEY.
PENDING_SIGN_IN_COOKIE = "aftercare_second_factor"
PENDING_SIGN_IN_MAX_AGE = 300


# A server error's page is written here, not rendered from a template: whatever broke may be what a
# template needs (the database, the clinic file). It names nothing about the error.
SERVER_ERROR_PAGE = (
    b'<!doctype html><html lang="en-GB"><head><meta charset="utf-8"><title>Something went wrong'
    b" \xe2\x80\x93 Aftercare staff console</title></head><body><h1>Something went wrong</h1>"
    b"<p>The console could not do that just now. Try again in a minute; if it keeps happening, tell "
    b"whoever runs Aftercare for the clinic.</p></body></html>"
)


class SecurityHeadersMiddleware:
    """Adds the security headers to every response, errors and static files included (pure ASGI).

    It also answers a server error itself when nothing has been sent yet: Starlette's own 500 page comes
    from its outermost middleware, outside this one, and would go out without the headers. The exception
    is raised again afterwards, so the server still logs it."""

    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        is_static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if not is_static:
                    headers["cache-control"] = "no-store"
                if self.hsts:
                    headers["strict-transport-security"] = "max-age=31536000"
                started.append(True)
            await send(message)

        started: list[bool] = []
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not started:
                await send_with_headers(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"text/html; charset=utf-8"),
                            (b"content-length", str(len(SERVER_ERROR_PAGE)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": SERVER_ERROR_PAGE})
            raise


def session_cookie_name(settings: ConsoleSettings) -> str:
    # The __Host- prefix makes the browser refuse the cookie unless it is Secure, host-only and Path=/.
    return "__Host-aftercare_session" if settings.secure_cookies else "aftercare_session"


def set_session_cookie(response: Response, settings: ConsoleSettings, session_id: str) -> None:
    """A browser-session cookie (no Max-Age): idle and absolute expiry are enforced on the server."""
    response.set_cookie(
        session_cookie_name(settings),
        session_id,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="lax",
        path="/",
    )


def clear_session_cookie(response: Response, settings: ConsoleSettings) -> None:
    response.delete_cookie(
        session_cookie_name(settings), httponly=True, secure=settings.secure_cookies, samesite="lax", path="/"
    )


def session_id_from(request: Request, settings: ConsoleSettings) -> str:
    return request.cookies.get(session_cookie_name(settings), "")


def same_origin(request: Request, settings: ConsoleSettings) -> bool:
    """Whether a POST came from a page of this console: Origin, or failing that Referer, must be
    CONSOLE_BASE_URL's origin. A request with neither is refused (every browser sends Origin on POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        referer = request.headers.get("referer")
        if not referer:
            return False
        parts = urlsplit(referer)
        origin = f"{parts.scheme}://{parts.netloc}"
    return hmac.compare_digest(origin.lower().encode(), settings.origin.encode())


def tokens_match(expected: str, given: str) -> bool:
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


def new_login_nonce() -> str:
    return secrets.token_urlsafe(24)


def login_csrf_token(settings: ConsoleSettings, nonce: str) -> str:
    """The login form's CSRF token: an HMAC of the nonce kept in the login cookie (a double submit that an
    attacker cannot forge without CONSOLE_SECRET_KEY)."""
    return hmac.new(settings.secret_key, f"login:{nonce}".encode(), hashlib.sha256).hexdigest()


def set_login_nonce_cookie(response: Response, settings: ConsoleSettings, nonce: str) -> None:
    response.set_cookie(
        LOGIN_NONCE_COOKIE,
        nonce,
        max_age=LOGIN_NONCE_MAX_AGE,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/login",
    )


def login_csrf_valid(request: Request, settings: ConsoleSettings, given: str) -> bool:
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    return bool(nonce) and tokens_match(login_csrf_token(settings, nonce), given)


@dataclass(frozen=True, kw_only=True)
class PendingSignIn:
    """A sign-in whose password was right, waiting for its code."""

    staff_id: int
    fingerprint: str  # of the password hash: a password changed meanwhile ends it


def _pending_serializer(settings: ConsoleSettings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="aftercare-second-factor")


def set_pending_sign_in(
    response: Response, settings: ConsoleSettings, pending: PendingSignIn, *, now: datetime
) -> None:
    value = _pending_serializer(settings).dumps(
        {"s": pending.staff_id, "f": pending.fingerprint, "t": int(now.timestamp())}
    )
    response.set_cookie(
        PENDING_SIGN_IN_COOKIE,
        value,
        max_age=PENDING_SIGN_IN_MAX_AGE,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/login",
    )


def pending_sign_in(request: Request, settings: ConsoleSettings, *, now: datetime) -> PendingSignIn | None:
    """The pending sign-in of this browser, if its signature holds and it is under five minutes old (by
    the console's clock, not the cookie's Max-Age, which the browser alone enforces)."""
    value = request.cookies.get(PENDING_SIGN_IN_COOKIE, "")
    if not value or len(value) > 1000:
        return None
    try:
        data = _pending_serializer(settings).loads(value)
        staff_id, fingerprint, issued = int(data["s"]), str(data["f"]), int(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError):
        return None
    if not 0 <= now.timestamp() - issued <= PENDING_SIGN_IN_MAX_AGE:
        return None
    return PendingSignIn(staff_id=staff_id, fingerprint=fingerprint)


def clear_pending_sign_in(response: Response, settings: ConsoleSettings) -> None:
    response.delete_cookie(
        PENDING_SIGN_IN_COOKIE,
        httponly=True,
        secure=settings.secure_cookies,
        samesite="strict",
        path="/login",
    )


def safe_next(path: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host: no open redirect)."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path or "\n" in path:
        return "/"
    return path
