"""The console's own data: staff corrections to turns, kept apart from Rasa's tracker store.

A small SQLite file (CONSOLE_STATE_DB) even when the tracker store is PostgreSQL: corrections
are few, written by staff, and must survive the console's restarts. A correction is keyed by the
conversation and the position of the user message in it, which never changes once written.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    sender_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    intent TEXT,
    organisation TEXT,
    author TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (sender_id, turn)
)
"""


# Tables of the same file (console.annotations, console.tags) keyed by conversation.
# Everything the console keeps per conversation, deleted with it (retention, `forget`).
CONVERSATION_TABLES = {"annotations", "tags", "inbox_messages", "inbox_conversations"}


@contextlib.contextmanager
def open_state(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to the console's SQLite file, committed when the block succeeds."""
    db = sqlite3.connect(path, timeout=30)
    try:
        yield db
        db.commit()
    finally:
        db.close()


class StateFile:
    """A part of the console that keeps tables in its SQLite file (corrections, roles, the
    inbox, annotations, tags): creates them on first use and connects."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(schema)

    def _connect(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return open_state(self.path)


class ConsoleState(StateFile):
    """Corrections per conversation and turn, with their author."""

    def __init__(self, path: Path) -> None:
        super().__init__(path, SCHEMA)

    def corrections(self, sender_id: str) -> dict[int, dict[str, Any]]:
        """Turn index -> {"intent", "organisation", "author", "updated"} for one conversation."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT turn, intent, organisation, author, updated FROM corrections "
                "WHERE sender_id = ? ORDER BY turn",
                (sender_id,),
            ).fetchall()
        return {
            turn: {"intent": i, "organisation": o, "author": a, "updated": u}
            for turn, i, o, a, u in rows
        }

    def correct(
        self, sender_id: str, turn: int, intent: str | None, organisation: str | None, author: str
    ) -> None:
        """Set (or, with neither intent nor organisation, remove) a turn's correction."""
        with self._connect() as db:
            if not intent and not organisation:
                db.execute(
                    "DELETE FROM corrections WHERE sender_id = ? AND turn = ?", (sender_id, turn)
                )
                return
            db.execute(
                "INSERT INTO corrections (sender_id, turn, intent, organisation, author, updated) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sender_id, turn) DO UPDATE SET "
                "intent = excluded.intent, organisation = excluded.organisation, "
                "author = excluded.author, updated = excluded.updated",
                (sender_id, turn, intent or None, organisation or None, author, time.time()),
            )

    def senders(self) -> list[str]:
        """Conversations that have corrections."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT sender_id FROM corrections")]

    def forget(self, sender_ids: Iterable[str]) -> None:
        """Drop the corrections, and the inbox's annotations and tags, of deleted conversations
        (retention); the inbox's own rows follow the tracker store by themselves."""
        senders = [(s,) for s in sender_ids]
        with self._connect() as db:
            db.executemany("DELETE FROM corrections WHERE sender_id = ?", senders)
            present = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
            for table in sorted(CONVERSATION_TABLES & present):
                db.executemany(f"DELETE FROM {table} WHERE sender_id = ?", senders)
