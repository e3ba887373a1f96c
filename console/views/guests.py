"""Guest tester links: admins make, list and revoke them; guests chat on the link's page.

The guest routes are public (no account): the token in the URL is the credential, checked on
every request, so a revoked or expired link stops at once. A closed link gets a page that says
so (410), an unknown one a 404 page; never a stack trace.
"""

from __future__ import annotations

import html
import math

from aiohttp import web

from console.context import CONSOLE, SESSION, json_error
from console.guests import GuestLink, LinkClosed, check_label
from console.masking import mask_data
from console.rasa_client import RasaError
from console.tags import CONVERSATION
from console.views.inbox import BadRequest, _body
from console.views.pages import STATIC
from console.views.try_it import MAX_TEXT

CLOSED = {
    "unknown": (404, "This test link does not exist. Check that you copied all of it."),
    "expired": (410, "This test link has expired. Ask the person who sent it for a new one."),
    "revoked": (410, "This test link was closed. Ask the person who sent it for a new one."),
}


def _page(name: str, status: int = 200, **values: str) -> web.Response:
    page = (STATIC / name).read_text(encoding="utf-8")
    for key, value in values.items():
        page = page.replace(f"__{key.upper()}__", html.escape(value))
    return web.Response(text=page, content_type="text/html", status=status)


def _closed_page(error: LinkClosed) -> web.Response:
    status, message = CLOSED[error.reason]
    return _page("guest_closed.html", status, message=message)


async def list_links(request: web.Request) -> web.Response:
    """Every link with its state (open, expired, revoked) and who made it."""
    guests = request.app[CONSOLE].guests
    now = guests.clock()
    return web.json_response(
        {
            "max_days": request.app[CONSOLE].config.guest_link_max_days,
            "links": [link.as_json(now) for link in guests.all()],
        }
    )


async def create_link(request: web.Request) -> web.Response:
    """A new link: {"label", "hours"}; the answer holds its URL, shown this once."""
    console = request.app[CONSOLE]
    max_hours = console.config.guest_link_max_days * 24
    try:
        body = await _body(request)
        label = check_label(body.get("label"))
        hours = body.get("hours")
        if not isinstance(hours, (int, float)) or isinstance(hours, bool):
            raise BadRequest(f"hours: expected a number from 1 to {max_hours}")
        if not 1 <= hours <= max_hours:
            raise BadRequest(f"hours: expected a number from 1 to {max_hours}")
    except ValueError as error:
        return json_error(400, str(error))
    link, token = console.guests.create(label, float(hours), request[SESSION].user)
    path = f"/guest/{token}"
    return web.json_response(
        {
            **link.as_json(console.guests.clock()),
            "path": path,
            "url": f"{request.url.origin()}{path}",
        }
    )


async def revoke_link(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    try:
        link = console.guests.revoke(int(request.match_info["number"]), request[SESSION].user)
    except (ValueError, LookupError):
        return json_error(404, "no such guest link")
    return web.json_response(link.as_json(console.guests.clock()))


def _open(request: web.Request) -> GuestLink:
    return request.app[CONSOLE].guests.open_link(request.match_info["token"])


async def guest_page(request: web.Request) -> web.Response:
    """The guests' Try-it page, with a fresh sender id of this link, or why it is closed."""
    try:
        link = _open(request)
    except LinkClosed as error:
        return _closed_page(error)
    return _page("guest.html", sender=link.new_sender(), label=link.label)


async def guest_message(request: web.Request) -> web.Response:
    """Send a guest's message to the bot; tag the conversation; return only the replies."""
    console = request.app[CONSOLE]
    try:
        link = _open(request)
    except LinkClosed as error:
        status, message = CLOSED[error.reason]
        return json_error(status, message)
    try:
        body = await _body(request)
        sender, text = body.get("sender_id"), body.get("text")
        if not isinstance(sender, str) or not link.owns(sender):
            raise BadRequest("sender_id: reload the page to start a conversation")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            raise BadRequest(f"the message must have 1 to {MAX_TEXT} characters")
    except ValueError as error:
        return json_error(400, str(error))
    wait = console.guests.allow(link)
    if wait > 0:
        response = json_error(429, "Many people are testing right now; try again in a minute.")
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    for tag in link.tags:
        console.tags.add([(sender, CONVERSATION)], tag, f"guest link {link.number}")
    try:
        exchange = await console.rasa.send(sender, text.strip(), {"guest_link": link.label})
    except RasaError:
        return json_error(502, "the assistant is not reachable right now; try again soon")
    return web.json_response({"replies": mask_data(exchange.replies)})


async def guest_script(_: web.Request) -> web.FileResponse:
    """The guest page's script (public: guests have no session)."""
    return web.FileResponse(STATIC / "guest.js")
