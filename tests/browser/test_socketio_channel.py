"""Our socket.io connector (bot/connectors/socketio.py) in the real Rasa server, without a browser.

A small Engine.IO polling client speaks the protocol the widget speaks, so each fix is checked
on its own: replies reach a session after a reconnect (Rasa's un-awaited enter_room), custom
payloads arrive, foreign origins and malformed messages are refused with a reason.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.browser.conftest import tracker_events, user_messages
from tests.browser.socketio_polling import PollingClient, SocketIOError, handshake

pytestmark = pytest.mark.e2e

FOREIGN = "https://evil.example"


@pytest.fixture
def page_origin(web_stack) -> str:
    return f"http://127.0.0.1:{web_stack.settings.web_port}"


@pytest.fixture
def client(web_stack, page_origin) -> Iterator[PollingClient]:
    connection = PollingClient(web_stack.rasa_url, origin=page_origin).connect()
    yield connection
    connection.close()


def start_session(client: PollingClient, session_id: str | None = None) -> str:
    client.emit("session_request", {"session_id": session_id})
    return client.wait_for("session_confirm", timeout=10)


def bot_texts_until(client: PollingClient, needle: str) -> list[str]:
    texts: list[str] = []
    while not any(needle in t for t in texts):
        texts.append(client.wait_for("bot_uttered", match=lambda d: "text" in d)["text"])
    return texts


def test_only_configured_origins_may_connect(web_stack, page_origin):
    localhost = page_origin.replace("127.0.0.1", "localhost")
    for origin in (page_origin, localhost):
        status, headers, _ = handshake(web_stack.rasa_url, origin)
        assert status == 200
        assert headers.get_all("Access-Control-Allow-Origin") == [origin]
    for transport in ("polling", "websocket"):
        status, headers, body = handshake(web_stack.rasa_url, FOREIGN, transport)
        assert status == 400, f"{transport} from a foreign origin must be refused"
        assert "not an accepted origin" in body
        assert not headers.get_all("Access-Control-Allow-Origin")
    with pytest.raises(SocketIOError, match="not an accepted origin"):
        PollingClient(web_stack.rasa_url, origin=FOREIGN).connect()


def test_reply_reaches_the_session_after_a_reconnect(web_stack, page_origin, client):
    session_id = start_session(client)
    assert len(session_id) == 32
    client.emit("user_uttered", {"message": "/greet", "session_id": session_id})
    assert client.wait_for("bot_uttered")["text"]
    client.close()

    # A new socket (the page after a reload) asks for the same session and keeps talking.
    again = PollingClient(web_stack.rasa_url, origin=page_origin).connect()
    try:
        assert start_session(again, session_id) == session_id
        again.emit(
            "user_uttered",
            {
                "message": "How do I get a tax card?",
                "session_id": session_id,
                "customData": {"language": "fi"},
            },
        )
        texts = bot_texts_until(again, "Finnish Tax Administration")
        custom = again.wait_for("bot_uttered", match=lambda d: "custom" in d)["custom"]
    finally:
        again.close()
    assert any("https://" in t for t in texts)
    assert custom["type"] == "service_answer"
    assert custom["organisations"][0]["id"] == "vero"

    said = user_messages(tracker_events(web_stack.settings.tracker_path, session_id))
    assert [e["text"] for e in said] == ["/greet", "How do I get a tax card?"]
    assert said[1]["metadata"]["language"] == "fi", "customData reaches Rasa as metadata"


def test_a_socket_cannot_speak_in_another_session(web_stack, client):
    own, foreign = start_session(client), uuid.uuid4().hex
    client.emit("user_uttered", {"message": "Hello", "session_id": foreign})
    reason = client.wait_for("invalid_message", timeout=10)["reason"]
    assert "session_id differs" in reason
    for session_id in (own, foreign):
        assert not tracker_events(web_stack.settings.tracker_path, session_id)


def test_a_message_before_session_request_is_refused(web_stack, client):
    client.emit("user_uttered", {"message": "Hello", "session_id": uuid.uuid4().hex})
    assert "session_request" in client.wait_for("invalid_message", timeout=10)["reason"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("just a string", "expected an object"),
        ({"message": ""}, "non-empty text"),
        ({"message": 42}, "non-empty text"),
        ({"message": "x" * 2001}, "longer than 2000"),
        ({"message": "Hello", "customData": ["fi"]}, "customData must be an object"),
        ({"message": "Hello", "customData": "{not json"}, "not valid JSON"),
        ({"message": "Hello", "customData": {"x": "y" * 3000}}, "larger than"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(web_stack, client, data, reason):
    session_id = start_session(client)
    if isinstance(data, dict):
        data = {**data, "session_id": session_id}
    client.emit("user_uttered", data)
    assert reason in client.wait_for("invalid_message", timeout=10)["reason"]
    # The server keeps serving this very socket.
    client.emit("user_uttered", {"message": "/greet", "session_id": session_id})
    assert client.wait_for("bot_uttered")["text"]


def test_an_invalid_session_id_gets_a_fresh_one(client):
    assert start_session(client, "../../etc/passwd") != "../../etc/passwd"


def test_cors_header_is_sent_once_alongside_rasa_cors(echo_bot):
    """With `rasa run --cors <origin>` too, engine.io and sanic-cors must not both answer."""
    origin = echo_bot["page"]
    status, headers, _ = handshake(echo_bot["bot"], origin)
    assert status == 200
    assert headers.get_all("Access-Control-Allow-Origin") == [origin]
