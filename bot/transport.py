"""How python-telegram-bot talks HTTP to Telegram: aiohttp, through PTB's own extension point (BaseRequest).

Why not PTB's default (httpx): the outbox keeps up to 60 sends in flight, and at that concurrency an httpx
request cost about 1.3 ms of CPU against aiohttp's 0.18 ms (docs/performance.md, section 1): httpcore
rescans its whole connection pool for every request, and its HTTP parsing is pure Python. Sending was a
third of the CPU of every patient reply.

Only the wire changes. PTB still builds each request and turns every answer into its result or its
exception (RetryAfter for a 429, Forbidden for a blocked bot, BadRequest, NetworkError, ...), so the outbox,
the poller and their fault tests see exactly what they saw before. This module's own job is to map
aiohttp's failures onto PTB's: a timeout is TimedOut, any other transport failure (refused, reset,
dropped mid-answer) is NetworkError. Those that come after the request may have reached Telegram (no answer
in time, the connection lost after sending) are ``NoAnswer`` as well: Telegram may have done what was
asked, and the outbox counts such a send as possibly delivered. Those that come before (no connection) are
not: nothing was sent.

A message's send waits ``SEND_ANSWER_WAIT`` (60 s) for Telegram's answer, not PTB's usual 5 s: the
answer is the only way to know whether the message arrived. Cut short, a slow but successful send looked
failed and was sent again (issue 11, finding 8).

Parameters go form-encoded, as PTB's HTTPXRequest sends them. Aftercare uploads no files, so this backend
refuses any request that carries one rather than carry code no test exercises.
"""

from __future__ import annotations

import json
from typing import Any, cast
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# PTB's HTTPXRequest defaults, kept so a slow or silent Telegram fails the same way it did.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
CONNECT_TIMEOUT = 5.0
POOL_TIMEOUT = 1.0
SEND_ANSWER_WAIT = 60.0  # seconds: how long a message's send waits for Telegram's answer


def longest_send(answer_wait: float = SEND_ANSWER_WAIT) -> float:
    """The longest one attempt to send a message can take: waiting for a connection, connecting, writing,
    then waiting for the answer. An outbox lease must be longer (bot/settings.py checks it)."""
    return POOL_TIMEOUT + CONNECT_TIMEOUT + WRITE_TIMEOUT + answer_wait


class NoAnswer(NetworkError):
    """The request may have reached Telegram and no answer came (the connection broke after it was sent).
    Telegram may have done it: a message may have been delivered."""


class NoAnswerInTime(TimedOut, NoAnswer):
    """The request went out and its answer did not come within the read timeout. Telegram may have done
    it: a message may have been delivered."""


class AiohttpRequest(BaseRequest):
    """A PTB request backend over one pooled aiohttp session (keep-alive connections, at most
    ``connection_pool_size`` open at once). Create it outside a running loop if you like: the session
    itself is made in ``initialize``, on the loop that will use it."""

    __slots__ = (
        "_connect_timeout",
        "_pool_size",
        "_pool_timeout",
        "_read_timeout",
        "_session",
        "_usual_timeout",
        "_write_timeout",
    )

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        read_timeout: float | None = READ_TIMEOUT,
        write_timeout: float | None = WRITE_TIMEOUT,
        connect_timeout: float | None = CONNECT_TIMEOUT,
        pool_timeout: float | None = POOL_TIMEOUT,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._usual_timeout = _timeout(
            read=read_timeout, write=write_timeout, connect=connect_timeout, pool=pool_timeout
        )

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size, limit_per_host=self._pool_size)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.USER_AGENT},
                # Telegram's answers are JSON; the session need not keep cookies or follow redirects.
                cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        if request_data is not None and request_data.multipart_data:
            raise RuntimeError("AiohttpRequest does not upload files (Aftercare sends none)")
        given = (read_timeout, write_timeout, connect_timeout, pool_timeout)
        if all(isinstance(value, DefaultValue) for value in given):
            timeout = self._usual_timeout  # nearly every call: built once
        else:
            timeout = _timeout(
                read=_given(read_timeout, self._read_timeout),
                write=_given(write_timeout, self._write_timeout),
                connect=_given(connect_timeout, self._connect_timeout),
                pool=_given(pool_timeout, self._pool_timeout),
            )
        # Form-encoded here: aiohttp's own encoding of a dict builds a multipart writer first (a tenth of
        # the cost of a send).
        body = urlencode(request_data.json_parameters).encode() if request_data is not None else None
        try:
            async with session.request(
                method,
                url,
                data=body,
                headers=_FORM if body else None,
                timeout=timeout,
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        # Before the request went out (no connection, or none in time): nothing was sent.
        except aiohttp.ConnectionTimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientConnectorError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc
        # After a connection was had, the request may have reached Telegram.
        except TimeoutError as exc:  # aiohttp's own timeouts are TimeoutErrors too
            raise NoAnswerInTime from exc
        except aiohttp.ClientError as exc:
            raise NoAnswer(f"aiohttp.{type(exc).__name__}: {exc}") from exc


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _timeout(*, read: float | None, write: float | None, connect: float | None, pool: float | None) -> Any:
    """aiohttp has no separate write timeout: a request as a whole may take no longer than waiting for a
    connection, connecting, writing and reading together (when all of those are bounded)."""
    parts = (read, write, connect, pool)
    total = None if any(p is None for p in parts) else sum(p for p in parts if p is not None)
    # ``connect`` in aiohttp covers waiting for a free pooled connection as well as connecting.
    waiting = None if connect is None or pool is None else connect + pool
    return aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)


class FormFields:
    """Request parameters already in their wire form (strings), standing in for PTB's RequestData, which
    builds each value from a PTB object (the outbox holds its messages as stored text and JSON). Only for
    AiohttpRequest, whose do_request reads nothing but these two properties; PTB passes request data
    through to do_request untouched. (RequestData itself is marked final.)"""

    __slots__ = ("_fields",)

    def __init__(self, fields: dict[str, str]) -> None:
        self._fields = fields

    @property
    def json_parameters(self) -> dict[str, str]:
        return self._fields

    @property
    def multipart_data(self) -> dict[str, Any]:
        return {}


class MessageSender:
    """sendMessage for the outbox: a stored message as it is (HTML text, its keyboard as stored JSON),
    through the same request object, and so the same error mapping, as the rest of PTB. Returns
    Telegram's message_id without building a PTB Message from the answer (which cost more than the
    HTTP exchange itself). Waits ``answer_wait`` seconds for the answer; raises NoAnswer (a NetworkError)
    when the message may have arrived all the same."""

    def __init__(
        self, *, request: AiohttpRequest, bot_url: str, answer_wait: float = SEND_ANSWER_WAIT
    ) -> None:
        self._request = request
        self._url = f"{bot_url}/sendMessage"
        self.answer_wait = answer_wait

    async def send_html(self, *, chat_id: int, text: str, markup_json: str | None) -> int:
        fields = {"chat_id": str(chat_id), "text": text, "parse_mode": "HTML"}
        if markup_json:
            fields["reply_markup"] = markup_json
        result = await self._request.post(
            self._url, request_data=cast(RequestData, FormFields(fields)), read_timeout=self.answer_wait
        )
        if not isinstance(result, dict) or "message_id" not in result:
            raise NetworkError(f"sendMessage answered without a message_id: {str(result)[:200]}")
        return int(result["message_id"])


class UpdateFetcher:
    """getUpdates, answered as Telegram's JSON, each update a plain dict (PTB's ``Bot.get_updates`` parses
    the whole batch at once, and one update it cannot parse raised for all of them: polling stopped for
    good). The caller keeps each update first and parses it later, on its own (bot/inbound.py). Through the
    request object PTB uses for getUpdates, so failures map onto PTB's exceptions as everywhere else."""

    def __init__(self, *, request: AiohttpRequest, bot_url: str) -> None:
        self._request = request
        self._url = f"{bot_url}/getUpdates"

    async def get_updates(
        self, *, offset: int | None, wait_seconds: int, allowed_updates: list[str]
    ) -> list[object]:
        """The next batch (empty after ``wait_seconds`` with nothing new); entries as Telegram sent them."""
        fields = {"timeout": str(wait_seconds), "allowed_updates": json.dumps(allowed_updates)}
        if offset is not None:
            fields["offset"] = str(offset)
        result = await self._request.post(
            self._url,
            request_data=cast(RequestData, FormFields(fields)),
            # The long poll itself, plus the usual margin for the answer.
            read_timeout=wait_seconds + (self._request.read_timeout or READ_TIMEOUT),
        )
        if not isinstance(result, list):
            raise NetworkError(f"getUpdates answered without a list: {type(result).__name__}")
        return list(result)
