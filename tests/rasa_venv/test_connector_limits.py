"""The connectors' namespaces and rate limits over real HTTP and socket.io, without a model.

Our REST and socket.io connectors run in tests/browser/echo_bot.py (a Rasa-like Sanic app that
echoes each message) with a low per-conversation limit; python-socketio's client speaks the
widget's protocol. A burst gets 429 with Retry-After (REST) or a `rate_limited` event
(socket.io), and after the wait the same conversation is answered again.
"""

from __future__ import annotations

import json
import queue
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
import socketio

from tests.browser.conftest import running_echo_bot

# A real server process (the echo bot with our connectors): `make test`, not `make check`.
pytestmark = pytest.mark.e2e

PER_MINUTE = 12  # a burst of 6, then one message every 5 s
BURST = PER_MINUTE // 2
ORIGIN = "http://127.0.0.1:8999"


@pytest.fixture(scope="module")
def echo_bot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log_file = tmp_path_factory.mktemp("echo") / "echo_bot.log"
    env = {
        "OPASTIN_SESSION_SECRET": "test-secret-" + "x" * 32,
        "OPASTIN_RATE_PER_CONVERSATION": str(PER_MINUTE),
    }
    # Importing Rasa takes a minute when the two cores are busy.
    with running_echo_bot(sys.executable, ["--origins", ORIGIN], env, log_file, 300) as url:
        yield url


def post(url: str, sender: str, message: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_rest_burst_gets_429_with_retry_after_then_the_conversation_goes_on(echo_bot: str):
    results = [post(echo_bot, "cityapp-burst", f"message {i}") for i in range(BURST + 4)]
    statuses = [status for status, _, _ in results]
    assert statuses == [200] * BURST + [429] * 4, statuses
    assert results[0][2][0]["text"].startswith("Echo (?): message 0")
    _, headers, body = results[-1]
    retry_after = int(headers["Retry-After"])
    assert 1 <= retry_after <= 60 // PER_MINUTE and body["retry_after"] == retry_after
    assert "too many messages in this conversation" in body["error"]
    assert post(echo_bot, "cityapp-other", "hello")[0] == 200, "other conversations go on"
    time.sleep(retry_after)
    status, _, replies = post(echo_bot, "cityapp-burst", "after the wait")
    assert status == 200 and "after the wait" in replies[0]["text"]


@pytest.mark.parametrize("sender", ["web-0123456789abcdef", "telegram-123456789", "console-x"])
def test_rest_refuses_ids_of_other_channels(echo_bot: str, sender: str):
    status, _, body = post(echo_bot, sender, "/newcomer_checklist")
    assert status == 403 and sender.split("-")[0] in body["error"]


def events_until_quiet(events: queue.Queue[tuple[str, Any]], quiet: float = 1.5) -> list:
    """Events as they arrive, until none came for `quiet` seconds."""
    received = []
    while True:
        try:
            received.append(events.get(timeout=quiet))
        except queue.Empty:
            return received


def test_socketio_burst_gets_rate_limited_events_then_the_session_goes_on(echo_bot: str):
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    client = socketio.Client(reconnection=False)
    client.on("*", lambda event, *args: events.put((event, args[0] if args else None)))
    client.connect(echo_bot, headers={"Origin": ORIGIN}, transports=["polling"], wait_timeout=10)
    try:
        client.emit("session_request", {"session_id": None})
        name, session_id = events.get(timeout=10)
        assert name == "session_confirm" and session_id.startswith("web-")
        for i in range(BURST + 2):
            client.emit("user_uttered", {"message": f"burst {i}", "session_id": session_id})
        received = events_until_quiet(events)
        texts = [
            data["text"] for name, data in received if name == "bot_uttered" and "text" in data
        ]
        assert texts == [
            f"Echo (?): burst {i}\nOfficial page: https://www.vero.fi/en/" for i in range(BURST)
        ]
        limits = [data for name, data in received if name == "rate_limited"]
        assert len(limits) == 2, received
        limited = limits[-1]
        assert "too many messages in this conversation" in limited["reason"]
        assert 1 <= limited["retry_after"] <= 60 // PER_MINUTE
        time.sleep(limited["retry_after"])
        client.emit("user_uttered", {"message": "after the wait", "session_id": session_id})
        texts = [
            d["text"] for n, d in events_until_quiet(events) if n == "bot_uttered" and "text" in d
        ]
        assert len(texts) == 1 and "after the wait" in texts[0]
    finally:
        client.eio.disconnect(abort=True)  # disconnect() waits out the long-poll (~30 s)
