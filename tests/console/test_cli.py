"""The command line: accounts, list, export and retention, run as staff would run them."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml

from console.auth import Authenticator, verify_password
from console.retention import purge
from console.state import ConsoleState
from console.store import TrackerStore
from opastin.config import ROOT
from tests.console.conftest import DAY, SENDER_KEY, Conversation, pseudonym, write_store


def run(
    tmp_path, *args: str, stdin: str = "", extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONSOLE_", "OPASTIN_"))}
    env.update(
        {
            "CONSOLE_ACCOUNTS_FILE": str(tmp_path / "accounts.txt"),
            "CONSOLE_TRACKER_URL": str(tmp_path / "tracker.db"),
            "CONSOLE_STATE_DB": str(tmp_path / "console.db"),
            "CONSOLE_STORIES_DIR": str(tmp_path / "stories"),
            "CONSOLE_NLU_DIR": str(tmp_path / "nlu"),
            "CONSOLE_QUESTIONS_DIR": str(tmp_path / "questions"),
            "CONSOLE_SENDER_KEY": SENDER_KEY,
            **(extra or {}),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def senders(db) -> set[str]:
    with contextlib.closing(sqlite3.connect(db)) as connection:
        return {r[0] for r in connection.execute("SELECT DISTINCT sender_id FROM events")}


@pytest.mark.slow
def test_add_user_and_hash_password(tmp_path):
    result = run(tmp_path, "add-user", "maija", stdin="a long password\n")
    assert result.returncode == 0, result.stderr
    assert Authenticator(tmp_path / "accounts.txt").check("maija", "a long password")
    short = run(tmp_path, "add-user", "maija", stdin="short\n")
    assert short.returncode != 0 and "at least 10" in short.stderr
    hashed = run(tmp_path, "hash-password", stdin="another long password\n")
    assert hashed.returncode == 0
    assert verify_password("another long password", hashed.stdout.strip())


def test_unknown_console_setting_stops_with_a_message(tmp_path):
    env_typo = {**os.environ, "CONSOLE_RETENTON_DAYS": "30"}
    result = subprocess.run(
        [sys.executable, "-m", "console", "list"],
        cwd=ROOT,
        env=env_typo,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0 and "CONSOLE_RETENTON_DAYS" in result.stderr


@pytest.mark.slow
def test_list_and_export_from_the_command_line(tmp_path):
    now = time.time()
    write_store(
        tmp_path / "tracker.db",
        [
            Conversation("web-1", now - 100)
            .user("How do I get a tax card?", "tax_registration")
            .answer(["vero"]),
            Conversation("web-2", now - 50).user("asdf qwer", "nlu_fallback", 0.2).no_answer(),
        ],
    )
    listed = run(tmp_path, "list", "--fallback")
    assert listed.returncode == 0, listed.stderr
    assert pseudonym("web-2") in listed.stdout and pseudonym("web-1") not in listed.stdout
    assert "web-2" not in listed.stdout  # the keyed hash only
    ConsoleState(tmp_path / "console.db").correct("web-2", 0, "job_search", "vero", "cli-test")
    exported = run(tmp_path, "export", pseudonym("web-2"))
    assert exported.returncode == 0, exported.stderr
    story_file = next((tmp_path / "stories").glob("*.yml"))
    assert f"story: {story_file}" in exported.stdout
    steps = yaml.safe_load(story_file.read_text())["stories"][0]["steps"]
    assert steps[0] == {"user": "asdf qwer", "intent": "job_search"}
    assert next((tmp_path / "nlu").glob("*.yml")).exists()
    assert next((tmp_path / "questions").glob("*.yml")).exists()
    missing = run(tmp_path, "export", "nobody")
    assert missing.returncode != 0 and "no conversation 'nobody'" in missing.stderr


@pytest.mark.slow
def test_retention_command_deletes_only_idle_conversations(tmp_path):
    now = time.time()
    db = tmp_path / "tracker.db"
    old = Conversation("web-old", now - 40 * DAY).user("hi", "greet")
    # Started long ago but active yesterday: kept whole, not cut in half.
    long_running = Conversation("web-long", now - 45 * DAY).user("hi", "greet")
    long_running.clock = now - DAY
    long_running.user("still here", "greet")
    recent = Conversation("web-new", now - DAY).user("hi", "greet")
    write_store(db, [old, long_running, recent])
    state = ConsoleState(tmp_path / "console.db")
    state.correct("web-old", 0, "greet", None, "t")
    state.correct("web-new", 0, "greet", None, "t")

    dry = run(tmp_path, "retention", "--days", "30", "--dry-run")
    assert dry.returncode == 0 and "would delete 1 conversation(s)" in dry.stdout
    assert senders(db) == {"web-old", "web-long", "web-new"}

    result = run(tmp_path, "retention", "--days", "30")
    assert result.returncode == 0, result.stderr
    assert "deleted 1 conversation(s) idle for more than 30 days (4 events)" in result.stdout
    assert senders(db) == {"web-long", "web-new"}
    assert state.corrections("web-old") == {} and state.corrections("web-new") != {}
    assert len(TrackerStore(str(db)).events("web-long")) == len(long_running.events)


@pytest.mark.slow
def test_retention_is_on_by_default_and_its_days_are_validated(tmp_path):
    default = run(tmp_path, "retention", "--dry-run")
    assert default.returncode == 0 and "more than 90 days" in default.stdout
    env_days = run(tmp_path, "retention", "--dry-run", extra={"CONSOLE_RETENTION_DAYS": "7"})
    assert env_days.returncode == 0 and "more than 7 days" in env_days.stdout
    off = run(tmp_path, "retention", extra={"CONSOLE_RETENTION_DAYS": "0"})
    assert off.returncode != 0 and "CONSOLE_RETENTION_DAYS" in off.stderr
    zero = run(tmp_path, "retention", "--days", "0")
    assert zero.returncode != 0 and "--days N needs N >= 1" in zero.stderr
    bad_every = run(tmp_path, "retention", "--every", "daily")
    assert bad_every.returncode != 0 and "expected a number and s, m, h or d" in bad_every.stderr


def test_purge_function_with_a_fixed_now(tmp_path):
    db = tmp_path / "tracker.db"
    write_store(db, [Conversation("a", 1000.0).user("x", "greet")])
    store = TrackerStore(str(db))
    assert purge(store, None, 1, now=1000.0 + 86399).conversations == []
    result = purge(store, None, 1, now=1000.0 + 86500)
    assert result.conversations == ["a"] and senders(db) == set()
    empty = TrackerStore(str(tmp_path / "never-created.db"))
    assert purge(empty, None, 1).conversations == []
