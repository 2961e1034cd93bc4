"""Serving the emulator (or any ASGI app, e.g. a test's webhook endpoint) with uvicorn in this event loop.

The socket is bound before uvicorn starts, so port 0 gives a free port whose number is known at once.
uvicorn's access log and logging setup are off: URLs carry the bot token, and a library must not
reconfigure the host application's logging.
"""

import asyncio
import contextlib
import socket
from collections.abc import Generator
from dataclasses import dataclass, field

import uvicorn
from starlette.types import ASGIApp

from bot.emulator.app import create_app
from bot.emulator.emulator import Emulator

_STARTUP_TIMEOUT = 10.0


@dataclass(kw_only=True)
class RunningServer:
    host: str
    port: int
    emulator: Emulator | None = None
    _server: uvicorn.Server = field(repr=False)
    _task: "asyncio.Task[None]" = field(repr=False)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def bot_api_url(self) -> str:
        """What to give PTB's `ApplicationBuilder().base_url(...)`."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """What to give PTB's `ApplicationBuilder().base_file_url(...)`."""
        return f"{self.base_url}/file/bot"

    async def aclose(self) -> None:
        if self.emulator is not None:
            await self.emulator.aclose()
        self._server.should_exit = True
        await self._task


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server inside someone else's application: it leaves SIGINT/SIGTERM to the host, which
    decides how to shut down (uvicorn would otherwise take the signals over while it runs)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def start_server(app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto must say TCP, or asyncio skips TCP_NODELAY on accepted connections and every answer waits
    # ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    config = uvicorn.Config(
        app,
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level="warning",
        timeout_graceful_shutdown=2,
        # uvicorn would otherwise take the client's address from X-Forwarded-For whenever the connection
        # comes from 127.0.0.1. The console reads that header itself, only from CONSOLE_TRUSTED_PROXIES.
        proxy_headers=False,
    )
    server = _EmbeddedServer(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]), name="emulator-server")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _STARTUP_TIMEOUT
    # uvicorn offers a flag, not an event; yield to it until it is up (or failed), without a fixed sleep.
    while not server.started:
        if task.done():
            sock.close()
            task.result()
            raise RuntimeError("uvicorn stopped before it started")
        if loop.time() > deadline:
            raise RuntimeError("uvicorn did not start")
        await asyncio.sleep(0.001)
    return RunningServer(host=host, port=sock.getsockname()[1], _server=server, _task=task)


async def serve(emulator: Emulator, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Serve the emulator on host:port (0: a free port); `await server.aclose()` to stop."""
    running = await start_server(create_app(emulator), host=host, port=port)
    running.emulator = emulator
    return running
