"""Telegram-shaped refusals: the HTTP code and the description Telegram's own Bot API server sends.

PTB chooses its exception class from the HTTP code (400 BadRequest, 403 Forbidden, 409 Conflict, 401/404
InvalidToken, 429 RetryAfter), so every refusal here must carry the code Telegram uses, and the wording of
tdlib/telegram-bot-api where we know it. This module must not know about HTTP frameworks.
"""

from typing import Any

Json = dict[str, Any]


class ApiError(Exception):
    """A Bot API call Telegram would refuse; `to_json()` is the exact response body."""

    def __init__(self, error_code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.retry_after = retry_after

    def to_json(self) -> Json:
        body: Json = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class EmulatorUsageError(ValueError):
    """A simulated user tried something a real Telegram app cannot do (press a button that is not there)."""


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def forbidden(detail: str) -> ApiError:
    return ApiError(403, f"Forbidden: {detail}")


def conflict(detail: str) -> ApiError:
    return ApiError(409, f"Conflict: {detail}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def internal_server_error() -> ApiError:
    return ApiError(500, "Internal Server Error")


CHAT_NOT_FOUND = "chat not found"
BOT_BLOCKED = "bot was blocked by the user"
CANT_INITIATE = "bot can't initiate conversation with a user"
