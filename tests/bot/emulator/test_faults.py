"""Fault injection: deterministic under a seed, bounded, and felt by PTB as Telegram's failures would be."""

import pytest
from telegram.error import NetworkError, TelegramError, TimedOut

from bot.emulator import Emulator, FaultKind, FaultPlan, RunningServer, serve
from bot.emulator.faults import FaultInjector
from tests.bot.emulator.conftest import build_application


def outcomes(injector: FaultInjector, calls: int, method: str = "sendMessage") -> list[str]:
    return [str(fault.kind) if (fault := injector.decide(method)) else "ok" for _ in range(calls)]


def test_the_same_seed_gives_the_same_faults() -> None:
    plan = FaultPlan(seed=42, rate=0.3)
    first, second = outcomes(FaultInjector(plan=plan), 200), outcomes(FaultInjector(plan=plan), 200)
    assert first == second
    assert first != outcomes(FaultInjector(plan=FaultPlan(seed=43, rate=0.3)), 200)
    assert {"rate_limit", "server_error", "slow", "drop"} <= set(first)


def test_faults_are_bounded_in_total_and_in_a_row() -> None:
    capped = FaultInjector(plan=FaultPlan(rate=1.0, max_faults=5, max_consecutive=100))
    assert outcomes(capped, 50).count("ok") == 45
    streaky = outcomes(FaultInjector(plan=FaultPlan(rate=1.0, max_consecutive=2, max_faults=1000)), 30)
    assert "ok" in streaky
    assert all(streaky[i : i + 3] != [streaky[i]] * 3 or streaky[i] == "ok" for i in range(len(streaky) - 2))


def test_polling_is_left_alone_unless_named() -> None:
    default = FaultInjector(plan=FaultPlan(rate=1.0))
    assert default.decide("getUpdates") is None
    named = FaultInjector(plan=FaultPlan(rate=1.0, methods=frozenset({"getUpdates"})))
    assert named.decide("getUpdates") is not None
    assert named.decide("sendMessage") is None


def test_scripted_faults_come_first_and_only_for_their_methods() -> None:
    injector = FaultInjector()
    injector.script(FaultKind.SERVER_ERROR, methods={"sendMessage"}, times=2)
    assert injector.decide("answerCallbackQuery") is None
    assert outcomes(injector, 3) == ["server_error", "server_error", "ok"]
    assert [fault.scripted for fault in injector.injected] == [True, True]


async def test_a_dropped_connection_is_a_network_error_and_nothing_is_sent(
    emulator: Emulator, server: RunningServer
) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    application = build_application(server, updater=False)
    async with application:
        emulator.faults.script(FaultKind.DROP, methods={"sendMessage"})
        with pytest.raises(NetworkError):
            await application.bot.send_message(patient.chat_id, "lost")
        await application.bot.send_message(patient.chat_id, "delivered")
    assert [entry.text for entry in patient.transcript() if entry.from_bot] == ["delivered"]


async def test_a_slow_answer_times_out_though_the_message_was_sent(
    emulator: Emulator, server: RunningServer
) -> None:
    patient = emulator.new_user("Ann")
    await patient.start()
    application = build_application(server, read_timeout=0.2, updater=False)
    async with application:
        emulator.faults.script(FaultKind.SLOW, methods={"sendMessage"}, slow_seconds=30)
        with pytest.raises(TimedOut):
            await application.bot.send_message(patient.chat_id, "sent, but you will not hear so")
    # The hazard a bot must handle: it timed out, yet the patient got the message (a retry repeats it).
    assert [entry.text for entry in patient.transcript() if entry.from_bot] == [
        "sent, but you will not hear so"
    ]


async def test_a_seeded_plan_replays_identically_through_ptb() -> None:
    async def run() -> list[str]:
        emulator = Emulator(enforce_limits=False)
        kinds = (FaultKind.RATE_LIMIT, FaultKind.SERVER_ERROR)
        emulator.faults.configure(
            FaultPlan(seed=7, rate=0.4, kinds=kinds, methods=frozenset({"sendMessage"}))
        )
        patient = emulator.new_user("Ann")
        await patient.start()
        server = await serve(emulator)
        results: list[str] = []
        try:
            async with build_application(server, updater=False) as application:
                for number in range(12):
                    try:
                        await application.bot.send_message(patient.chat_id, f"m{number}")
                        results.append("ok")
                    except TelegramError as error:
                        results.append(type(error).__name__)
        finally:
            await server.aclose()
        return results

    first = await run()
    assert await run() == first
    assert {"ok", "RetryAfter", "NetworkError"} <= set(first)
