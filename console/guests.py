"""Guest tester links: an admin lets people without an account try the bot for a while.

A link is a random token in a URL (/guest/<token>) with a label, an expiry and a revoke switch.
Only the token's SHA-256 is stored, so the console's database alone opens no link; the URL is
shown once, when it is made. A guest can only chat: the page sends messages as a sender id
`console-guest-<link number>-<hex>`, bound to its link, and sees the bot's replies, never the
tracker. Their conversations carry the tags "guest" and "guest:<label>", and the lists show
them apart (source "guests").
"""

from __future__ import annotations

import collections
import hashlib
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.state import StateFile
from console.tags import check_tag

GUEST_PREFIX = "console-guest-"
GUEST_TAG = "guest"
SENDER = re.compile(rf"^{GUEST_PREFIX}(\d+)-[0-9a-f]{{16}}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS guest_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    author TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL,
    revoked REAL,
    revoked_by TEXT
)
"""


SELECT = "SELECT id, label, author, created, expires, revoked, revoked_by FROM guest_links"


class LinkClosed(LookupError):
    """The link cannot be used: `reason` is unknown, expired or revoked."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"this guest link is {reason}")


@dataclass(frozen=True)
class GuestLink:
    number: int
    label: str
    author: str
    created: float
    expires: float
    revoked: float | None
    revoked_by: str | None

    def state(self, now: float) -> str:
        """open, expired or revoked."""
        if self.revoked is not None:
            return "revoked"
        return "expired" if now >= self.expires else "open"

    @property
    def tags(self) -> tuple[str, str]:
        """The tags of this link's conversations."""
        return GUEST_TAG, label_tag(self.label)

    def new_sender(self) -> str:
        return f"{GUEST_PREFIX}{self.number}-{secrets.token_hex(8)}"

    def owns(self, sender: str) -> bool:
        """Whether a sender id is one of this link's guests."""
        match = SENDER.match(sender)
        return match is not None and int(match.group(1)) == self.number

    def as_json(self, now: float) -> dict[str, Any]:
        return {
            "id": self.number,
            "label": self.label,
            "author": self.author,
            "created": self.created,
            "expires": self.expires,
            "revoked": self.revoked,
            "revoked_by": self.revoked_by,
            "state": self.state(now),
            "tag": label_tag(self.label),
        }


def label_tag(label: str) -> str:
    return f"{GUEST_TAG}:{label}"


def check_label(label: object) -> str:
    """A link label that makes a valid tag after "guest:"; ValueError otherwise."""
    text = " ".join(str(label or "").split()) if isinstance(label, str) else ""
    try:
        check_tag(label_tag(text))
    except ValueError:
        raise ValueError("label: 1-34 letters, digits, spaces or . : / - _") from None
    if not text:
        raise ValueError("label: 1-34 letters, digits, spaces or . : / - _")
    return text


def is_guest(sender: str) -> bool:
    return sender.startswith(GUEST_PREFIX)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class GuestLinks(StateFile):
    """Make, check, list and revoke links; `clock` is wall time (tests move it)."""

    def __init__(
        self, path: Path, per_minute: int = 60, clock: Callable[[], float] = time.time
    ) -> None:
        super().__init__(path, SCHEMA)
        self.clock = clock
        self.per_minute = per_minute
        self._sent: dict[int, collections.deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, link: GuestLink) -> float:
        """0 if the link may send one more message now (and count it), else seconds to wait.

        One budget per link for all its guests: a reload starts a new conversation, so a per
        conversation limit alone would not stop a leaked link; revoking it does, this slows it.
        """
        now = self.clock()
        with self._lock:
            sent = self._sent.setdefault(link.number, collections.deque())
            while sent and sent[0] <= now - 60:
                sent.popleft()
            if len(sent) >= self.per_minute:
                return sent[0] + 60 - now
            sent.append(now)
            return 0.0

    def create(self, label: str, hours: float, author: str) -> tuple[GuestLink, str]:
        """A new link open for `hours`; returns it and its token (shown once)."""
        token = secrets.token_urlsafe(24)
        now = self.clock()
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO guest_links (token_hash, label, author, created, expires) "
                "VALUES (?, ?, ?, ?, ?)",
                (_hash(token), label, author, now, now + hours * 3600),
            )
            number = int(cursor.lastrowid or 0)
        return self.get(number), token

    def get(self, number: int) -> GuestLink:
        with self._connect() as db:
            row = db.execute(f"{SELECT} WHERE id = ?", (number,)).fetchone()
        if row is None:
            raise LookupError(f"no guest link {number}")
        return GuestLink(*row)

    def open_link(self, token: str) -> GuestLink:
        """The link of a token if it is open; LinkClosed saying why not."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id FROM guest_links WHERE token_hash = ?", (_hash(token),)
            ).fetchone()
        if row is None:
            raise LinkClosed("unknown")
        link = self.get(row[0])
        state = link.state(self.clock())
        if state != "open":
            raise LinkClosed(state)
        return link

    def all(self) -> list[GuestLink]:
        with self._connect() as db:
            rows = db.execute(f"{SELECT} ORDER BY id DESC").fetchall()
        return [GuestLink(*row) for row in rows]

    def revoke(self, number: int, author: str) -> GuestLink:
        """Close a link at once (its guests' next message is refused); LookupError if none."""
        self.get(number)
        with self._connect() as db:
            db.execute(
                "UPDATE guest_links SET revoked = ?, revoked_by = ? "
                "WHERE id = ? AND revoked IS NULL",
                (self.clock(), author, number),
            )
        return self.get(number)
