"""Our socket.io connector (bot/connectors/socketio.py) in the real Rasa server, without a browser.

python-socketio's client speaks the protocol the widget speaks (Engine.IO v4; HTTP long-polling
here, the widget's fallback transport, which needs no extra package), so each fix is checked on
its own: replies reach a session after a reconnect (Rasa's un-awaited enter_room), custom
payloads arrive, foreign origins and malformed messages are refused with a reason, and a socket
cannot get itself into another conversation (server-issued, signed session ids).
"""

from __future__ import annotations

import queue
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio
from socketio.exceptions import ConnectionError as SocketIOConnectionError

from tests.browser.conftest import tracker_events, user_messages

pytestmark = pytest.mark.e2e

FOREIGN = "https://evil.example"


class SocketRefused(RuntimeError):
    """The server refused the connection; the message carries its reason."""


class WidgetSocket:
    """One socket.io connection through python-socketio's client, speaking as `origin`.

    Events are kept in arrival order; `wait_for` takes the first that matches and keeps the
    others for later calls, as a test reads them in its own order.
    """

    def __init__(self, base_url: str, origin: str) -> None:
        self.base_url, self.origin = base_url, origin
        self.client = socketio.Client(reconnection=False)
        self.incoming: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.received: list[tuple[str, Any]] = []
        self.refusal: Any = None

        @self.client.on("*")
        def any_event(event: str, *args: Any) -> None:
            self.incoming.put((event, args[0] if args else None))

        @self.client.event
        def connect_error(data: Any) -> None:
            self.refusal = data

    def connect(self) -> WidgetSocket:
        try:
            self.client.connect(
                self.base_url,
                headers={"Origin": self.origin},
                transports=["polling"],
                wait_timeout=10,
            )
        except SocketIOConnectionError as error:
            raise SocketRefused(f"{error}: {self.refusal}") from None
        return self

    def emit(self, event: str, data: Any) -> None:
        self.client.emit(event, data)

    def wait_for(
        self, event: str, timeout: float = 60, match: Callable[[Any], bool] | None = None
    ) -> Any:
        """Data of the next `event` (for which `match(data)` is true, if given)."""
        for index, (name, data) in enumerate(self.received):
            if name == event and (match is None or match(data)):
                del self.received[index]
                return data
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                name, data = self.incoming.get(timeout=left)
            except queue.Empty:
                break
            if name == event and (match is None or match(data)):
                return data
            self.received.append((name, data))
        raise TimeoutError(f"no {event!r} within {timeout} s; got {self.received}")

    def close(self) -> None:
        """Close at once. python-socketio's disconnect() waits for the pending long-poll to
        return, up to the server's 25 s ping interval (30 s per test here); the Engine.IO close
        packet still reaches the server, which ends the session as for any disconnect."""
        self.client.eio.disconnect(abort=True)


def handshake(base_url: str, origin: str, transport: str = "polling") -> tuple[int, Any, str]:
    """Status, headers and body of a bare Engine.IO handshake sent with this Origin header."""
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/socket.io/?EIO=4&transport={transport}",
        headers={"Origin": origin},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")


@pytest.fixture
def page_origin(web_stack) -> str:
    return f"http://127.0.0.1:{web_stack.settings.web_port}"


@pytest.fixture
def client(web_stack, page_origin) -> Iterator[WidgetSocket]:
    connection = WidgetSocket(web_stack.rasa_url, page_origin).connect()
    yield connection
    connection.close()


def start_session(client: WidgetSocket, session_id: str | None = None) -> str:
    client.emit("session_request", {"session_id": session_id})
    return client.wait_for("session_confirm", timeout=10)


def bot_texts_until(client: WidgetSocket, needle: str) -> list[str]:
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
    with pytest.raises(SocketRefused, match="not an accepted origin"):
        WidgetSocket(web_stack.rasa_url, FOREIGN).connect()


def test_reply_reaches_the_session_after_a_reconnect(web_stack, page_origin, client):
    session_id = start_session(client)
    assert session_id.startswith("web-"), "issued by the server in the widget's namespace"
    client.emit("user_uttered", {"message": "/greet", "session_id": session_id})
    assert client.wait_for("bot_uttered")["text"]
    client.close()

    # A new socket (the page after a reload) asks for the same session and keeps talking.
    again = WidgetSocket(web_stack.rasa_url, page_origin).connect()
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


def quiet_for(client: WidgetSocket, seconds: float) -> list[tuple[str, Any]]:
    """Every event the socket receives within `seconds` (the test expects none of some kinds)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            client.received.append(client.incoming.get(timeout=left))
        except queue.Empty:
            break
    return client.received


def test_a_second_socket_never_receives_another_conversations_replies(echo_bot):
    """Two real clients: the second asks for ids it was not issued and gets its own each time.

    Before server-issued ids, a socket was confirmed into any well-formed id it asked for: the
    id another client had chosen, or another channel's (`telegram-<user id>`), and then got
    every reply of that conversation.
    """
    chosen = uuid.uuid4().hex
    first = WidgetSocket(echo_bot["bot"], echo_bot["page"]).connect()
    second = WidgetSocket(echo_bot["bot"], echo_bot["page"]).connect()
    try:
        own = start_session(first, chosen)
        assert own != chosen and own.startswith("web-"), "a chosen id is not taken"
        tampered = own[:-1] + ("0" if own[-1] != "0" else "1")
        for requested in (chosen, own.split(".")[0], tampered, "telegram-123456789"):
            other = start_session(second, requested)
            assert other not in (own, requested) and other.startswith("web-")
        first.emit("user_uttered", {"message": "private to the first", "session_id": own})
        assert "private to the first" in first.wait_for("bot_uttered", timeout=10)["text"]
        second.emit("user_uttered", {"message": "let me in", "session_id": own})
        assert "differs" in second.wait_for("invalid_message", timeout=10)["reason"]
        seen = quiet_for(second, 3)
        assert not [data for name, data in seen if name == "bot_uttered"], seen
        leaked = [data for _, data in quiet_for(first, 1) if "let me in" in str(data)]
        assert not leaked, "the second socket's attempt reached no one"
    finally:
        first.close()
        second.close()


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
