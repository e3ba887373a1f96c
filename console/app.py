"""The console's web server (aiohttp): login, pages, and the JSON API the pages use.

Security model: every path but the login page and its stylesheet needs a session cookie
(HttpOnly, SameSite=Strict); every state-changing request also needs the session's CSRF token
in a header and, when the browser sends one, a same-origin Origin header. Pages never insert
text as HTML: the front end builds the DOM with textContent, and a strict Content Security
Policy forbids inline scripts. Conversation data is masked before it leaves this server.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from aiohttp import web

from console.auth import Authenticator, LoginThrottle, Session, SessionStore
from console.conversations import (
    TEST_PREFIX,
    ConversationIndex,
    Filters,
    build_turns,
    select,
)
from console.export import build_export
from console.masking import mask_data
from console.project import Project
from console.retention import DAY, purge
from console.settings import ConsoleSettings
from console.state import ConsoleState
from console.stats import summary_stats
from console.store import TrackerStore
from opastin.config import ROOT, Settings

STATIC = Path(__file__).with_name("static")
COOKIE = "opastin_console"
LOGIN_COOKIE = "opastin_console_login"
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/login.css")}
SENDER = re.compile(r"^[^/\x00-\x1f]{1,255}$")
TEST_SENDER = re.compile(rf"^{TEST_PREFIX}[a-z0-9]{{8,64}}$")
MAX_TEXT = 2000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Console:
    """Everything the handlers share: settings, accounts, sessions, the store and state."""

    def __init__(
        self,
        config: ConsoleSettings,
        project_settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        project: Project | None = None,
    ) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.auth = Authenticator(config.accounts_file, config.accounts)
        self.sessions = SessionStore(
            config.session_idle_minutes * 60, config.session_max_hours * 3600, clock
        )
        self.throttle = LoginThrottle(clock=clock)
        self.store = TrackerStore(config.resolved_tracker_url(project_settings))
        self.index = ConversationIndex(self.store)
        self.state = ConsoleState(config.state_db)
        self.project = project or Project(corpus_dir=project_settings.corpus_dir)
        self.rasa_url = config.resolved_rasa_url(project_settings)
        self.rasa_token = config.resolved_rasa_token(project_settings)


CONSOLE = web.AppKey("console", Console)
SESSION = web.RequestKey("console.session", Session)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


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
    console = request.app[CONSOLE]
    if (request.method, request.path) in PUBLIC:
        return await handler(request)
    session = console.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        if request.path.startswith("/api/") or request.method != "GET":
            return _error(401, "log in first")
        raise web.HTTPSeeOther("/login")
    if request.method not in {"GET", "HEAD"}:
        if not _same_origin(request):
            return _error(403, "cross-origin request refused")
        token = request.headers.get("X-CSRF-Token", "")
        if not secrets.compare_digest(token.encode(), session.csrf.encode()):
            return _error(403, "missing or wrong CSRF token")
    request[SESSION] = session
    return await handler(request)


def _same_origin(request: web.Request) -> bool:
    origin = request.headers.get("Origin")
    if origin is None:
        return True  # not a browser, or a same-origin GET-style request; the CSRF token decides
    return urlsplit(origin).netloc == request.host


# ----------------------------------------------------------------------------- login / pages


def _login_page(csrf: str, error: str = "", status: int = 200) -> web.Response:
    page = (STATIC / "login.html").read_text(encoding="utf-8")
    page = page.replace("__CSRF__", html.escape(csrf)).replace("__ERROR__", html.escape(error))
    return web.Response(text=page, content_type="text/html", status=status)


LOGIN_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


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
    """Check the form token, the throttle and the password; start a fresh session."""
    console = request.app[CONSOLE]
    form = await request.post()
    name = str(form.get("username", ""))[:64]
    password = str(form.get("password", ""))[:1024]
    cookie_token = request.cookies.get(LOGIN_COOKIE, "")
    form_token = str(form.get("csrf", ""))
    fresh = secrets.token_urlsafe(24)
    if not cookie_token or not secrets.compare_digest(cookie_token.encode(), form_token.encode()):
        response = _login_page(fresh, "The form expired. Please try again.", 403)
    elif console.throttle.blocked(name):
        response = _login_page(fresh, "Too many failed attempts. Try again later.", 429)
    elif not await asyncio.to_thread(console.auth.check, name, password):
        console.throttle.failed(name)
        response = _login_page(fresh, "Wrong user name or password.", 401)
    else:
        console.throttle.succeeded(name)
        console.sessions.end(request.cookies.get(COOKIE))  # no session fixation
        response = web.Response(status=303, headers={"Location": "/"})
        _set_cookie(request, response, COOKIE, console.sessions.create(name))
        response.del_cookie(LOGIN_COOKIE, path="/")
        return response
    _set_cookie(request, response, LOGIN_COOKIE, fresh)
    return response


def _set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.app[CONSOLE].config.secure_cookie,
    )


async def logout(request: web.Request) -> web.Response:
    """End the session on the server, not only in the browser."""
    request.app[CONSOLE].sessions.end(request.cookies.get(COOKIE))
    response = web.json_response({"ok": True})
    response.del_cookie(COOKIE, path="/")
    return response


async def index_page(_: web.Request) -> web.FileResponse:
    """The single-page console (its script builds every view)."""
    return web.FileResponse(STATIC / "index.html", headers={"Content-Type": "text/html"})


async def login_css(_: web.Request) -> web.FileResponse:
    """The login page's stylesheet: the only file served without a session."""
    return web.FileResponse(STATIC / "login.css")


async def static_file(request: web.Request) -> web.FileResponse:
    """The console's own script and style files, by name only (no directory walk)."""
    name = request.match_info["name"]
    if name not in {"console.js", "console.css", "charts.js"}:
        raise web.HTTPNotFound()
    return web.FileResponse(STATIC / name)


# ----------------------------------------------------------------------------- API


async def meta(request: web.Request) -> web.Response:
    """Who is logged in, their CSRF token, and the menus' intents and organisations."""
    console = request.app[CONSOLE]
    session: Session = request[SESSION]
    return web.json_response(
        {
            "user": session.user,
            "csrf": session.csrf,
            "intents": console.project.intents,
            "organisations": console.project.organisations,
            "store": console.store.describe(),
            "timezone": console.config.timezone,
        }
    )


async def try_new(_: web.Request) -> web.Response:
    """A fresh test user id, so a try starts with an empty tracker."""
    return web.json_response({"sender_id": TEST_PREFIX + secrets.token_hex(8)})


async def try_message(request: web.Request) -> web.Response:
    """Send one message as the test user over REST; return the replies and the whole tracker."""
    console = request.app[CONSOLE]
    try:
        body = await request.json()
        sender, text = str(body["sender_id"]), str(body["text"]).strip()
    except (ValueError, KeyError, TypeError):
        return _error(400, 'expected JSON {"sender_id": ..., "text": ...}')
    if not TEST_SENDER.match(sender):
        return _error(400, f"the test user's id must look like {TEST_PREFIX}<hex>")
    if not text or len(text) > MAX_TEXT:
        return _error(400, f"the message must have 1 to {MAX_TEXT} characters")
    metadata = {"console_user": request[SESSION].user}
    timeout = aiohttp.ClientTimeout(total=60)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http:
            async with http.post(
                f"{console.rasa_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": text, "metadata": metadata},
            ) as response:
                if response.status != 200:
                    return _error(502, f"Rasa answered HTTP {response.status}")
                replies = await response.json(content_type=None)
            async with http.get(
                f"{console.rasa_url}/conversations/{quote(sender, safe='')}/tracker",
                params={"include_events": "ALL", "token": console.rasa_token},
            ) as response:
                if response.status in {401, 403}:
                    return _error(
                        502,
                        "Rasa's HTTP API refused the token: start Rasa with --enable-api "
                        "--auth-token and give the console the same token",
                    )
                if response.status != 200:
                    return _error(502, f"Rasa's tracker API answered HTTP {response.status}")
                tracker = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return _error(502, f"the Rasa server at {console.rasa_url} is not reachable")
    turns = build_turns(tracker.get("events") or [])
    return web.json_response(
        {
            "sender_id": sender,
            "replies": _masked_replies(replies),
            "turns": _with_corrections(turns, console.state.corrections(sender)),
        }
    )


def _masked_replies(replies: Any) -> list[dict[str, Any]]:
    return mask_data(replies if isinstance(replies, list) else [])


def _with_corrections(
    turns: list[dict[str, Any]], corrections: dict[int, dict[str, Any]]
) -> list[dict[str, Any]]:
    for turn in turns:
        turn["correction"] = corrections.get(turn["index"]) if turn["index"] is not None else None
    return turns


async def conversations(request: web.Request) -> web.Response:
    """The filtered list, newest first, one page of it, with the filter menus' values."""
    console = request.app[CONSOLE]
    try:
        filters = Filters.from_query(request.query)
        limit = min(max(int(request.query.get("limit", 50)), 1), 200)
        offset = max(int(request.query.get("offset", 0)), 0)
    except ValueError as error:
        return _error(400, str(error))
    summaries = await asyncio.to_thread(console.index.refresh)
    found = select(summaries, filters, console.tz)
    facets = {
        "channels": sorted({c for s in summaries.values() for c in s.channels}),
        "languages": sorted({lang for s in summaries.values() for lang in s.languages}),
        "intents": sorted({i for s in summaries.values() for i in s.intents}),
    }
    return web.json_response(
        {
            "total": len(found),
            "offset": offset,
            "limit": limit,
            "items": [s.as_json(console.tz) for s in found[offset : offset + limit]],
            "facets": facets,
        }
    )


def _sender(request: web.Request) -> str:
    sender = request.match_info["sender_id"]
    if not SENDER.match(sender):
        raise web.HTTPBadRequest(text="bad conversation id")
    return sender


async def transcript(request: web.Request) -> web.Response:
    """One conversation's turns from the tracker store, with its corrections."""
    console = request.app[CONSOLE]
    sender = _sender(request)
    events = await asyncio.to_thread(console.store.events, sender)
    if not events:
        return _error(404, "no such conversation")
    summaries = await asyncio.to_thread(console.index.refresh)
    summary = summaries.get(sender)
    turns = _with_corrections(build_turns(events), console.state.corrections(sender))
    return web.json_response(
        {
            "sender_id": sender,
            "summary": summary.as_json(console.tz) if summary else None,
            "turns": turns,
        }
    )


async def correct(request: web.Request) -> web.Response:
    """Save (or clear) a turn's right intent and/or organisation."""
    console = request.app[CONSOLE]
    sender = _sender(request)
    try:
        body = await request.json()
        turn = int(body["turn"])
        intent = body.get("intent") or None
        organisation = body.get("organisation") or None
    except (ValueError, KeyError, TypeError):
        return _error(400, 'expected JSON {"turn": n, "intent": ..., "organisation": ...}')
    if intent is not None and intent not in console.project.intents:
        return _error(400, f"unknown intent {str(intent)[:50]!r}")
    known = {o["id"] for o in console.project.organisations}
    if organisation is not None and organisation not in known:
        return _error(400, f"unknown organisation {str(organisation)[:50]!r}")
    events = await asyncio.to_thread(console.store.events, sender)
    users = sum(1 for e in events if e.get("event") == "user")
    if not 0 <= turn < users:
        return _error(404, "no such turn in this conversation")
    console.state.correct(sender, turn, intent, organisation, request[SESSION].user)
    saved = console.state.corrections(sender).get(turn)
    return web.json_response({"turn": turn, "correction": saved})


async def export(request: web.Request) -> web.Response:
    """Write the conversation's story, NLU examples and questions; return them."""
    console = request.app[CONSOLE]
    sender = _sender(request)
    events = await asyncio.to_thread(console.store.events, sender)
    if not events:
        return _error(404, "no such conversation")
    result = build_export(
        sender, build_turns(events, raw=True), console.state.corrections(sender), console.project
    )
    cfg = console.config
    paths = result.write(cfg.stories_dir, cfg.nlu_dir, cfg.questions_dir)
    return web.json_response(
        {
            "paths": {k: _relative(Path(v)) for k, v in paths.items()},
            "story": result.story,
            "nlu": result.nlu,
            "questions": result.questions,
            "notes": result.notes,
        }
    )


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


async def stats(request: web.Request) -> web.Response:
    """The summary page's numbers for the filtered conversations."""
    console = request.app[CONSOLE]
    try:
        filters = Filters.from_query(request.query)
    except ValueError as error:
        return _error(400, str(error))
    summaries = await asyncio.to_thread(console.index.refresh)
    names = {o["id"]: o["name"] for o in console.project.organisations}
    chosen = select(summaries, filters, console.tz)
    return web.json_response(summary_stats(chosen, console.tz, names))


async def retention_task(app: web.Application) -> AsyncIterator[None]:
    """With CONSOLE_RETENTION_DAYS set, purge at start-up and then once a day while running."""
    console = app[CONSOLE]
    days = console.config.retention_days

    async def loop() -> None:
        while True:
            result = await asyncio.to_thread(purge, console.store, console.state, days)
            if result.conversations:
                print(f"[console] retention: deleted {len(result.conversations)} conversation(s)")
            await asyncio.sleep(DAY)

    task = asyncio.create_task(loop()) if days > 0 else None
    if task is not None:
        await asyncio.sleep(0)  # let the first purge start before the first request
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make_app(
    config: ConsoleSettings,
    project_settings: Settings,
    *,
    clock: Callable[[], float] = time.monotonic,
    project: Project | None = None,
) -> web.Application:
    """The console as an aiohttp application (tests run it on a free port)."""
    app = web.Application(middlewares=[security_headers, require_login], client_max_size=64 * 1024)
    app[CONSOLE] = Console(config, project_settings, clock, project)
    app.cleanup_ctx.append(retention_task)
    app.router.add_get("/login", login_form)
    app.router.add_post("/login", login)
    app.router.add_get("/login.css", login_css)
    app.router.add_post("/logout", logout)
    app.router.add_get("/", index_page)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/api/meta", meta)
    app.router.add_post("/api/try/new", try_new)
    app.router.add_post("/api/try/message", try_message)
    app.router.add_get("/api/conversations", conversations)
    app.router.add_get("/api/conversations/{sender_id}", transcript)
    app.router.add_post("/api/conversations/{sender_id}/corrections", correct)
    app.router.add_post("/api/conversations/{sender_id}/export", export)
    app.router.add_get("/api/stats", stats)
    return app
