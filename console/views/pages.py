"""The single-page console itself: its HTML, its script and style files, and the start-up data
(who is logged in, the CSRF token, the menus) its script asks for first.

Pages never render server text as HTML: the script builds the DOM with textContent.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from console.auth import Session
from console.context import CONSOLE, SESSION

STATIC = Path(__file__).parent.parent / "static"
STATIC_FILES = {"console.js", "console.css", "charts.js", "inbox.js", "suggest.js", "models.js"}


async def index_page(_: web.Request) -> web.FileResponse:
    """The single-page console (its script builds every view)."""
    return web.FileResponse(STATIC / "index.html", headers={"Content-Type": "text/html"})


async def static_file(request: web.Request) -> web.FileResponse:
    """The console's own script and style files, by name only (no directory walk)."""
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


async def meta(request: web.Request) -> web.Response:
    """Who is logged in, their CSRF token, and the menus' intents and organisations."""
    console = request.app[CONSOLE]
    session: Session = request[SESSION]
    return web.json_response(
        {
            "user": session.user,
            "role": console.roles.role_of(session.user).label,
            "csrf": session.csrf,
            "intents": console.project.intents,
            "organisations": console.project.organisations,
            "services": console.project.services,
            "store": console.store.describe(),
            "timezone": console.config.timezone,
        }
    )
