"""A minimal socket.io client (Engine.IO v4, HTTP long-polling) for testing our connector.

python-socketio's client is not in the test venv, and with Rasa's aiohttp 3.9 it could only
poll anyway (platform notes). The protocol is small: packets are text, several per response
separated by 0x1e; "0" open, "2"/"3" ping/pong, "40" connect, "42[event, data]" an event.
"""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from typing import Any

RECORD_SEPARATOR = "\x1e"


class SocketIOError(RuntimeError):
    pass


class PollingClient:
    """One socket.io connection to `base_url` (e.g. http://127.0.0.1:5005), speaking as `origin`."""

    def __init__(self, base_url: str, origin: str | None = None, path: str = "/socket.io/"):
        self.url = base_url.rstrip("/") + path
        self.origin = origin
        self.sid: str | None = None
        self.received: list[tuple[str, Any]] = []

    def _request(self, method: str, body: str | None = None, timeout: float = 40) -> str:
        query = "EIO=4&transport=polling" + (f"&sid={self.sid}" if self.sid else "")
        headers = {"Content-Type": "text/plain;charset=UTF-8"}
        if self.origin:
            headers["Origin"] = self.origin
        request = urllib.request.Request(
            f"{self.url}?{query}",
            data=body.encode() if body is not None else None,
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read().decode()
        except urllib.error.HTTPError as error:
            body = error.read().decode(errors="replace")
            raise SocketIOError(f"HTTP {error.code}: {body}") from None

    def connect(self) -> PollingClient:
        opened = self._request("GET")
        if not opened.startswith("0"):
            raise SocketIOError(f"unexpected handshake {opened!r}")
        self.sid = json.loads(opened[1:])["sid"]
        self._request("POST", "40")
        for packet in self._poll():
            if packet.startswith("40"):
                return self
            if packet.startswith("44"):
                raise SocketIOError(f"connection refused: {packet[2:]}")
        raise SocketIOError("no namespace connect confirmation")

    def emit(self, event: str, data: Any) -> None:
        self._request("POST", "42" + json.dumps([event, data]))

    def _poll(self) -> list[str]:
        packets = self._request("GET").split(RECORD_SEPARATOR)
        for packet in packets:
            if packet == "2":
                self._request("POST", "3")
        return packets

    def wait_for(self, event: str, timeout: float = 60, match: Any = None) -> Any:
        """Data of the next `event` (for which `match(data)` is true, if given)."""
        deadline = time.monotonic() + timeout
        for index, (name, data) in enumerate(self.received):
            if name == event and (match is None or match(data)):
                del self.received[index]
                return data
        while time.monotonic() < deadline:
            for packet in self._poll():
                if not packet.startswith("42"):
                    continue
                name, *args = json.loads(packet[2:])
                data = args[0] if args else None
                if name == event and (match is None or match(data)):
                    return data
                self.received.append((name, data))
        raise TimeoutError(f"no {event!r} within {timeout} s; got {self.received}")

    def close(self) -> None:
        if self.sid:
            with contextlib.suppress(SocketIOError, OSError):
                self._request("POST", "1", timeout=5)
            self.sid = None


def handshake(base_url: str, origin: str, transport: str = "polling") -> tuple[int, Any, str]:
    """Status, headers and body of an Engine.IO handshake sent with this Origin header."""
    request = urllib.request.Request(
        f"{base_url.rstrip('/')}/socket.io/?EIO=4&transport={transport}",
        headers={"Origin": origin},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode(errors="replace")
