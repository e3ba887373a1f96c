"""Logging in and out: the login form (with its own CSRF token), the password check, sessions."""

from __future__ import annotations

import asyncio
import html
import re
import secrets

from aiohttp import web

from console.context import CONSOLE, COOKIE, LOGIN_COOKIE, Console
from console.views.pages import STATIC

LOGIN_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def _login_page(csrf: str, error: str = "", status: int = 200) -> web.Response:
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    page = page.replace("__CSRF__", html.escape(csrf)).replace("__ERROR__", html.escape(error))
    return web.Response(text=page, content_type="text/html", status=status)


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.app[CONSOLE].config.secure_cookie,
    )


async def login_form(request: web.Request) -> web.Response:
    """The login page, with a form token bound to a cookie (login CSRF)."""
    # Keep the browser's token: a second GET (the browser's favicon request is redirected here)
    # must not invalidate the form already on screen.
    csrf = request.cookies.get(LOGIN_COOKIE, "")
    if not LOGIN_TOKEN.match(csrf):
        csrf = secrets.token_urlsafe(24)
    response = _login_page(csrf)
    _set_cookie(request, response, LOGIN_COOKIE, csrf)
    return response


async def login(request: web.Request) -> web.Response:
    """Check the form token, the throttle (per address and name) and the password; log in."""
    console = request.app[CONSOLE]
    form = await request.post()
    name = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    cookie_token = request.cookies.get(LOGIN_COOKIE, "")
    form_token = str(form.get("csrf", ""))
    fresh = secrets.token_urlsafe(24)
    address = client_address(request)
    if not cookie_token or not secrets.compare_digest(cookie_token.encode(), form_token.encode()):
        response = _login_page(fresh, "The form expired. Please try again.", 403)
    elif console.throttle.wait(name, address) > 0:
        wait = console.throttle.retry_after(name, address)
        response = _login_page(fresh, f"Too many failed attempts. Try again in {wait} s.", 429)
        response.headers["Retry-After"] = str(wait)
    elif not await _counted_check(console, name, password, address):
        response = _login_page(fresh, "Wrong user name or password.", 401)
    else:
        console.throttle.succeeded(name, address)
        console.sessions.end(request.cookies.get(COOKIE))  # no session fixation
        response = web.Response(status=303, headers={"Location": "/"})
        _set_cookie(request, response, COOKIE, console.sessions.create(name))
        response.del_cookie(LOGIN_COOKIE, path="/")
        return response
    _set_cookie(request, response, LOGIN_COOKIE, fresh)
    return response


async def _counted_check(console: Console, name: str, password: str, address: str) -> bool:
    """The password check, counted as a failure before it runs (undone when it succeeds).

    Counting first means parallel guesses from one address cannot all start before the
    first one fails: the sixth waits like a sixth sequential one.
    """
    console.throttle.failed(name, address)
    return await asyncio.to_thread(console.auth.check, name, password)


def client_address(request: web.Request) -> str:
    """The client's address for throttling: the peer, or what a trusted proxy says it is.

    Behind a reverse proxy every peer is the proxy; its X-Forwarded-For is believed only when
    the peer is listed in CONSOLE_TRUSTED_PROXIES, and then its last entry not itself a proxy.
    """
    peer = request.remote or ""
    setting = request.app[CONSOLE].config.trusted_proxies
    trusted = {p.strip() for p in setting.split(",") if p.strip()}
    if not peer or peer not in trusted:
        return peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return peer


async def logout(request: web.Request) -> web.Response:
    """End the session on the server, not only in the browser."""
    request.app[CONSOLE].sessions.end(request.cookies.get(COOKIE))
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def login_css(_: web.Request) -> web.FileResponse:
    """The login page's stylesheet: the only file served without a session."""
    return web.FileResponse(STATIC / "login.css")
