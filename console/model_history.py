"""Models the console trained or published: their files, evaluation, and who did what when.

One row per model in the console's SQLite file (CONSOLE_STATE_DB). A candidate is a trained
model not yet published (a new training replaces it); publishing stamps it with the admin and
the time. The last KEEP published models stay, with their files, for rollback; older ones are
forgotten and their folders under CONSOLE_MODELS_DIR deleted. The model that was running
before the console first published is recorded too (as "running before"), so it can be
rolled back to.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.state import StateFile

KEEP = 5
SCHEMA = """
CREATE TABLE IF NOT EXISTS models (
    id TEXT PRIMARY KEY,
    model_file TEXT NOT NULL,
    index_dir TEXT NOT NULL,
    evaluation TEXT,
    trained_by TEXT NOT NULL,
    trained_at REAL NOT NULL,
    published_by TEXT,
    published_at REAL
)
"""


@dataclass(frozen=True)
class ModelEntry:
    id: str
    model_file: Path
    index_dir: Path
    evaluation: dict[str, Any] | None
    trained_by: str
    trained_at: float
    published_by: str | None
    published_at: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "model": self.model_file.name,
            "evaluation": self.evaluation,
            "trained_by": self.trained_by,
            "trained_at": self.trained_at,
            "published_by": self.published_by,
            "published_at": self.published_at,
        }


class ModelHistory(StateFile):
    """Candidates and the last KEEP published models; `folder` holds the console's own files."""

    def __init__(self, path: Path, folder: Path) -> None:
        super().__init__(path, SCHEMA)
        self.folder = folder

    def _rows(self, where: str, params: tuple[Any, ...] = ()) -> list[ModelEntry]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, model_file, index_dir, evaluation, trained_by, trained_at, "
                f"published_by, published_at FROM models {where}",
                params,
            ).fetchall()
        return [
            ModelEntry(i, Path(m), Path(x), json.loads(e) if e else None, tb, ta, pb, pa)
            for i, m, x, e, tb, ta, pb, pa in rows
        ]

    def get(self, model_id: str) -> ModelEntry | None:
        found = self._rows("WHERE id = ?", (model_id,))
        return found[0] if found else None

    def add(self, entry: ModelEntry) -> None:
        """Record a model; a new candidate replaces the unpublished one before it."""
        if entry.published_at is None:
            for old in self._rows("WHERE published_at IS NULL AND id != ?", (entry.id,)):
                self._delete(old)
        with self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    entry.id, str(entry.model_file), str(entry.index_dir),
                    json.dumps(entry.evaluation) if entry.evaluation is not None else None,
                    entry.trained_by, entry.trained_at, entry.published_by, entry.published_at,
                ),
            )  # fmt: skip

    def set_evaluation(self, model_id: str, evaluation: dict[str, Any]) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE models SET evaluation = ? WHERE id = ?", (json.dumps(evaluation), model_id)
            )

    def candidate(self) -> ModelEntry | None:
        """The trained model not yet published, if any."""
        found = self._rows("WHERE published_at IS NULL ORDER BY trained_at DESC LIMIT 1")
        return found[0] if found else None

    def published(self) -> list[ModelEntry]:
        """Published models, the running one (the latest published) first."""
        return self._rows("WHERE published_at IS NOT NULL ORDER BY published_at DESC")

    def running(self) -> ModelEntry | None:
        found = self.published()
        return found[0] if found else None

    def mark_published(self, model_id: str, user: str, when: float | None = None) -> None:
        """Stamp a model as published now (a rollback stamps an older one again), then keep
        only the last KEEP published models."""
        with self._connect() as db:
            db.execute(
                "UPDATE models SET published_by = ?, published_at = ? WHERE id = ?",
                (user, time.time() if when is None else when, model_id),
            )
        for old in self.published()[KEEP:]:
            self._delete(old)

    def _delete(self, entry: ModelEntry) -> None:
        """Forget a model and delete its folder when it is the console's own (a model file the
        console did not train, such as var/models', is left alone)."""
        with self._connect() as db:
            db.execute("DELETE FROM models WHERE id = ?", (entry.id,))
        folder = self.folder / entry.id
        if folder.is_dir() and folder.resolve().parent == self.folder.resolve():
            shutil.rmtree(folder, ignore_errors=True)
