"""What every request passes through: security headers, then the access check of its route.

Security model: every route declares its access in `console.routes.ROUTES`; anything else (an
unknown path, a HEAD request) is treated as needing a session. A session comes from the cookie
(HttpOnly, SameSite=Strict); every state-changing request also needs the session's CSRF token
in a header and, when the browser sends one, a same-origin Origin header.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from console.context import CONSOLE, COOKIE, SESSION, json_error
from console.routes import Access, access_of
from console.store import TrackerStoreError

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Headers on every response, errors included: CSP, no framing, no caching."""
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


@web.middleware
async def require_login(request: web.Request, handler: Handler) -> web.StreamResponse:
    """No session, no access; and no state change without the CSRF token from the same origin."""
    if access_of(request) is Access.PUBLIC:
        return await handler(request)
    session = request.app[CONSOLE].sessions.get(request.cookies.get(COOKIE))
    if session is None:
        if request.path.startswith("/api/") or request.method != "GET":
            return json_error(401, "log in first")
        raise web.HTTPSeeOther("/login")
    if request.method not in {"GET", "HEAD"}:
        if not same_origin(request):
            return json_error(403, "cross-origin request refused")
        token = request.headers.get("X-CSRF-Token", "")
        if not secrets.compare_digest(token.encode(), session.csrf.encode()):
            return json_error(403, "missing or wrong CSRF token")
    needed = access_of(request).role
    if needed is not None and request.app[CONSOLE].roles.role_of(session.user) < needed:
        return json_error(403, f"this needs the {needed.label} role")
    request[SESSION] = session
    return await handler(request)


def same_origin(request: web.Request) -> bool:
    """Whether the browser's Origin header, if it sent one, is the console's own."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or a same-origin GET-style request; the CSRF token decides
    return urlsplit(origin).netloc == request.host


@web.middleware
async def store_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unreachable tracker store is a clear 503, not a bare 500 (the message has no password)."""
    try:
        return await handler(request)
    except TrackerStoreError as error:
        return json_error(503, str(error))


MIDDLEWARES = [security_headers, require_login, store_errors]
