"""What a load test run records: turns and conversations, and the limits every run keeps."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

MAX_CONVERSATIONS = 500
MAX_TURNS = 50
MAX_BURST = 8
MAX_TIME_LIMIT = 900.0
REQUEST_TIMEOUT = 30.0  # one turn; Rasa's lock waits and the action call fit well inside

# What newcomers ask, in the languages the bot serves; greetings and thanks are turns too.
MESSAGES = (
    "Hello",
    "How do I get a tax card?",
    "I need a residence permit to work in Finland",
    "Where do I register my address?",
    "How can I find a job in Espoo?",
    "Miten saan verokortin?",
    "Hur registrerar jag min adress?",
    "Do I need a personal identity code?",
    "I want to start a business in Helsinki",
    "thank you",
)


def require_loopback(url: str) -> None:
    """Refuse any target that is not on this machine: load goes to loopback only."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SystemExit(f"error: {url}: the load test only targets loopback addresses")


@dataclass
class Turn:
    """One user message and what came back for it."""

    index: int
    text: str
    instance: int
    latency: float | None = None  # seconds to the (first) reply
    replies: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    failovers: int = 0  # instances that refused the connection before one took the message
    sent_at: float = 0.0  # time.monotonic() when the message was sent
    upstream: str | None = None  # the Rasa instance behind a proxy (deploy/nginx.conf's header)

    @property
    def kind(self) -> str:
        """service_answer, no_answer:<reason>, text, or error."""
        if self.error:
            return "error"
        for reply in self.replies:
            custom = reply.get("custom")
            if isinstance(custom, dict) and custom.get("type") == "no_answer":
                return f"no_answer:{custom.get('reason')}"
            if isinstance(custom, dict) and custom.get("type"):
                return str(custom["type"])
        return "text"

    @property
    def finished(self) -> bool:
        """Answered or failed (what the progress bar counts)."""
        return self.error is not None or self.latency is not None


@dataclass
class Conversation:
    sender_id: str
    channel: Literal["rest", "socketio"]
    turns: list[Turn] = field(default_factory=list)
    ordered: bool = True  # False when several messages were in flight at once (burst)
