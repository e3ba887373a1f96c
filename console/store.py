"""Read (and, for retention, delete) conversations in Rasa's SQL tracker store.

Rasa's HTTP API cannot list conversations; its SQL tracker store keeps every event as a row of
the `events` table (id, sender_id, type_name, timestamp, intent_name, action_name, data = the
event as JSON). The console reads that table directly through SQLAlchemy, as Rasa writes it:
the setting is an SQLAlchemy URL of any dialect Rasa's SQL tracker store accepts
(`postgresql://`, `postgresql+psycopg2://`, `sqlite:///path`, `mysql+pymysql://`...) or a plain
SQLite path. The password of a URL never appears in `describe()`, errors or logs.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, create_engine, inspect, text
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

CHUNK = 500  # senders per IN (...) query
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+._-]*://")
DISPLAY_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite", "mysql": "MySQL"}
# Drivers tried, in order, when the one a URL names (or its dialect's default) is missing.
FALLBACK_DRIVERS = {"postgresql": ("psycopg", "psycopg2"), "mysql": ("pymysql", "mysqldb")}
INSTALL_HINTS = {"postgresql": "psycopg[binary]", "mysql": "pymysql"}


class TrackerStoreError(Exception):
    """The tracker store cannot be read: unreachable, refused, or no driver installed."""


@dataclass(frozen=True)
class ConversationKey:
    """What changes whenever a conversation gets new events (or loses some)."""

    events: int
    last_id: int
    last_timestamp: float


def tracker_url(value: str) -> URL:
    """The tracker-store setting as an SQLAlchemy URL (a plain path is an SQLite file).

    Raises ValueError, without echoing the value (it may hold a password), for a URL that
    does not parse or names a database SQLAlchemy does not know.
    """
    if not SCHEME.match(value):
        return URL.create("sqlite", database=value)
    scheme = value.split("://", 1)[0]
    try:
        url = make_url(value)
    except (ArgumentError, ValueError):
        raise ValueError(f"tracker store URL ({scheme}://...): cannot be parsed") from None
    backend, _, driver = url.drivername.partition("+")
    if backend == "postgres":  # Rasa passes `postgres://` hosts on; SQLAlchemy wants the full name
        url = url.set(drivername="postgresql" + (f"+{driver}" if driver else ""))
    try:
        url.get_dialect()
    except NoSuchModuleError:
        if "+" not in url.drivername or url.get_backend_name() not in FALLBACK_DRIVERS:
            raise ValueError(
                f"tracker store URL ({scheme}://...): {url.drivername!r} is not a database "
                "SQLAlchemy knows (postgresql, sqlite, mysql, oracle, mssql...)"
            ) from None
    return url


class TrackerStore:
    """The `events` table of Rasa's SQL tracker store, on any database SQLAlchemy reaches."""

    def __init__(self, url: str) -> None:
        self._url = tracker_url(url)
        self.backend = self._url.get_backend_name()
        self.sqlite = self.backend == "sqlite"
        self.path = Path(self._url.database or ":memory:") if self.sqlite else None
        self._engine_cache: Engine | None = None

    def describe(self) -> str:
        """Where the store is, for messages and the page (never the user name or password)."""
        if self.path is not None:
            return f"SQLite {self.path}"
        url = self._url
        where = (url.host or "localhost") + (f":{url.port}" if url.port else "")
        return f"{DISPLAY_NAMES.get(self.backend, self.backend)} {where}/{url.database or ''}"

    def _redact(self, message: str) -> str:
        password = self._url.password
        return message.replace(str(password), "***") if password else message

    def _engine(self) -> Engine:
        """One engine per store, with the driver the URL names or an installed one."""
        if self._engine_cache is not None:
            return self._engine_cache
        backend, _, named = self._url.drivername.partition("+")
        drivers = [named] if named else [""]
        drivers += [d for d in FALLBACK_DRIVERS.get(backend, ()) if d not in drivers]
        for driver in drivers:
            url = self._url.set(drivername=f"{backend}+{driver}" if driver else backend)
            try:
                if self.sqlite:  # a connection per use, as Rasa's writes come from elsewhere
                    engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 30})
                else:
                    engine = create_engine(url, pool_pre_ping=True, pool_size=2)
            except (ImportError, NoSuchModuleError):
                continue
            self._engine_cache = engine
            return engine
        hint = INSTALL_HINTS.get(backend, f"the Python driver for {backend}")
        raise TrackerStoreError(
            f"the tracker store ({self.describe()}) needs a database driver in this venv: "
            f"pip install {hint}"
        )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[Connection]:
        """A connection in a transaction; a database that fails says so, clearly and briefly."""
        try:
            with self._engine().begin() as connection:
                yield connection
        except DBAPIError as error:
            first_line = (str(error.orig).strip().splitlines() or ["no reason given"])[0]
            raise TrackerStoreError(
                f"cannot read the tracker store ({self.describe()}): {self._redact(first_line)}"
            ) from None

    def _missing(self) -> bool:
        """No SQLite file yet: no conversation (Rasa creates the file on its first event)."""
        return self.path is not None and not self.path.exists()

    def _query(self, sql: Any, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if self._missing():
            return []
        with self._connect() as connection:
            if not inspect(connection).has_table("events"):
                return []
            return [tuple(row) for row in connection.execute(sql, params or {})]

    def keys(self) -> dict[str, ConversationKey]:
        """Every conversation (sender id) with its event count and latest event."""
        rows = self._query(
            text(
                "SELECT sender_id, COUNT(*), MAX(id), MAX(timestamp) FROM events GROUP BY sender_id"
            )
        )
        return {s: ConversationKey(int(n), int(i), float(t or 0)) for s, n, i, t in rows}

    def watermark(self) -> tuple[int, int]:
        """(highest event id, number of events): unchanged means no event came or went."""
        rows = self._query(text("SELECT COALESCE(MAX(id), 0), COUNT(*) FROM events"))
        return (int(rows[0][0]), int(rows[0][1])) if rows else (0, 0)

    def max_id(self) -> int:
        """The highest event id: an index lookup, so cheap enough for every request."""
        rows = self._query(text("SELECT COALESCE(MAX(id), 0) FROM events"))
        return int(rows[0][0]) if rows else 0

    def changed_after(self, event_id: int) -> tuple[list[str], int]:
        """The conversations with events newer than `event_id`, and how many such events."""
        rows = self._query(
            text("SELECT sender_id, COUNT(*) FROM events WHERE id > :after GROUP BY sender_id"),
            {"after": event_id},
        )
        return [r[0] for r in rows], sum(int(r[1]) for r in rows)

    def events(self, sender_id: str) -> list[dict[str, Any]]:
        """One conversation's events in order, as Rasa serialised them."""
        return self.events_of([sender_id]).get(sender_id, [])

    def events_of(self, sender_ids: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        """The events of several conversations, fetched in chunks."""
        ids = list(sender_ids)
        result: dict[str, list[dict[str, Any]]] = {}
        query = text(
            "SELECT sender_id, data FROM events WHERE sender_id IN :ids ORDER BY sender_id, id"
        ).bindparams(bindparam("ids", expanding=True))
        for start in range(0, len(ids), CHUNK):
            for sender, data in self._query(query, {"ids": ids[start : start + CHUNK]}):
                try:
                    event = json.loads(data)
                except (TypeError, ValueError):
                    continue  # a row Rasa could not have written; skip rather than fail the page
                result.setdefault(sender, []).append(event)
        return result

    def idle_since(self, cutoff: float) -> list[str]:
        """Conversations whose latest event is older than `cutoff` (a Unix time)."""
        rows = self._query(
            text("SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :cutoff"),
            {"cutoff": cutoff},
        )
        return sorted(r[0] for r in rows)

    def delete(self, sender_ids: Iterable[str]) -> int:
        """Delete whole conversations; returns the number of events deleted."""
        ids = list(sender_ids)
        if not ids or self._missing():
            return 0
        query = text("DELETE FROM events WHERE sender_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        deleted = 0
        with self._connect() as connection:
            if not inspect(connection).has_table("events"):
                return 0
            for start in range(0, len(ids), CHUNK):
                result = connection.execute(query, {"ids": ids[start : start + CHUNK]})
                deleted += max(result.rowcount, 0)
        return deleted
