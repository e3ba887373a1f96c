"""Rasa's own error log of a failing tracker store carries no user text and no sender id.

SQLAlchemy appends the statement's parameters to its errors, and Rasa logs them at ERROR when
the tracker store fails; bot/connectors/log_privacy.py replaces them. The store here is Rasa's
real SQLTrackerStore on SQLite, made to fail on INSERT by a trigger (as a full disk would).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import connectors  # noqa: F401  (Rasa imports it on every `rasa run`; that installs the scrub)
from connectors.log_privacy import HIDDEN, hide_parameters
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

SENDER = "telegram-555123"
TEXT = "my identity code is 131052-308T"


def test_a_failing_tracker_store_logs_no_user_text(tmp_path: Path, caplog) -> None:
    db = tmp_path / "tracker.db"
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db))
    with sqlite3.connect(db) as connection:
        fail = "SELECT RAISE(ABORT, 'disk full')"
        connection.execute(f"CREATE TRIGGER full BEFORE INSERT ON events BEGIN {fail}; END")
    tracker = DialogueStateTracker(SENDER, [])
    tracker.update(UserUttered(TEXT))
    with caplog.at_level(logging.INFO):
        asyncio.run(FailSafeTrackerStore(store).save(tracker))
    logged = caplog.text
    assert "Error happened when trying to save conversation tracker" in logged
    assert "disk full" in logged and HIDDEN in logged  # the error is still useful
    assert "131052-308T" not in logged and SENDER not in logged


def test_tracebacks_are_scrubbed_too(caplog) -> None:
    try:
        raise RuntimeError(f"(x) failed\n[SQL: INSERT]\n[parameters: ('{SENDER}', '{TEXT}')]")
    except RuntimeError:
        with caplog.at_level(logging.INFO):
            logging.getLogger("rasa.core.processor").exception("processing failed")
    assert "processing failed" in caplog.text and HIDDEN in caplog.text
    assert SENDER not in caplog.text and "131052" not in caplog.text


def test_only_the_parameters_go() -> None:
    text = "boom\n[SQL: INSERT INTO events]\n[parameters: ('a', 'b')]\n(Background on this error)"
    assert hide_parameters(text) == (
        f"boom\n[SQL: INSERT INTO events]\n{HIDDEN}\n(Background on this error)"
    )


def test_telegram_ids_in_rasa_warnings_become_keyed_hashes(caplog) -> None:
    with caplog.at_level(logging.INFO):
        for _ in range(2):
            logging.getLogger("rasa.core.processor").warning(
                "Circuit breaker tripped. Stopped predicting more actions for sender '%s'.", SENDER
            )
    first, second = (r.getMessage() for r in caplog.records)
    assert "555123" not in caplog.text and first == second  # one user, one name in a run
    assert "for sender 'telegram-#" in first
    assert "100200300" not in hide_parameters("group chat telegram--100200300")
