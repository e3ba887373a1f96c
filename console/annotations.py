"""Annotations from the inbox: the right intent, organisation or service of a user message, or
"out of scope", with who set it and when; undoable.

An append-only log in the console's own SQLite file: annotating adds a row, undoing marks the
latest live row of a message undone (so the one before it applies again). A message's current
annotation is its latest live row. The current intent and organisation are mirrored into the
corrections the transcript view and the story export use (console.state), so a message
annotated in the inbox shows as corrected in its conversation too.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.project import Project
from console.state import ConsoleState, StateFile

OUT_OF_SCOPE_INTENT = "out_of_scope"
SCHEMA = """
CREATE TABLE IF NOT EXISTS annotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sender_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    text TEXT NOT NULL,
    language TEXT,
    intent TEXT,
    organisation TEXT,
    service TEXT,
    out_of_scope INTEGER NOT NULL DEFAULT 0,
    author TEXT NOT NULL,
    created REAL NOT NULL,
    undone_by TEXT,
    undone_at REAL
);
CREATE INDEX IF NOT EXISTS annotations_live ON annotations (sender_id, turn, undone_at, id);
"""
COLUMNS = "sender_id, turn, text, language, intent, organisation, service, out_of_scope, "
COLUMNS += "author, created"


@dataclass(frozen=True)
class Label:
    """What staff say a message should have been."""

    intent: str | None = None
    organisation: str | None = None
    service: str | None = None
    out_of_scope: bool = False

    @classmethod
    def from_json(cls, body: dict[str, Any], project: Project) -> Label:
        """Validated against the domain and the corpus; ValueError says what is wrong."""
        intent = body.get("intent") or None
        organisation = body.get("organisation") or None
        service = body.get("service") or None
        out_of_scope = bool(body.get("out_of_scope"))
        for name, value in (
            ("intent", intent),
            ("organisation", organisation),
            ("service", service),
        ):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name}: expected a name")
        if out_of_scope:
            if intent or organisation or service:
                raise ValueError("out of scope means no intent, organisation or service")
            intent = OUT_OF_SCOPE_INTENT if OUT_OF_SCOPE_INTENT in project.intents else None
            return cls(intent, None, None, True)
        if intent is not None and intent not in project.intents:
            raise ValueError(f"unknown intent {str(intent)[:50]!r}")
        if organisation is not None and organisation not in {
            o["id"] for o in project.organisations
        }:
            raise ValueError(f"unknown organisation {str(organisation)[:50]!r}")
        if service is not None:
            owner = {s["id"]: s["organisation"] for s in project.services}.get(service)
            if owner is None:
                raise ValueError(f"unknown service {str(service)[:50]!r}")
            if organisation not in (None, owner):
                raise ValueError(f"service {service} belongs to {owner}, not {organisation}")
            organisation = owner
        if not (intent or organisation):
            raise ValueError("give an intent, an organisation or service, or out_of_scope")
        return cls(intent, organisation, service, False)


@dataclass(frozen=True)
class Target:
    """A user message to annotate, with its masked text and language (kept with the label)."""

    sender_id: str
    turn: int
    text: str
    language: str | None


class Annotations(StateFile):
    """The annotation log and each message's current annotation."""

    def __init__(self, path: Path, state: ConsoleState) -> None:
        super().__init__(path, SCHEMA)
        self.state = state

    def annotate(self, targets: Iterable[Target], label: Label, author: str) -> int:
        """Label messages (one or many at once); returns how many."""
        now = time.time()
        rows = [
            (t.sender_id, t.turn, t.text, t.language, label.intent, label.organisation,
             label.service, int(label.out_of_scope), author, now)
            for t in targets
        ]  # fmt: skip
        with self._connect() as db:
            db.executemany(
                f"INSERT INTO annotations ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
            )
        for sender, turn, *_ in rows:
            self.state.correct(sender, turn, label.intent, label.organisation, author)
        return len(rows)

    def undo(self, refs: Iterable[tuple[str, int]], author: str) -> int:
        """Undo the latest live annotation of each message; returns how many were undone."""
        refs = list(refs)
        undone = 0
        with self._connect() as db:
            for sender, turn in refs:
                cursor = db.execute(
                    "UPDATE annotations SET undone_by = ?, undone_at = ? WHERE id = (SELECT "
                    "MAX(id) FROM annotations WHERE sender_id = ? AND turn = ? AND "
                    "undone_at IS NULL)",
                    (author, time.time(), sender, turn),
                )
                undone += cursor.rowcount
        for sender, turn in refs:
            now = self.current([(sender, turn)]).get((sender, turn))
            if now is None:
                self.state.correct(sender, turn, None, None, author)  # removes the correction
            else:
                self.state.correct(sender, turn, now["intent"], now["organisation"], now["author"])
        return undone

    def current(self, refs: Iterable[tuple[str, int]]) -> dict[tuple[str, int], dict[str, Any]]:
        """(sender, turn) -> the current annotation, for the messages that have one."""
        wanted = set(refs)
        senders = sorted({s for s, _ in wanted})
        found: dict[tuple[str, int], dict[str, Any]] = {}
        for start in range(0, len(senders), 500):
            chunk = senders[start : start + 500]
            for row in self._live(f"sender_id IN ({', '.join('?' for _ in chunk)})", chunk):
                key = (row["sender_id"], row["turn"])
                if key in wanted:
                    found[key] = row
        return found

    def all_current(self) -> list[dict[str, Any]]:
        """Every message's current annotation, oldest first (the export's order)."""
        return sorted(self._live("1 = 1", []), key=lambda r: r["created"])

    def _live(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
        sql = (
            f"SELECT id, {COLUMNS} FROM annotations WHERE id IN (SELECT MAX(id) FROM "
            f"annotations WHERE undone_at IS NULL AND {where} GROUP BY sender_id, turn)"
        )
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            rows = db.execute(sql, params).fetchall()
        return [{**dict(r), "out_of_scope": bool(r["out_of_scope"])} for r in rows]

    def forget(self, senders: Iterable[str]) -> None:
        """Drop the annotations of deleted conversations (retention)."""
        with self._connect() as db:
            db.executemany("DELETE FROM annotations WHERE sender_id = ?", [(s,) for s in senders])
