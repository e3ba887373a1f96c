"""The load test's two clients: REST turns, and widget conversations over socket.io.

The socket.io side is python-socketio's AsyncClient over WebSocket, the transport the widget
uses; Engine.IO v4, as Rasa's server (python-socketio 5 / python-engineio 4) speaks.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from typing import Any

import aiohttp
import socketio
from socketio.exceptions import SocketIOError

from tools.loadtest.results import REQUEST_TIMEOUT, Conversation, Turn

# Socket.io has no end-of-turn marker: the next message goes after this silence. A reply that
# comes later under load is counted with the next turn; the audit of a socket.io conversation
# therefore compares the whole stream of replies, not turn by turn.
QUIET_SECONDS = 0.4
DRAIN_SECONDS = 2.0  # silence awaited before a socket is closed, so no reply is left behind
CLIENT_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError, SocketIOError)


# --- REST ---------------------------------------------------------------------------------


async def rest_turn(
    http: aiohttp.ClientSession, urls: list[str], first: int, sender: str, turn: Turn
) -> None:
    """POST one message; an instance that refuses the connection is skipped, like nginx does."""
    body = {"sender": sender, "message": turn.text, "metadata": {"loadtest_turn": turn.index}}
    turn.sent_at = time.monotonic()
    for attempt in range(len(urls)):
        turn.instance = (first + attempt) % len(urls)
        turn.error = None
        started = time.monotonic()
        try:
            async with http.post(
                f"{urls[turn.instance]}/webhooks/rest/webhook",
                json=body,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            ) as response:
                raw = await response.read()
                turn.latency = time.monotonic() - started
                turn.upstream = response.headers.get("X-Rasa-Upstream")
                if response.status != 200:
                    turn.error = f"HTTP {response.status}: {raw[:200].decode(errors='replace')}"
                    return
                replies = json.loads(raw or b"[]")
                turn.replies = replies if isinstance(replies, list) else []
                if not turn.replies:
                    turn.error = "silence: no reply"
                return
        except aiohttp.ClientConnectorError as error:
            turn.failovers += 1
            turn.error = f"connection refused: {error}"
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            turn.error = f"{type(error).__name__}: {error}"
            return
    turn.failovers -= 1  # the last refusal is the error itself, not a failover


async def rest_conversation(
    http: aiohttp.ClientSession,
    urls: list[str],
    conversation: Conversation,
    texts: list[str],
    offset: int,
    deadline: float,
    think: float,
    burst: int = 1,
) -> Conversation:
    """Sequential turns, each to the next instance; with burst > 1, that many messages at once."""
    index = 0
    for step, text in enumerate(texts):
        if time.monotonic() > deadline:
            break
        batch = []
        for k in range(burst):
            label = text if burst == 1 else f"{text} ({k + 1}/{burst})"
            batch.append(Turn(index, label, 0))
            index += 1
        conversation.turns.extend(batch)
        await asyncio.gather(
            *(
                rest_turn(http, urls, offset + step + k, conversation.sender_id, t)
                for k, t in enumerate(batch)
            )
        )
        if think:
            await asyncio.sleep(think)
    return conversation


# --- socket.io ----------------------------------------------------------------------------


class SocketIOConnection:
    """One widget connection: python-socketio's client, its events in arrival order."""

    def __init__(self, url: str, origin: str, http: aiohttp.ClientSession | None = None) -> None:
        self.url = url
        self.origin = origin
        self.events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.client = socketio.AsyncClient(reconnection=False, http_session=http)

        @self.client.on("*")
        async def any_event(event: str, *args: Any) -> None:
            self.events.put_nowait((event, args[0] if args else None))

        @self.client.event
        async def disconnect(*reason: Any) -> None:
            self.events.put_nowait(("disconnect", reason[0] if reason else None))

    async def open(self) -> None:
        """Connect over WebSocket with the page's Origin (the server checks it)."""
        await self.client.connect(
            self.url,
            headers={"Origin": self.origin},
            transports=["websocket"],
            wait_timeout=REQUEST_TIMEOUT,
        )

    async def next_event(self, timeout: float) -> tuple[str, Any]:
        return await asyncio.wait_for(self.events.get(), timeout)

    async def emit(self, event: str, data: Any) -> None:
        await self.client.emit(event, data)

    async def close(self) -> None:
        with contextlib.suppress(*CLIENT_ERRORS):
            await self.client.disconnect()


async def socketio_session(
    url: str, origin: str, session_id: str | None, http: aiohttp.ClientSession | None = None
) -> tuple[SocketIOConnection, str]:
    """Connect and ask for our session, as the widget does on every page load.

    None asks for a new one: the server issues session ids (bot/connectors/session_ids.py).
    Returns the connection and the confirmed session id.
    """
    client = SocketIOConnection(url, origin, http)
    try:
        await client.open()
        await client.emit("session_request", {"session_id": session_id})
        while True:
            name, data = await client.next_event(REQUEST_TIMEOUT)
            if name == "session_confirm":
                if session_id is not None and data != session_id:
                    raise ConnectionError(f"socket.io: confirmed session {data!r}, not ours")
                return client, data
            if name == "disconnect":
                raise ConnectionError(f"socket.io: disconnected before session_confirm ({data})")
    except BaseException:
        await client.close()
        raise


async def socketio_turn(client: SocketIOConnection, session_id: str, turn: Turn) -> None:
    """Send one message; the turn's replies are those until QUIET_SECONDS of silence."""
    started = turn.sent_at = time.monotonic()
    await client.emit(
        "user_uttered",
        {
            "message": turn.text,
            "session_id": session_id,
            "customData": {"loadtest_turn": turn.index},
        },
    )
    deadline = started + REQUEST_TIMEOUT
    while True:
        wait = deadline - time.monotonic() if not turn.replies else QUIET_SECONDS
        try:
            name, data = await client.next_event(max(0.01, wait))
        except asyncio.TimeoutError:
            if not turn.replies:
                turn.error = f"silence: no reply within {REQUEST_TIMEOUT:.0f} s"
            return
        if name == "bot_uttered" and isinstance(data, dict):
            if not turn.replies:
                turn.latency = time.monotonic() - started
            turn.replies.append(data)
        elif name in ("invalid_message", "disconnect"):
            turn.error = f"{name}: {data}"
            return


async def drain(client: SocketIOConnection, turn: Turn | None) -> None:
    """Collect replies still on their way before the socket is closed."""
    while True:
        try:
            name, data = await client.next_event(DRAIN_SECONDS)
        except asyncio.TimeoutError:
            return
        if name == "bot_uttered" and isinstance(data, dict) and turn is not None:
            turn.replies.append(data)
        elif name == "disconnect":
            return


async def socketio_conversation(
    urls: list[str],
    origin: str,
    conversation: Conversation,
    texts: list[str],
    offset: int,
    deadline: float,
    think: float,
    http: aiohttp.ClientSession | None = None,
) -> Conversation:
    """One widget user: sticks to one instance, reconnects to the next one half-way.

    The first connection gets a session id from the server; it becomes the conversation's.
    """
    session_id = conversation.sender_id or None
    instance = offset % len(urls)
    client: SocketIOConnection | None = None
    try:
        for index, text in enumerate(texts):
            if time.monotonic() > deadline:
                break
            turn = Turn(index, text, instance)
            conversation.turns.append(turn)
            try:
                if client is not None and len(urls) > 1 and index == len(texts) // 2:
                    await drain(client, conversation.turns[-2])
                    await client.close()
                    client = None
                    instance = turn.instance = (instance + 1) % len(urls)
                if client is None:
                    client, session_id = await socketio_session(
                        urls[instance], origin, session_id, http
                    )
                    conversation.sender_id = session_id
                await socketio_turn(client, conversation.sender_id, turn)
            except CLIENT_ERRORS as error:
                turn.error = f"{type(error).__name__}: {error}"
            if turn.error:  # reconnect for the next turn, through the balancer to another one
                if client is not None:
                    await client.close()
                    client = None
                instance = (instance + 1) % len(urls)
            if think:
                await asyncio.sleep(think)
        if client is not None and conversation.turns:
            await drain(client, conversation.turns[-1])
    finally:
        if client is not None:
            await client.close()
    return conversation
