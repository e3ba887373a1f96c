"""Tags staff put on conversations and on single messages ("needs corpus update").

Kept in the console's own SQLite file beside the inbox, so the inbox filters by tag in the same
query. A conversation's tag is stored with turn -1 and applies to all its messages in the filter.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from pathlib import Path

from console.state import StateFile

CONVERSATION = -1  # the turn of a tag on a whole conversation
TAG = re.compile(r"^[\w][\w .:/-]{0,39}$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS tags (
    sender_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    tag TEXT NOT NULL,
    author TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (sender_id, turn, tag)
);
CREATE INDEX IF NOT EXISTS tags_by_tag ON tags (tag, sender_id, turn);
"""

Ref = tuple[str, int]  # (sender id, user-message index), or (sender id, CONVERSATION)


def check_tag(tag: object) -> str:
    """A tag's canonical form; ValueError saying what a tag may be."""
    text = " ".join(str(tag or "").split())
    if not isinstance(tag, str) or not TAG.match(text):
        raise ValueError("tag: 1-40 letters, digits, spaces or . : / - _, starting with a letter")
    return text


class Tags(StateFile):
    """Add, remove and read tags with who added them and when."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def add(self, refs: Iterable[Ref], tag: str, author: str) -> int:
        """Tag messages or conversations; returns how many were newly tagged."""
        now = time.time()
        with self._connect() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO tags (sender_id, turn, tag, author, created) "
                "VALUES (?, ?, ?, ?, ?)",
                [(s, t, tag, author, now) for s, t in refs],
            )
            return db.total_changes - before

    def remove(self, refs: Iterable[Ref], tag: str) -> int:
        with self._connect() as db:
            before = db.total_changes
            db.executemany(
                "DELETE FROM tags WHERE sender_id = ? AND turn = ? AND tag = ?",
                [(s, t, tag) for s, t in refs],
            )
            return db.total_changes - before

    def of(self, senders: Iterable[str]) -> dict[Ref, list[dict[str, object]]]:
        """(sender, turn) -> [{"tag", "author", "created"}] for the given conversations."""
        ids = sorted(set(senders))
        result: dict[Ref, list[dict[str, object]]] = {}
        with self._connect() as db:
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = db.execute(
                    "SELECT sender_id, turn, tag, author, created FROM tags WHERE sender_id IN "
                    f"({', '.join('?' for _ in chunk)}) ORDER BY tag",
                    chunk,
                ).fetchall()
                for sender, turn, tag, author, created in rows:
                    entry = {"tag": tag, "author": author, "created": created}
                    result.setdefault((sender, turn), []).append(entry)
        return result

    def names(self) -> list[str]:
        """Every tag in use, for the filter menu."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT tag FROM tags ORDER BY tag")]

    def forget(self, senders: Iterable[str]) -> None:
        """Drop the tags of deleted conversations (retention)."""
        with self._connect() as db:
            db.executemany("DELETE FROM tags WHERE sender_id = ?", [(s,) for s in senders])
