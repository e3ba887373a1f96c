"""Try it: talk to the bot as a fresh test user and see what it made of every turn.

Only `console-test-<hex>` users can be written as, so staff can never add to a real user's
conversation.
"""

from __future__ import annotations

import re
import secrets

from aiohttp import web

from console.context import CONSOLE, SESSION, json_error
from console.conversations import TEST_PREFIX, build_turns, with_corrections
from console.masking import mask_data
from console.rasa_client import RasaError

TEST_SENDER = re.compile(rf"^{TEST_PREFIX}[a-z0-9]{{8,64}}$")
MAX_TEXT = 2000


async def try_new(request: web.Request) -> web.Response:
    """A fresh test user id, so a try starts with an empty tracker (and its keyed hash, the
    name its transcript has)."""
    sender = TEST_PREFIX + secrets.token_hex(8)
    conversation = request.app[CONSOLE].pseudonyms.of(sender)
    return web.json_response({"sender_id": sender, "conversation": conversation})


async def try_message(request: web.Request) -> web.Response:
    """Send one message as the test user over REST; return the replies and the whole tracker."""
    console = request.app[CONSOLE]
    try:
        body = await request.json()
        sender, text = str(body["sender_id"]), str(body["text"]).strip()
    except (ValueError, KeyError, TypeError):
        return json_error(400, 'expected JSON {"sender_id": ..., "text": ...}')
    if not TEST_SENDER.match(sender):
        return json_error(400, f"the test user's id must look like {TEST_PREFIX}<hex>")
    if not text or len(text) > MAX_TEXT:
        return json_error(400, f"the message must have 1 to {MAX_TEXT} characters")
    metadata = {"console_user": request[SESSION].user}
    try:
        exchange = await console.rasa.send(sender, text, metadata)
    except RasaError as error:
        return json_error(502, str(error))
    turns = build_turns(exchange.tracker.get("events") or [])
    return web.json_response(
        {
            "sender_id": sender,
            "conversation": console.pseudonyms.of(sender),
            "replies": mask_data(exchange.replies),
            "turns": with_corrections(turns, console.state.corrections(sender)),
        }
    )
