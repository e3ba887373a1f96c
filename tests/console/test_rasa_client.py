"""The console's Rasa client against a stand-in of Rasa's HTTP API on loopback.

The real Rasa is exercised in test_console_e2e.py (slow); here every answer Rasa can give,
including the failures staff must be told about, is served by a small aiohttp app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from console.rasa_client import RasaClient, RasaError
from tests.aiohttp_server import serve

TOKEN = "stand-in-token"
SENDER = "console-test-0123456789abcdef"


@dataclass
class StandIn:
    """What the stand-in answers, and what it was asked."""

    webhook_status: int = 200
    webhook_body: str = '[{"recipient_id": "x", "text": "Hi!"}]'
    tracker_status: int = 200
    seen: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", self.webhook)
        app.router.add_get("/conversations/{sender}/tracker", self.tracker)
        return app

    async def webhook(self, request: web.Request) -> web.Response:
        self.seen.append({"webhook": await request.json()})
        return web.Response(text=self.webhook_body, status=self.webhook_status)

    async def tracker(self, request: web.Request) -> web.Response:
        self.seen.append({"tracker": request.match_info["sender"], "query": dict(request.query)})
        if request.query.get("token") != TOKEN:
            return web.Response(status=401)
        tracker = {"sender_id": SENDER, "events": [{"event": "user", "text": "hi"}]}
        return web.json_response(tracker, status=self.tracker_status)


@pytest.fixture
def rasa() -> Iterator[tuple[StandIn, str]]:
    stand_in = StandIn()
    with serve(stand_in.app()) as url:
        yield stand_in, url


def send(url: str, token: str = TOKEN, sender: str = SENDER):
    return asyncio.run(RasaClient(url, token).send(sender, "hi", {"console_user": "staff"}))


def test_a_message_returns_the_replies_and_the_whole_tracker(rasa):
    stand_in, url = rasa
    exchange = send(url)
    assert exchange.replies == [{"recipient_id": "x", "text": "Hi!"}]
    assert exchange.tracker["events"] == [{"event": "user", "text": "hi"}]
    webhook, tracker = stand_in.seen
    assert webhook["webhook"] == {
        "sender": SENDER,
        "message": "hi",
        "metadata": {"console_user": "staff"},
    }
    assert tracker["tracker"] == SENDER
    assert tracker["query"] == {"include_events": "ALL", "token": TOKEN}


def test_replies_that_are_not_a_list_become_an_empty_list(rasa):
    stand_in, url = rasa
    stand_in.webhook_body = '{"unexpected": true}'
    assert send(url).replies == []


def test_a_wrong_token_says_how_to_start_rasa(rasa):
    _, url = rasa
    with pytest.raises(RasaError, match="--enable-api --auth-token"):
        send(url, token="wrong")


@pytest.mark.parametrize(
    ("webhook_status", "tracker_status", "message"),
    [
        (500, 200, "Rasa answered HTTP 500"),
        (200, 404, "Rasa's tracker API answered HTTP 404"),
    ],
)
def test_failures_name_the_part_of_rasa_that_failed(rasa, webhook_status, tracker_status, message):
    stand_in, url = rasa
    stand_in.webhook_status, stand_in.tracker_status = webhook_status, tracker_status
    with pytest.raises(RasaError) as raised:
        send(url)
    assert str(raised.value) == message


def test_an_answer_that_is_not_json_or_no_server_is_unreachable(rasa):
    stand_in, url = rasa
    stand_in.webhook_body = "<html>proxy error</html>"
    with pytest.raises(RasaError, match=f"the Rasa server at {url} is not reachable"):
        send(url)
    with pytest.raises(RasaError, match="is not reachable"):
        send("http://127.0.0.1:9")
