"""The local chat page: the rasa-webchat widget, served from web/, talking socket.io to Rasa.

Pages: `/` (the chat, `?lang=fi` sets the page language the bot receives) and `/example`
(the page a city web team copies, docs/widget.md); files under `/static/`. The widget connects
to the Rasa server itself, so the connector's origin check (bot/credentials.yml) must allow this
server's origin. Every page carries a Content-Security-Policy that allows scripts only from
this server: even if bot or user text reached the DOM as HTML, no script in it could run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from opastin.config import ROOT

WEB_DIR = ROOT / "web"
WIDGET_BUNDLE = WEB_DIR / "vendor" / "webchat.js"
LANGUAGE = re.compile(r"^[a-z]{2}$")
NETLOC = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
RTL_LANGUAGES = {"ar", "fa", "he", "ur"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def websocket_origin(url: str) -> str:
    """The ws(s):// form of an http(s) URL's origin, which CSP's connect-src needs as well."""
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme)
    extra = parts.path not in ("", "/") or parts.query or parts.fragment
    if not scheme or not NETLOC.match(parts.netloc) or extra:
        raise ValueError(f"socket URL must be http(s)://host[:port], got {url!r}")
    return f"{scheme}://{parts.netloc}"


def content_security_policy(socket_url: str) -> str:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(socket_url))
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",  # the widget injects its CSS as <style> tags
            "img-src 'self' data:",
            "font-src 'self' data:",  # the carousel's icon font is inlined
            f"connect-src 'self' {origin} {websocket_origin(socket_url)}",
            "object-src 'none'",
            "frame-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


def render(template: Path, **values: str) -> str:
    """Fill {{name}} placeholders with HTML-escaped values (templates are our own files)."""
    text = template.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", html.escape(value, quote=True))
    return text


def make_app(rasa_url: str, socket_url: str | None = None) -> web.Application:
    """The page server; `socket_url` is where browsers reach Rasa (default: `rasa_url`)."""
    socket_url = (socket_url or rasa_url).rstrip("/")
    csp = content_security_policy(socket_url)
    if not WIDGET_BUNDLE.exists():
        raise SystemExit(f"error: {WIDGET_BUNDLE} is missing; run `make web` to install the widget")

    @web.middleware
    async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("Content-Security-Policy", csp)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    async def index(request: web.Request) -> web.Response:
        lang = request.query.get("lang", "en")
        if not LANGUAGE.match(lang):
            raise web.HTTPBadRequest(text="lang must be a two-letter language code, e.g. ?lang=fi")
        page = render(
            WEB_DIR / "index.html",
            lang=lang,
            dir="rtl" if lang in RTL_LANGUAGES else "ltr",
            socket_url=socket_url,
        )
        return web.Response(text=page, content_type="text/html")

    async def example(_: web.Request) -> web.Response:
        page = render(WEB_DIR / "example.html", socket_url=socket_url, asset_base="")
        return web.Response(text=page, content_type="text/html")

    app = web.Application(middlewares=[security_headers])
    app.router.add_get("/", index)
    app.router.add_get("/example", example)
    app.router.add_static("/static/", WEB_DIR, show_index=False)
    return app
