"""Read (and, for retention, delete) conversations in Rasa's SQL tracker store.

Rasa's HTTP API cannot list conversations; its SQL tracker store keeps every event as a row of
the `events` table (id, sender_id, type_name, timestamp, intent_name, action_name, data = the
event as JSON). The console reads that table directly: with the standard library's sqlite3 for
the default SQLite store, and with psycopg (3) or psycopg2, when installed, for PostgreSQL.
The SQL is the same for both; only the parameter marker differs.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHUNK = 500  # senders per IN (...) query


@dataclass(frozen=True)
class ConversationKey:
    """What changes whenever a conversation gets new events (or loses some)."""

    events: int
    last_id: int
    last_timestamp: float


class TrackerStore:
    """The `events` table of a SQLite file or a PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.postgres = url.startswith(("postgresql://", "postgres://"))
        self.mark = "%s" if self.postgres else "?"
        if self.postgres:
            self._driver = _postgres_driver()
        else:
            self.path = Path(url.removeprefix("sqlite:///"))

    def describe(self) -> str:
        """Where the store is, for messages (never the password)."""
        if self.postgres:
            return "PostgreSQL " + self.url.split("@")[-1]  # no password in logs
        return f"SQLite {self.path}"

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Any]:
        if self.postgres:
            connection = self._driver.connect(self.url)
        else:
            connection = sqlite3.connect(self.path, timeout=30)
        try:
            yield connection
            connection.commit()
        finally:
            connection.close()

    def _has_table(self, cursor: Any) -> bool:
        if self.postgres:
            cursor.execute("SELECT to_regclass('events') IS NOT NULL")
            return bool(cursor.fetchone()[0])
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'")
        return cursor.fetchone() is not None

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        if not self.postgres and not self.path.exists():
            return []  # no conversation yet: Rasa creates the file on its first event
        with self._connect() as connection:
            cursor = connection.cursor()
            if not self._has_table(cursor):
                return []
            cursor.execute(sql.replace("?", self.mark), tuple(params))
            return list(cursor.fetchall())

    def keys(self) -> dict[str, ConversationKey]:
        """Every conversation (sender id) with its event count and latest event."""
        rows = self._query(
            "SELECT sender_id, COUNT(*), MAX(id), MAX(timestamp) FROM events GROUP BY sender_id"
        )
        return {s: ConversationKey(int(n), int(i), float(t or 0)) for s, n, i, t in rows}

    def watermark(self) -> tuple[int, int]:
        """(highest event id, number of events): unchanged means no event came or went."""
        rows = self._query("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM events")
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    def max_id(self) -> int:
        """The highest event id: an index lookup, so cheap enough for every request."""
        rows = self._query("SELECT COALESCE(MAX(id), 0) FROM events")
        return int(rows[0][0]) if rows else 0

    def changed_after(self, event_id: int) -> tuple[list[str], int]:
        """The conversations with events newer than `event_id`, and how many such events."""
        rows = self._query(
            "SELECT sender_id, COUNT(*) FROM events WHERE id > ? GROUP BY sender_id", [event_id]
        )
        return [r[0] for r in rows], sum(int(r[1]) for r in rows)

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """One conversation's events in order, as Rasa serialised them."""
        return self.events_of([sender_id]).get(sender_id, [])

    def events_of(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The events of several conversations, fetched in chunks."""
        ids = list(sender_ids)
        result: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            rows = self._query(
                f"SELECT sender_id, data FROM events WHERE sender_id IN ({marks}) "
                "ORDER BY sender_id, id",
                chunk,
            )
            for sender, data in rows:
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    continue  # a row Rasa could not have written; skip rather than fail the page
                result.setdefault(sender, []).append(event)
        return result

    def idle_since(self, cutoff: float) -> list[str]:
        """Conversations whose latest event is older than `cutoff` (a Unix time)."""
        rows = self._query(
            "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < ?", [cutoff]
        )
        return sorted(r[0] for r in rows)

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Delete whole conversations; returns the number of events deleted."""
        ids = list(sender_ids)
        if not ids or (not self.postgres and not self.path.exists()):
            return 0
        deleted = 0
        with self._connect() as connection:
            cursor = connection.cursor()
            if not self._has_table(cursor):
                return 0
            for start in range(0, len(ids), CHUNK):
                chunk = ids[start : start + CHUNK]
                marks = ", ".join(self.mark for _ in chunk)
                cursor.execute(f"DELETE FROM events WHERE sender_id IN ({marks})", tuple(chunk))
                deleted += max(cursor.rowcount, 0)
        return deleted


def _postgres_driver() -> Any:
    for name in ("psycopg", "psycopg2"):
        with contextlib.suppress(ImportError):
            return importlib.import_module(name)
    raise SystemExit(
        "error: a PostgreSQL tracker store needs a driver in this venv: pip install psycopg[binary]"
    )
