"""`python -m console`: run the staff console on its own, for a quick look in development.

Brings the database schema up to date, then serves CONSOLE_BASE_URL's host and port with uvicorn.
Create the first account with `aftercare staff add --username you --role admin`. In production the
console runs inside `aftercare run`, next to the bot, on the same engine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from console.app import create_app
from console.settings import ConsoleSettings
from flows.production import one_line_each
from storage.db import make_engine
from storage.migrate import upgrade


def main() -> int:
    try:
        settings = ConsoleSettings()
    except ValidationError as exc:
        print("console: cannot start with these settings:", file=sys.stderr)
        for line in one_line_each(exc):
            print(f"  {line}", file=sys.stderr)
        return 2
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        app = create_app(settings, engine)
        uvicorn.run(
            app,
            host=settings.listen_host,
            port=settings.listen_port,
            log_level="info",
            access_log=False,  # access lines carry query strings, and a search may be a name
            proxy_headers=False,  # X-Forwarded-For is read by the console, from CONSOLE_TRUSTED_PROXIES only
        )
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
