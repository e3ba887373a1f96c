"""The console's web server (aiohttp), assembled from its parts.

console.context    what handlers share (settings, sessions, store, Rasa client)
console.middlewares security headers, login, CSRF and same-origin checks
console.routes     every route with the access it needs
console.views      the handlers, one module per page or API area
console.jobs       background work (retention)
"""

from __future__ import annotations

import time
from collections.abc import Callable

from aiohttp import web

from console.context import CONSOLE, Console
from console.jobs import JOBS
from console.middlewares import MIDDLEWARES
from console.project import Project
from console.routes import setup_routes
from console.settings import ConsoleSettings
from opastin.config import Settings

MAX_REQUEST_BYTES = 64 * 1024


def make_app(
    config: ConsoleSettings,
    project_settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    project: Project | None = None,
) -> web.Application:
    """The console as an aiohttp application (tests run it on a free port)."""
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=MAX_REQUEST_BYTES)
    app[CONSOLE] = Console(config, project_settings, clock, project)
    app.cleanup_ctx.extend(JOBS)
    setup_routes(app)
    return app
