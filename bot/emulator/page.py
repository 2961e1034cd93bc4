"""The patient's phone: GET / serves a plain HTML page; its script and styles come from static/.

No build step and no CDN. The Content-Security-Policy allows only this server's own scripts and styles,
so even a rendering mistake could not run injected script. The page talks only to /_emulator/.
"""

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response

STATIC_DIR = Path(__file__).parent / "static"
_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


async def phone(request: Request) -> Response:
    return FileResponse(
        STATIC_DIR / "phone.html",
        media_type="text/html; charset=utf-8",
        headers={
            "Content-Security-Policy": _POLICY,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
