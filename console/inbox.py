"""The inbox: every user message across conversations, newest first, filterable and paged.

Reading every tracker's events per request does not scale to 100,000 messages, so the console
keeps a derived table, one row per user message (masked text, intent, confidence, the
organisation answered, language, channel, fallback, clarifying question, negative feedback), in
its own SQLite file, beside the tags and annotations it is filtered by, with a trigram
full-text index for the search box. Each refresh asks the tracker store for its highest event
id (instant); when it moved, only the conversations with newer events are re-read (one indexed
query). Counting every event, to notice deletions (retention), takes a scan, so it runs at most
once a minute; then the per-conversation event counts say which conversations to re-read or drop.

Only one refresh runs at a time. The console starts one when it starts (console.jobs); a page
asked for while a refresh runs waits up to two seconds for it, then is served from the table as
it stands and says it is `updating` (the first build of 100,000 messages takes a minute or so).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from console.annotations import SCHEMA as ANNOTATIONS_SCHEMA
from console.conversations import FEEDBACK_INTENT, TEST_PREFIX, build_turns
from console.guests import GUEST_PREFIX
from console.listing import SOURCES, day_start, query_day
from console.state import StateFile
from console.store import TrackerStore
from console.tags import CONVERSATION
from console.tags import SCHEMA as TAGS_SCHEMA

CHUNK = 500  # conversations re-read per round
REFRESH_WAIT = 2.0  # seconds a page waits for a running refresh
DELETION_CHECK_SECONDS = 60.0
FACETS = ("language", "channel", "intent", "organisation")
SCHEMA = """
CREATE TABLE IF NOT EXISTS inbox_messages (
    sender_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    timestamp REAL NOT NULL,
    text TEXT NOT NULL,
    search TEXT NOT NULL,
    intent TEXT,
    confidence REAL,
    organisation TEXT,
    answer TEXT,
    language TEXT,
    channel TEXT,
    fallback INTEGER NOT NULL,
    clarifying INTEGER NOT NULL,
    negative INTEGER NOT NULL,
    test INTEGER NOT NULL,
    PRIMARY KEY (sender_id, turn)
);
CREATE INDEX IF NOT EXISTS inbox_newest ON inbox_messages (timestamp DESC, sender_id, turn);
CREATE TABLE IF NOT EXISTS inbox_conversations (sender_id TEXT PRIMARY KEY, events INTEGER);
CREATE TABLE IF NOT EXISTS inbox_watermark (
    one INTEGER PRIMARY KEY CHECK (one = 1), max_id INTEGER, events INTEGER
);
"""
# Substring search through an index: with SQLite's trigram tokenizer a phrase query finds the
# texts that contain it, for three characters or more (shorter ones scan the column).
SEARCH_SCHEMA = """
CREATE VIRTUAL TABLE IF NOT EXISTS inbox_search USING fts5(
    search, content='inbox_messages', content_rowid='rowid', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS inbox_search_add AFTER INSERT ON inbox_messages BEGIN
    INSERT INTO inbox_search (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER IF NOT EXISTS inbox_search_drop AFTER DELETE ON inbox_messages BEGIN
    INSERT INTO inbox_search (inbox_search, rowid, search) VALUES ('delete', old.rowid, old.search);
END;
"""
ROW = (
    "sender_id, turn, timestamp, text, search, intent, confidence, organisation, answer, "
    "language, channel, fallback, clarifying, negative, test"
)
ROW_COLUMNS = ROW.split(", ")


def message_rows(sender_id: str, events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """One conversation's user messages as inbox rows (masked by build_turns).

    Negative feedback ("wrong answer") marks the question before it: that is the message staff
    need to see, and the feedback message itself stays in the inbox as a feedback intent.
    """
    rows: list[list[Any]] = []
    question: list[Any] | None = None
    for turn in build_turns(events):
        user = turn["user"]
        if user is None:
            continue
        answer = turn["answer"] or {}
        named = answer.get("organisations") if answer.get("type") == "service_answer" else None
        first = named[0] if isinstance(named, list) and named else {}
        row = [
            sender_id, turn["index"], float(turn["timestamp"] or 0.0), user["text"],
            user["text"].casefold(), user["intent"], user["confidence"],
            first.get("id") if isinstance(first, dict) else None, answer.get("type"),
            turn["language"], user["channel"], int(turn["fallback"]),
            int(answer.get("type") == "clarification"), 0, int(sender_id.startswith(TEST_PREFIX)),
        ]  # fmt: skip
        rows.append(row)
        if user["intent"] == FEEDBACK_INTENT:
            if turn["feedback"] == "negative" and question is not None:
                question[13] = 1
        else:
            question = row
    return [tuple(r) for r in rows]


@dataclass(frozen=True)
class InboxFilters:
    """The inbox's search box and filters; empty fields do not filter."""

    q: str = ""
    date_from: date | None = None
    date_to: date | None = None
    language: str = ""
    channel: str = ""
    intent: str = ""
    organisation: str = ""
    tag: str = ""
    low_confidence: bool = False
    fallback: bool = False
    clarifying: bool = False
    negative: bool = False
    annotated: str = ""  # "" | "yes" | "no"
    source: str = "users"  # users | tests | guests | all (console.listing.SOURCES)

    @classmethod
    def from_query(cls, query: Any) -> InboxFilters:
        """From URL query parameters; ValueError with a message on bad input."""

        def flag(name: str) -> bool:
            return query.get(name) in {"1", "true", "on"}

        source = query.get("source") or "users"
        if source not in SOURCES:
            raise ValueError("source: expected all, users, tests or guests")
        annotated = query.get("annotated") or ""
        if annotated not in {"", "yes", "no"}:
            raise ValueError("annotated: expected yes or no")
        return cls(
            q=(query.get("q") or "").strip()[:200],
            date_from=query_day(query, "date_from"),
            date_to=query_day(query, "date_to"),
            language=(query.get("language") or "").strip(),
            channel=(query.get("channel") or "").strip(),
            intent=(query.get("intent") or "").strip(),
            organisation=(query.get("organisation") or "").strip(),
            tag=(query.get("tag") or "").strip(),
            low_confidence=flag("low_confidence"),
            fallback=flag("fallback"),
            clarifying=flag("clarifying"),
            negative=flag("negative"),
            annotated=annotated,
            source=source,
        )

    def where(self, tz: ZoneInfo, low_confidence: float) -> tuple[str, list[Any]]:
        """The SQL condition on inbox_messages (alias m) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        guests = (GUEST_PREFIX, GUEST_PREFIX[:-1] + chr(ord("-") + 1))  # the prefix's id range
        if self.source == "tests":
            clauses.append("m.test = 1")
        elif self.source == "guests":
            clauses.append("m.sender_id >= ? AND m.sender_id < ?")
            params.extend(guests)
        elif self.source == "users":
            clauses.append("m.test = 0 AND (m.sender_id < ? OR m.sender_id >= ?)")
            params.extend(guests)
        if self.date_from:
            clauses.append("m.timestamp >= ?")
            params.append(day_start(self.date_from, tz))
        if self.date_to:
            clauses.append("m.timestamp < ?")
            params.append(day_start(self.date_to + timedelta(days=1), tz))
        for column in ("language", "channel", "intent", "organisation"):
            if value := getattr(self, column):
                clauses.append(f"m.{column} = ?")
                params.append(value)
        if self.low_confidence:
            clauses.append("(m.confidence IS NULL OR m.confidence < ?)")
            params.append(low_confidence)
        for column in ("fallback", "clarifying", "negative"):
            if getattr(self, column):
                clauses.append(f"m.{column} = 1")
        if self.q:
            if len(self.q) >= 3:  # a phrase of trigrams: the text contains q
                clauses.append("m.rowid IN (SELECT rowid FROM inbox_search WHERE search MATCH ?)")
                params.append('"' + self.q.casefold().replace('"', '""') + '"')
            else:
                escaped = self.q.casefold().replace("\\", "\\\\").replace("%", "\\%")
                clauses.append("m.search LIKE ? ESCAPE '\\'")
                params.append("%" + escaped.replace("_", "\\_") + "%")
        if self.tag:
            clauses.append(
                "((m.sender_id, m.turn) IN (SELECT sender_id, turn FROM tags WHERE tag = ?) "
                "OR m.sender_id IN (SELECT sender_id FROM tags WHERE tag = ? AND turn = ?))"
            )
            params.extend([self.tag, self.tag, CONVERSATION])
        if self.annotated:
            live = (
                "EXISTS (SELECT 1 FROM annotations a WHERE a.sender_id = m.sender_id "
                "AND a.turn = m.turn AND a.undone_at IS NULL)"
            )
            clauses.append(live if self.annotated == "yes" else f"NOT {live}")
        return (" AND ".join(clauses) or "1 = 1"), params


class Inbox(StateFile):
    """The derived message table: kept in step with the tracker store, queried per page."""

    def __init__(
        self, store: TrackerStore, path: Path, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.store = store
        self.clock = clock
        self.deletion_check_seconds = DELETION_CHECK_SECONDS
        self._checked = float("-inf")  # when events were last counted
        self._facets: dict[str, set[str]] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.updating = False
        # Write-ahead log: pages read while a refresh writes, instead of waiting for it.
        wal = "PRAGMA journal_mode=WAL;\n"
        super().__init__(path, wal + SCHEMA + SEARCH_SCHEMA + TAGS_SCHEMA + ANNOTATIONS_SCHEMA)

    def refresh(self, *, wait: float | None = None) -> int:
        """Bring the table up to date with the store; returns how many conversations changed.

        With `wait` seconds, gives up (-1) if another refresh is still running by then.
        """
        if not self._lock.acquire(timeout=-1 if wait is None else wait):
            return -1
        try:
            self.updating = True
            return self._refresh()
        finally:
            self.updating = False
            self._lock.release()

    def stop(self) -> None:
        """Make a running refresh stop after its current chunk (the console is shutting down)."""
        self._stop.set()

    def _refresh(self) -> int:
        with self._connect() as db:
            row = db.execute("SELECT max_id, events FROM inbox_watermark").fetchone()
        known_max, known_count = row if row else (0, 0)
        count_now = self.clock() - self._checked >= self.deletion_check_seconds
        if count_now:
            max_id, count = self.store.watermark()
            self._checked = self.clock()
        else:
            max_id = self.store.max_id()
            count = -1  # not counted this time
        if max_id == known_max and count in (-1, known_count):
            return 0
        changed, added = self.store.changed_after(known_max) if max_id != known_max else ([], 0)
        gone: set[str] = set()
        if count == -1:
            count = known_count + added
        elif known_count + added != count:  # events were deleted: compare every conversation
            with self._connect() as db:
                synced = dict(db.execute("SELECT sender_id, events FROM inbox_conversations"))
            keys = self.store.keys()
            changed = [s for s, k in keys.items() if synced.get(s) != k.events]
            gone = set(synced) - set(keys)
            self._facets = None  # values may have gone with them
        for start in range(0, len(changed), CHUNK):
            if self._stop.is_set():
                return start  # the watermark stays: the next start re-reads the rest
            self._reread(changed[start : start + CHUNK])
        with self._connect() as db:
            for sender in gone:
                db.execute("DELETE FROM inbox_messages WHERE sender_id = ?", (sender,))
                db.execute("DELETE FROM inbox_conversations WHERE sender_id = ?", (sender,))
            db.execute(
                "INSERT OR REPLACE INTO inbox_watermark (one, max_id, events) VALUES (1, ?, ?)",
                (max_id, count),
            )
        return len(changed) + len(gone)

    def _reread(self, senders: list[str]) -> None:
        events = self.store.events_of(senders)
        with self._connect() as db:
            for sender in senders:
                db.execute("DELETE FROM inbox_messages WHERE sender_id = ?", (sender,))
                found = events.get(sender, [])
                rows = message_rows(sender, found)
                db.executemany(
                    f"INSERT INTO inbox_messages ({ROW}) VALUES ({', '.join('?' * 15)})", rows
                )
                if self._facets is not None:
                    for name, values in self._facets.items():
                        position = ROW_COLUMNS.index(name)
                        values.update(r[position] for r in rows if r[position] is not None)
                db.execute(
                    "INSERT OR REPLACE INTO inbox_conversations (sender_id, events) VALUES (?, ?)",
                    (sender, len(found)),
                )

    def page(
        self, filters: InboxFilters, tz: ZoneInfo, low_confidence: float, limit: int, offset: int
    ) -> tuple[int, list[dict[str, Any]]]:
        """(number of matches, one page of them newest first)."""
        where, params = filters.where(tz, low_confidence)
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            total = db.execute(f"SELECT COUNT(*) FROM inbox_messages m WHERE {where}", params)
            total_count = int(total.fetchone()[0])
            rows = db.execute(
                f"SELECT {ROW} FROM inbox_messages m WHERE {where} "
                "ORDER BY m.timestamp DESC, m.sender_id DESC, m.turn DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return total_count, [_item(r, tz) for r in rows]

    def messages(self, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """The given messages' rows (unknown ones are missing from the result)."""
        found: dict[tuple[str, int], dict[str, Any]] = {}
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            for sender, turn in set(refs):
                row = db.execute(
                    f"SELECT {ROW} FROM inbox_messages WHERE sender_id = ? AND turn = ?",
                    (sender, turn),
                ).fetchone()
                if row is not None:
                    found[(sender, turn)] = dict(row)
        return found

    def senders(self) -> list[str]:
        """Every conversation the inbox has read (the API maps keyed hashes back to these)."""
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT sender_id FROM inbox_conversations")]

    def facets(self) -> dict[str, list[str]]:
        """The values the filter menus offer (read once, then kept up to date by refresh)."""
        if self._facets is None:
            with self._connect() as db:
                self._facets = {
                    column: {
                        r[0]
                        for r in db.execute(
                            f"SELECT DISTINCT {column} FROM inbox_messages "
                            f"WHERE {column} IS NOT NULL"
                        )
                    }
                    for column in FACETS
                }
        return {column + "s": sorted(values) for column, values in self._facets.items()}


def _item(row: sqlite3.Row, tz: ZoneInfo) -> dict[str, Any]:
    item = dict(row)
    del item["search"]
    item["time"] = datetime.fromtimestamp(item.pop("timestamp"), tz).isoformat(timespec="seconds")
    for flag in ("fallback", "clarifying", "negative", "test"):
        item[flag] = bool(item[flag])
    return item
