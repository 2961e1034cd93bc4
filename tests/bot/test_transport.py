"""bot/transport.py against the emulator over real sockets: PTB on the aiohttp backend does what it did on
httpx (sends, long polls), and every failure of the wire or of Telegram reaches the outbox as the same PTB
exception it was before: the outbox's retry, unreachable and give-up rules depend on it."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import InputFile
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application, ApplicationBuilder

from bot.emulator import Emulator, FaultKind, RunningServer, serve
from bot.transport import AiohttpRequest, MessageSender, NoAnswer

KEYBOARD = (
    '{"inline_keyboard": [[{"text": "Yes", "callback_data": "t1"}, {"text": "No", "callback_data": "t2"}]]}'
)


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator(enforce_limits=False)
    yield emulator
    await emulator.aclose()


@pytest.fixture
async def server(emulator: Emulator) -> AsyncIterator[RunningServer]:
    running = await serve(emulator)
    yield running
    await running.aclose()


@pytest.fixture
def requests() -> AiohttpRequest:
    return AiohttpRequest(read_timeout=0.5)


@pytest.fixture
async def application(
    server: RunningServer, requests: AiohttpRequest
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    assert server.emulator is not None
    application = (
        ApplicationBuilder()
        .token(server.emulator.token)
        .base_url(server.bot_api_url)
        .updater(None)
        .request(requests)
        .get_updates_request(AiohttpRequest(connection_pool_size=1))
        .build()
    )
    async with application:
        yield application


@pytest.fixture
def sender(requests: AiohttpRequest, application: Application[Any, Any, Any, Any, Any, Any]) -> MessageSender:
    # Waits longer for a send's answer than the 0.5 s every other call gets.
    return MessageSender(request=requests, bot_url=application.bot.base_url, answer_wait=2.0)


async def test_ptb_sends_and_long_polls_over_aiohttp(
    emulator: Emulator, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    bot = application.bot
    sent = await bot.send_message(ann.chat_id, "<b>Hello</b>", parse_mode="HTML")
    assert sent.chat.id == ann.chat_id and sent.text == "Hello"
    updates = await bot.get_updates(timeout=5)
    assert [u.message.text for u in updates if u.message] == ["/start"]

    async def type_later() -> None:
        await asyncio.sleep(0.3)
        await ann.send("4")

    typing = asyncio.create_task(type_later())
    # A long poll with nothing waiting is held open until something arrives, past the 5 s read timeout
    # that would end an ordinary call early (PTB adds the poll's timeout to it).
    later = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=10)
    await typing
    assert [u.message.text for u in later if u.message] == ["4"]


async def test_the_sender_delivers_html_and_the_keyboard_and_returns_telegrams_message_id(
    emulator: Emulator, sender: MessageSender
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    message_id = await sender.send_html(
        chat_id=ann.chat_id, text="<b>Pain now?</b> 0-10", markup_json=KEYBOARD
    )
    [message] = [entry for entry in ann.transcript() if entry.from_bot]
    assert message.text == "Pain now? 0-10"
    assert message.message_id == message_id
    assert [[(b.text, b.callback_data) for b in row] for row in message.buttons] == [
        [("Yes", "t1"), ("No", "t2")]
    ]
    plain = await sender.send_html(chat_id=ann.chat_id, text="Thank you.", markup_json=None)
    assert plain > message_id


async def test_a_429_is_retry_after_and_a_500_a_network_error_and_neither_is_sent(
    emulator: Emulator, sender: MessageSender
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    emulator.faults.script(FaultKind.RATE_LIMIT, methods={"sendMessage"})
    with pytest.raises(RetryAfter) as limited:
        await sender.send_html(chat_id=ann.chat_id, text="one", markup_json=None)
    assert limited.value.retry_after == timedelta(seconds=1)
    emulator.faults.script(FaultKind.SERVER_ERROR, methods={"sendMessage"})
    with pytest.raises(NetworkError) as failed:
        await sender.send_html(chat_id=ann.chat_id, text="two", markup_json=None)
    assert not isinstance(failed.value, NoAnswer)  # Telegram answered: it did not send it
    assert [entry.text for entry in ann.transcript() if entry.from_bot] == []


async def test_a_dropped_connection_is_a_network_error_and_the_next_call_goes_through(
    emulator: Emulator, sender: MessageSender
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    emulator.faults.script(FaultKind.DROP, methods={"sendMessage"})
    with pytest.raises(NetworkError) as dropped:
        await sender.send_html(chat_id=ann.chat_id, text="lost", markup_json=None)
    assert not isinstance(dropped.value, TimedOut)
    # Lost after the request went out: from here nobody can tell whether Telegram delivered it.
    assert isinstance(dropped.value, NoAnswer)
    await sender.send_html(chat_id=ann.chat_id, text="delivered", markup_json=None)
    assert [entry.text for entry in ann.transcript() if entry.from_bot] == ["delivered"]


async def test_a_slow_answer_is_waited_for_past_the_usual_read_timeout(
    emulator: Emulator, sender: MessageSender
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    emulator.faults.script(FaultKind.SLOW, methods={"sendMessage"}, slow_seconds=1.0)  # past the usual 0.5 s
    message_id = await sender.send_html(chat_id=ann.chat_id, text="slow but sure", markup_json=None)
    [message] = [entry for entry in ann.transcript() if entry.from_bot]
    assert (message.text, message.message_id) == ("slow but sure", message_id)


async def test_an_answer_later_than_the_send_waits_is_no_answer_though_telegram_has_the_message(
    emulator: Emulator, sender: MessageSender
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    emulator.faults.script(FaultKind.SLOW, methods={"sendMessage"}, slow_seconds=30)
    with pytest.raises(TimedOut) as late:
        await sender.send_html(chat_id=ann.chat_id, text="sent, unheard", markup_json=None)
    assert isinstance(late.value, NoAnswer)  # the outbox counts it as possibly delivered
    assert [entry.text for entry in ann.transcript() if entry.from_bot] == ["sent, unheard"]


async def test_a_blocked_bot_is_forbidden_and_an_unknown_chat_is_a_bad_request(
    emulator: Emulator, sender: MessageSender
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    await ann.block()
    with pytest.raises(Forbidden):
        await sender.send_html(chat_id=ann.chat_id, text="hello?", markup_json=None)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await sender.send_html(chat_id=999_999_999, text="hello?", markup_json=None)


async def test_nothing_listening_is_a_network_error() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: connecting is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        sender = MessageSender(request=request, bot_url=f"http://127.0.0.1:{port}/bot123:abc")
        with pytest.raises(NetworkError) as refused:
            await sender.send_html(chat_id=1, text="hello", markup_json=None)
        assert not isinstance(refused.value, TimedOut)
        assert not isinstance(refused.value, NoAnswer)  # never connected: certainly not delivered
    finally:
        await request.shutdown()


async def test_a_file_upload_is_refused_rather_than_sent_wrongly(
    emulator: Emulator, application: Application[Any, Any, Any, Any, Any, Any]
) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    with pytest.raises(NetworkError, match="does not upload files"):
        await application.bot.send_document(ann.chat_id, InputFile(b"report", filename="r.txt"))


async def test_calls_before_initialize_and_after_shutdown_fail_loudly(server: RunningServer) -> None:
    assert server.emulator is not None
    request = AiohttpRequest()
    sender = MessageSender(request=request, bot_url=f"{server.bot_api_url}{server.emulator.token}")
    with pytest.raises(NetworkError, match="not initialized"):
        await sender.send_html(chat_id=1, text="hello", markup_json=None)
    await request.initialize()
    await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):
        await sender.send_html(chat_id=1, text="hello", markup_json=None)


async def test_any_text_arrives_as_written(emulator: Emulator, sender: MessageSender) -> None:
    ann = emulator.new_user("Ann")
    await ann.start()
    text = "Café 👍 & 50% = 1+1?\nNew line; <b>bold</b> &amp; done"
    await sender.send_html(chat_id=ann.chat_id, text=text, markup_json=None)
    [message] = [entry for entry in ann.transcript() if entry.from_bot]
    assert message.text == "Café 👍 & 50% = 1+1?\nNew line; bold & done"
