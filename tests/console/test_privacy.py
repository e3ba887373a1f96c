"""Privacy by default (docs/privacy.md): scheduled retention that survives database errors,
deletion on request against a tracker store Rasa itself wrote, the compose service.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from console.retention import parse_interval, run_every
from console.settings import ConsoleSettings
from console.state import ConsoleState
from console.store import TrackerStore
from opastin.config import ROOT
from opastin.stack import QUIET_ENV
from tests.console.conftest import DAY, Conversation, pseudonym, write_store
from tests.console.test_cli import run, senders

RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"


def test_retention_is_on_by_default_with_validated_days():
    assert ConsoleSettings().retention_days == 90
    for bad in ("0", "-1", "3651", "ninety"):
        with pytest.raises(SystemExit, match="CONSOLE_RETENTION_DAYS"):
            ConsoleSettings.from_env({"CONSOLE_RETENTION_DAYS": bad})
    assert ConsoleSettings.from_env({"CONSOLE_RETENTION_DAYS": "30"}).retention_days == 30


def test_retention_intervals():
    assert parse_interval("24h") == DAY and parse_interval("1d") == DAY
    assert parse_interval("30m") == 1800 and parse_interval("90s") == 90
    for bad in ("24", "h", "1w", "10s", "-1h", ""):
        with pytest.raises(ValueError, match="interval"):
            parse_interval(bad)


def test_the_retention_loop_survives_a_database_error(tmp_path, caplog):
    """Round 1 cannot open the store (a real sqlite3 error); round 2 purges as usual."""
    now = time.time()
    db = tmp_path / "tracker.db"
    db.mkdir()  # SQLite cannot open a directory: "unable to open database file"
    store = TrackerStore(str(db))
    state = ConsoleState(tmp_path / "console.db")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if db.is_dir():  # the database comes back before the next round
            db.rmdir()
            old = Conversation("web-old", now - 40 * DAY).user("hi", "greet")
            write_store(db, [old, Conversation("web-new", now - DAY).user("hi", "greet")])

    with caplog.at_level(logging.INFO, logger="console.retention"):
        results = run_every(store, state, 30, 3600, sleep=sleep, rounds=3)
    assert results[0] is None
    assert results[1] is not None and results[1].conversations == ["web-old"]
    assert results[2] is not None and results[2].conversations == []
    assert slept == [3600, 3600]
    assert senders(db) == {"web-new"}
    failed = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failed) == 1 and "unable to open database file" in failed[0].getMessage()
    assert "trying again next round" in failed[0].getMessage()
    assert "deleted 1 conversation(s)" in caplog.text
    assert "web-old" not in caplog.text and "web-new" not in caplog.text  # counts, never ids


def test_retention_drops_corrections_of_conversations_deleted_elsewhere(tmp_path):
    now = time.time()
    db = tmp_path / "tracker.db"
    write_store(db, [Conversation("web-kept", now - DAY).user("hi", "greet")])
    state = ConsoleState(tmp_path / "console.db")
    state.correct("web-kept", 0, "greet", None, "t")
    state.correct("web-gone", 0, "greet", None, "t")  # deleted by the compose service, say
    run_every(TrackerStore(str(db)), state, 30, 3600, rounds=1)
    assert sorted(state.senders()) == ["web-kept"]
    # A missing store looks like a wrong setting: corrections are kept then.
    run_every(TrackerStore(str(tmp_path / "missing.db")), state, 30, 3600, rounds=1)
    assert sorted(state.senders()) == ["web-kept"]


@pytest.mark.slow
def test_retention_every_keeps_running_as_a_service(tmp_path):
    now = time.time()
    write_store(
        tmp_path / "tracker.db", [Conversation("web-old", now - 100 * DAY).user("hi", "greet")]
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSOLE_", "OPASTIN_"))}
    env.update(
        CONSOLE_TRACKER_URL=str(tmp_path / "tracker.db"),
        CONSOLE_STATE_DB=str(tmp_path / "console.db"),
        CONSOLE_SENDER_KEY="k" * 32,
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "console", "retention", "--every", "1h"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        while not any("deleted 1 conversation(s)" in line for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, lines
            lines.append(process.stdout.readline())
        time.sleep(0.5)
        assert process.poll() is None  # still running: the next round is an hour away
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert senders(tmp_path / "tracker.db") == set()


def _rasa_store(db: Path, conversations: dict[str, list[dict]] | None = None) -> dict[str, int]:
    """Write (optionally) and list conversations with Rasa's own SQLTrackerStore."""
    args = [str(RASA_PYTHON), str(Path(__file__).with_name("rasa_sqlite_write.py")), str(db)]
    if conversations is not None:
        data = db.with_suffix(".json")
        data.write_text(json.dumps(conversations))
        args.append(str(data))
    env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_forget_deletes_one_persons_data_from_a_store_rasa_wrote(tmp_path):
    """A deletion request: by the console's hash or by the sender id, events, corrections and
    exported files go; other conversations stay, and Rasa no longer finds the deleted ones."""
    now = time.time()
    db = tmp_path / "tracker.db"
    conversations = {
        sender: Conversation(sender, now - DAY)
        .user("tax card? 131052-308T", "tax_registration")
        .answer(["vero"])
        .events
        for sender in ("telegram-123456789", "web-forget-me", "web-keep")
    }
    written = _rasa_store(db, conversations)
    assert set(written) == set(conversations)
    state = ConsoleState(tmp_path / "console.db")
    state.correct("telegram-123456789", 0, "greet", "vero", "t")
    state.correct("web-keep", 0, "greet", None, "t")
    hashed = pseudonym("telegram-123456789")
    exported = run(tmp_path, "export", hashed)
    assert exported.returncode == 0, exported.stderr
    story = tmp_path / "stories" / f"console_{hashed.replace('-', '_')}.yml"
    assert story.exists() and "123456789" not in story.read_text()
    assert yaml.safe_load(story.read_text())["stories"]

    by_hash = run(tmp_path, "forget", hashed)
    assert by_hash.returncode == 0, by_hash.stderr
    events = len(conversations["telegram-123456789"])
    assert f"deleted conversation {hashed} ({events} events)" in by_hash.stdout
    assert "123456789" not in by_hash.stdout.replace(hashed, "")
    assert not story.exists() and "deleted exported file" in by_hash.stdout
    by_sender = run(tmp_path, "forget", "web-forget-me")
    assert by_sender.returncode == 0, by_sender.stderr

    assert senders(db) == {"web-keep"}
    assert state.senders() == ["web-keep"]
    assert _rasa_store(db) == {"web-keep": written["web-keep"]}  # what Rasa loaded at first
    again = run(tmp_path, "forget", hashed)
    assert again.returncode != 0 and "no conversation" in again.stderr


def test_the_privacy_docs_match_the_code():
    """docs/privacy.md and docs/console.md name every console setting and the real defaults."""
    privacy = (ROOT / "docs" / "privacy.md").read_text(encoding="utf-8")
    console_doc = (ROOT / "docs" / "console.md").read_text(encoding="utf-8")
    days = ConsoleSettings().retention_days
    assert f"| `CONSOLE_RETENTION_DAYS` | `{days}` |" in privacy + console_doc
    for name in ConsoleSettings.model_fields:
        assert f"`CONSOLE_{name.upper()}`" in console_doc, name
    for needed in ("python -m console forget", "retention --every 24h", "RETENTION_DAYS"):
        assert needed in privacy, needed
    for heading in ("What is stored", "For how long", "Who can see", "Deleting a person"):
        assert f"## {heading}" in privacy, heading
