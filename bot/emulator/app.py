"""`create_app(emulator)`: one Starlette app serving the Bot API, the control API and the phone page.

Routing only; behaviour lives in bot_api.py, control.py and page.py.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.emulator import bot_api, control, page
from bot.emulator.emulator import Emulator
from bot.emulator.errors import not_found


async def _telegram_not_found(request: Request) -> Response:
    return bot_api.telegram_error(not_found())


def create_app(emulator: Emulator) -> Starlette:
    routes = [
        Route("/", page.phone, methods=["GET"]),
        Mount("/_emulator/static", StaticFiles(directory=page.STATIC_DIR), name="static"),
        *control.routes(),
        Route("/bot{token}/{method}", bot_api.endpoint, methods=["GET", "POST"]),
        Route("/file/bot{token}/{path:path}", bot_api.file_endpoint, methods=["GET"]),
        # Anything else under the Bot API prefix gets Telegram's 404, not Starlette's plain-text one.
        Route("/bot{rest:path}", _telegram_not_found, methods=["GET", "POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.emulator = emulator
    return app
