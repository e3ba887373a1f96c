"""The local chat page: static files from web/ plus a same-origin proxy to Rasa's REST channel.

The proxy keeps the page free of CORS settings: the browser talks only to this server.
"""

from __future__ import annotations

import json

import aiohttp
from aiohttp import web

from opastin.config import ROOT

WEB_DIR = ROOT / "web"
MAX_MESSAGE_BYTES = 4096


def make_app(rasa_url: str) -> web.Application:
    async def index(_: web.Request) -> web.FileResponse:
        return web.FileResponse(WEB_DIR / "index.html")

    async def message(request: web.Request) -> web.Response:
        if request.content_length and request.content_length > MAX_MESSAGE_BYTES:
            raise web.HTTPRequestEntityTooLarge(MAX_MESSAGE_BYTES, request.content_length)
        try:
            body = await request.json()
            sender, text = str(body["sender"]), str(body["message"])
        except (ValueError, KeyError, TypeError):
            raise web.HTTPBadRequest(text='expected JSON {"sender": ..., "message": ...}') from None
        payload = {"sender": sender, "message": text, "metadata": body.get("metadata") or {}}
        async with aiohttp.ClientSession() as session:
            try:
                async with session.post(
                    f"{rasa_url}/webhooks/rest/webhook",
                    json=payload,
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as response:
                    data = await response.json(content_type=None)
                    return web.json_response(data, status=response.status)
            except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
                raise web.HTTPBadGateway(text="the assistant is not reachable right now") from None

    app = web.Application(client_max_size=MAX_MESSAGE_BYTES)
    app.router.add_get("/", index)
    app.router.add_post("/api/message", message)
    app.router.add_static("/static/", WEB_DIR, show_index=False)
    return app
