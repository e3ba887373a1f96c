"""Knowledge suggestions: staff propose a question, an alias or a text fix for a corpus service;
an admin accepts or rejects it. Never a silent edit of the corpus.

Why a patch file and not a git branch: the console runs where knowledge/ may not be a git
checkout (containers, deploy/), and it must not hold commit rights to the project. Each
suggestion is a row here (who, when, what, status) and a `git format-patch` style file in
CONSOLE_SUGGESTIONS_DIR with the staff member as its author, so a developer can review it and
`git am` it anywhere. Accepting applies the change to the console's own corpus file, re-made and
re-validated against the file as it is then; the admin reviews it with `git diff knowledge/`
and commits it (the patch names the author), and the next `make prepare` indexes it.

The suggestion keeps the conversation it came from by its keyed hash only (never a sender id);
its text is what staff wrote, so retention and `forget` of conversations do not touch it.
"""

from __future__ import annotations

import difflib
import email.utils
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.corpus_edit import Change, InvalidChange, changed_file
from console.state import StateFile
from opastin.config import ROOT

STATUSES = ("pending", "accepted", "rejected")
SCHEMA = """
CREATE TABLE IF NOT EXISTS suggestions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    field TEXT NOT NULL,
    language TEXT NOT NULL,
    text TEXT NOT NULL,
    old_text TEXT,
    reason TEXT NOT NULL,
    conversation TEXT,
    turn INTEGER,
    author TEXT NOT NULL,
    created REAL NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    reviewer TEXT,
    decided REAL,
    note TEXT,
    patch TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS suggestions_by_status ON suggestions (status, id);
"""
COLUMNS = [
    "id", "service_id", "kind", "field", "language", "text", "old_text", "reason",
    "conversation", "turn", "author", "created", "status", "reviewer", "decided", "note", "patch",
]  # fmt: skip


class Conflict(ValueError):
    """The suggestion cannot be decided as asked (already decided, or the text it fixes changed)."""


@dataclass(frozen=True)
class Source:
    """The inbox message a suggestion came from: its conversation's keyed hash and turn."""

    conversation: str
    turn: int


def repo_path(path: Path, corpus_dir: Path) -> str:
    """The file's path as a patch names it: from the project root, else from the corpus's parent."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path.resolve().relative_to(corpus_dir.resolve().parent))


def format_patch(
    name: str, before: str, after: str, author: str, when: float, subject: str, body: str
) -> str:
    """A `git format-patch` style mail: `git am` commits it with the staff member as author."""
    diff = "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            f"a/{name}",
            f"b/{name}",
        )
    )
    address = email.utils.formataddr((author, f"{author}@opastin-console.invalid"))
    return (
        "From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
        f"From: {address}\nDate: {email.utils.formatdate(when)}\nSubject: [PATCH] {subject}\n\n"
        f"{body}\n---\ndiff --git a/{name} b/{name}\n{diff}"
    )


def _subject(change: Change) -> str:
    what = f"fix {change.field}" if change.kind == "text" else f"add {change.kind}"
    return f"Corpus: {what} ({change.language}) of {change.service_id}"


class Suggestions(StateFile):
    """The suggestions, their patch files, and accepting or rejecting them."""

    def __init__(self, path: Path, directory: Path, corpus_dir: Path) -> None:
        super().__init__(path, SCHEMA)
        self.directory = directory
        self.corpus_dir = corpus_dir
        self._decide = threading.Lock()  # one accept at a time: each re-reads the file

    def propose(
        self, change: Change, reason: str, author: str, source: Source | None = None
    ) -> dict[str, Any]:
        """Validate the change against the corpus now and store it with its patch; LookupError
        for an unknown service, ValueError (InvalidChange: the validator's problems) otherwise."""
        path, before, after, old = changed_file(self.corpus_dir, change)
        now = time.time()
        body = reason or "(no reason given)"
        if source:
            body += f"\n\nFrom the inbox: conversation {source.conversation}, turn {source.turn}."
        name = repo_path(path, self.corpus_dir)
        patch = format_patch(name, before, after, author, now, _subject(change), body)
        with self._connect() as db:
            cursor = db.execute(
                "INSERT INTO suggestions (service_id, kind, field, language, text, old_text, "
                "reason, conversation, turn, author, created, patch) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    change.service_id, change.kind, change.field, change.language, change.text,
                    old, reason, source.conversation if source else None,
                    source.turn if source else None, author, now, patch,
                ),
            )  # fmt: skip
            number = int(cursor.lastrowid or 0)
        self.patch_file(number).parent.mkdir(parents=True, exist_ok=True)
        self.patch_file(number).write_text(patch, encoding="utf-8")
        return self.get(number)

    def patch_file(self, number: int) -> Path:
        return self.directory / f"{number:04d}.patch"

    def get(self, number: int) -> dict[str, Any]:
        """One suggestion; LookupError if there is none with that number."""
        with self._connect() as db:
            row = db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM suggestions WHERE id = ?", (number,)
            ).fetchone()
        if row is None:
            raise LookupError(f"no suggestion {number}")
        return dict(zip(COLUMNS, row, strict=True))

    def listed(self, status: str = "") -> list[dict[str, Any]]:
        """Suggestions, newest first; only those with `status` when given."""
        if status and status not in STATUSES:
            raise ValueError(f"status: expected one of {', '.join(STATUSES)}")
        where, params = ("WHERE status = ?", (status,)) if status else ("", ())
        with self._connect() as db:
            rows = db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM suggestions {where} ORDER BY id DESC LIMIT 500",
                params,
            ).fetchall()
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT status, COUNT(*) FROM suggestions GROUP BY status")
            found = dict(rows.fetchall())
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def accept(self, number: int, reviewer: str) -> dict[str, Any]:
        """Apply a pending suggestion to the corpus file, re-made and re-validated against the
        file as it is now. Conflict when it was decided already or the fixed text changed."""
        with self._decide:
            item = self._pending(number)
            change = Change(
                item["service_id"], item["kind"], item["language"], item["text"], item["field"]
            )
            try:
                path, _, after, old = changed_file(self.corpus_dir, change)
            except InvalidChange:
                raise
            except (LookupError, ValueError) as error:
                raise Conflict(f"the corpus changed: {error}") from None
            if old != item["old_text"]:
                raise Conflict(
                    f"{change.where} changed since the suggestion: reject it and suggest again"
                )
            temporary = path.with_name(f".{path.name}.suggestion-{number}")
            temporary.write_text(after, encoding="utf-8")
            os.replace(temporary, path)  # whole file or nothing
            return self._decided(number, "accepted", reviewer, "")

    def reject(self, number: int, reviewer: str, note: str) -> dict[str, Any]:
        with self._decide:
            self._pending(number)
            return self._decided(number, "rejected", reviewer, note)

    def _pending(self, number: int) -> dict[str, Any]:
        item = self.get(number)
        if item["status"] != "pending":
            raise Conflict(f"suggestion {number} was {item['status']} by {item['reviewer']}")
        return item

    def _decided(self, number: int, status: str, reviewer: str, note: str) -> dict[str, Any]:
        with self._connect() as db:
            db.execute(
                "UPDATE suggestions SET status = ?, reviewer = ?, decided = ?, note = ? "
                "WHERE id = ?",
                (status, reviewer, time.time(), note or None, number),
            )
        return self.get(number)
