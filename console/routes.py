"""Every route of the console in one table, with the access each needs.

Adding a route means adding a row here and choosing its access; the middleware
(console.middlewares.require_login) reads the access from this table, and anything not in it
(an unknown path, a HEAD request) needs a session. tests/console/test_api.py fails when a route
exists that its list of protected routes does not name.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from console.views import login, pages, review, summary, try_it


class Access(enum.Enum):
    """Who may call a route. Every logged-in account may do everything for now (no roles yet);
    finer levels (viewer, annotator, admin) belong here, checked in require_login."""

    PUBLIC = "public"  # no session: the login form and its stylesheet only
    STAFF = "staff"  # any logged-in account; state changes also need the CSRF token


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    access: Access


ROUTES = (
    Route("GET", "/login", login.login_form, Access.PUBLIC),
    Route("POST", "/login", login.login, Access.PUBLIC),
    Route("GET", "/login.css", login.login_css, Access.PUBLIC),
    Route("POST", "/logout", login.logout, Access.STAFF),
    Route("GET", "/", pages.index_page, Access.STAFF),
    Route("GET", "/static/{name}", pages.static_file, Access.STAFF),
    Route("GET", "/api/meta", pages.meta, Access.STAFF),
    Route("POST", "/api/try/new", try_it.try_new, Access.STAFF),
    Route("POST", "/api/try/message", try_it.try_message, Access.STAFF),
    Route("GET", "/api/conversations", review.conversations, Access.STAFF),
    Route("GET", "/api/conversations/{sender_id}", review.transcript, Access.STAFF),
    Route("POST", "/api/conversations/{sender_id}/corrections", review.correct, Access.STAFF),
    Route("POST", "/api/conversations/{sender_id}/export", review.export, Access.STAFF),
    Route("GET", "/api/stats", summary.stats, Access.STAFF),
)
ACCESS = {(r.method, r.path): r.access for r in ROUTES}
PUBLIC = {key for key, access in ACCESS.items() if access is Access.PUBLIC}


def access_of(request: web.Request) -> Access:
    """The access the request's route declares; STAFF for anything the table does not name."""
    resource = request.match_info.route.resource
    if resource is None:  # no route matched (404, 405)
        return Access.STAFF
    return ACCESS.get((request.method, resource.canonical), Access.STAFF)


def setup_routes(app: web.Application) -> None:
    """Register every route of the table (GET routes also answer HEAD, which needs a session)."""
    for route in ROUTES:
        if route.method == "GET":
            app.router.add_get(route.path, route.handler)  # and HEAD, as aiohttp does
        else:
            app.router.add_route(route.method, route.path, route.handler)
