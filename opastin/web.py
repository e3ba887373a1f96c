"""The local chat page: the rasa-webchat widget, served from web/, talking socket.io to Rasa.

Pages: `/` (the chat, `?lang=fi` sets the page language the bot receives; its words and writing
direction come from web/opastin-texts.json, opastin/page_texts.py) and `/example` (the page a
city web team copies, docs/widget.md); files under `/static/`. The widget connects
to the Rasa server itself, so the connector's origin check (bot/credentials.yml) must allow this
server's origin. Every page carries a Content-Security-Policy that allows scripts only from
this server: even if bot or user text reached the DOM as HTML, no script in it could run.
"""

from __future__ import annotations

import html
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from opastin.config import ROOT
from opastin.page_texts import TEXTS_FILE, PageTexts, PageTextsError, load_page_texts

WEB_DIR = ROOT / "web"
WIDGET_BUNDLE = WEB_DIR / "vendor" / "webchat.js"
LANGUAGE = re.compile(r"^[a-z]{2}$")
NETLOC = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$")
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


def render(template: Path, markup: Mapping[str, str] | None = None, **values: str) -> str:
    """Fill {{name}} placeholders with HTML-escaped values, and with `markup` fragments as they
    are (HTML this module built from escaped parts); templates are our own files."""
    text = template.read_text(encoding="utf-8")
    for name, value in values.items():
        text = text.replace("{{" + name + "}}", html.escape(value, quote=True))
    for name, fragment in (markup or {}).items():
        text = text.replace("{{" + name + "}}", fragment)
    return text


def language_links(texts: Mapping[str, PageTexts], current: str) -> str:
    """One link per page language, named in that language, the current one marked."""
    links = []
    for code, entry in texts.items():
        attributes = f'href="/?lang={code}" hreflang="{code}" lang="{code}" dir="{entry.dir}"'
        if code == current:
            attributes += ' aria-current="page"'
        links.append(f"<a {attributes}>{html.escape(entry.name)}</a>")
    return "\n      ".join(links)


def make_app(rasa_url: str, socket_url: str | None = None) -> web.Application:
    """The page server; `socket_url` is where browsers reach Rasa (default: `rasa_url`)."""
    socket_url = (socket_url or rasa_url).rstrip("/")
    csp = content_security_policy(socket_url)
    if not WIDGET_BUNDLE.exists():
        raise SystemExit(f"error: {WIDGET_BUNDLE} is missing; run `make web` to install the widget")
    try:
        texts = load_page_texts(TEXTS_FILE)
    except PageTextsError as error:
        raise SystemExit(f"error: {error}") from error

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
        if lang not in texts:
            available = ", ".join(texts)
            raise web.HTTPNotFound(text=f"no page in language {lang!r}; there are: {available}")
        page_texts = texts[lang]
        page = render(
            WEB_DIR / "index.html",
            markup={"language_links": language_links(texts, lang)},
            lang=lang,
            dir=page_texts.dir,
            title=page_texts.title,
            intro=page_texts.intro,
            languages_label=page_texts.languages,
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
