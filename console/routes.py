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

from console.roles import Role
from console.views import (
    accounts,
    guests,
    inbox,
    login,
    models,
    pages,
    review,
    suggestions,
    summary,
    try_it,
)


class Access(enum.Enum):
    """Who may call a route: nobody in particular (the login form), or the least role needed
    (console.roles). State changes also need the session's CSRF token."""

    PUBLIC = "public"  # no session: the login form and its stylesheet; guest links' pages
    VIEWER = "viewer"  # any logged-in account: read, try the bot
    ANNOTATOR = "annotator"  # inbox annotations, tags, corrections, exports
    ADMIN = "admin"  # accounts' roles, training and publishing models

    @property
    def role(self) -> Role | None:
        """The least role this access needs; None for public routes."""
        return None if self is Access.PUBLIC else Role.parse(self.value)


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
    Route("POST", "/logout", login.logout, Access.VIEWER),
    Route("GET", "/", pages.index_page, Access.VIEWER),
    Route("GET", "/static/{name}", pages.static_file, Access.VIEWER),
    Route("GET", "/api/meta", pages.meta, Access.VIEWER),
    Route("POST", "/api/try/new", try_it.try_new, Access.VIEWER),
    Route("POST", "/api/try/message", try_it.try_message, Access.VIEWER),
    Route("GET", "/api/conversations", review.conversations, Access.VIEWER),
    Route("GET", "/api/conversations/{sender_id}", review.transcript, Access.VIEWER),
    Route("POST", "/api/conversations/{sender_id}/corrections", review.correct, Access.ANNOTATOR),
    Route("POST", "/api/conversations/{sender_id}/export", review.export, Access.ANNOTATOR),
    Route("GET", "/api/stats", summary.stats, Access.VIEWER),
    Route("GET", "/api/inbox", inbox.messages, Access.VIEWER),
    Route("POST", "/api/inbox/annotations", inbox.annotate, Access.ANNOTATOR),
    Route("POST", "/api/inbox/annotations/undo", inbox.undo, Access.ANNOTATOR),
    Route("POST", "/api/inbox/export", inbox.export, Access.ANNOTATOR),
    Route("POST", "/api/tags", inbox.add_tags, Access.ANNOTATOR),
    Route("POST", "/api/tags/remove", inbox.remove_tags, Access.ANNOTATOR),
    Route("GET", "/api/corpus/services/{service_id}", suggestions.service, Access.VIEWER),
    Route("GET", "/api/suggestions", suggestions.listed, Access.VIEWER),
    Route("POST", "/api/suggestions", suggestions.propose, Access.ANNOTATOR),
    Route("POST", "/api/suggestions/{number}/accept", suggestions.accept, Access.ADMIN),
    Route("POST", "/api/suggestions/{number}/reject", suggestions.reject, Access.ADMIN),
    Route("GET", "/api/guest-links", guests.list_links, Access.ADMIN),
    Route("POST", "/api/guest-links", guests.create_link, Access.ADMIN),
    Route("POST", "/api/guest-links/{number}/revoke", guests.revoke_link, Access.ADMIN),
    # Guests have no account: the link's token is checked by the handlers on every request.
    Route("GET", "/guest/{token}", guests.guest_page, Access.PUBLIC),
    Route("POST", "/guest/{token}/message", guests.guest_message, Access.PUBLIC),
    Route("GET", "/guest.js", guests.guest_script, Access.PUBLIC),
    Route("GET", "/api/accounts", accounts.list_accounts, Access.ADMIN),
    Route("POST", "/api/accounts/{account}/role", accounts.set_role, Access.ADMIN),
    Route("GET", "/api/models", models.overview, Access.ADMIN),
    Route("POST", "/api/models/train", models.train, Access.ADMIN),
    Route("POST", "/api/models/{model_id}/publish", models.publish, Access.ADMIN),
)
ACCESS = {(r.method, r.path): r.access for r in ROUTES}
PUBLIC = {key for key, access in ACCESS.items() if access is Access.PUBLIC}


def access_of(request: web.Request) -> Access:
    """The access the request's route declares; ADMIN for a route the table does not name (a
    HEAD request is the GET route's), VIEWER when no route matched (404, 405 after login)."""
    resource = request.match_info.route.resource
    if resource is None:  # no route matched (404, 405)
        return Access.VIEWER
    if request.method == "HEAD":  # as its GET, but always with a session
        access = ACCESS.get(("GET", resource.canonical), Access.ADMIN)
        return Access.VIEWER if access is Access.PUBLIC else access
    return ACCESS.get((request.method, resource.canonical), Access.ADMIN)


def setup_routes(app: web.Application) -> None:
    """Register every route of the table (GET routes also answer HEAD, which needs a session)."""
    for route in ROUTES:
        if route.method == "GET":
            app.router.add_get(route.path, route.handler)  # and HEAD, as aiohttp does
        else:
            app.router.add_route(route.method, route.path, route.handler)
