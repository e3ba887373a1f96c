"""A turn whose tracker store or lock store failed is never acknowledged as answered.

bot/tracker_store.py records the failures of Rasa's real SQL tracker store (SQLite here, broken
the way a lost database breaks it: the table cannot be read or written) inside the turn, under
Rasa's own FailSafeTrackerStore, which hides them; bot/connectors/turn_guard.py turns them into
the polite "please try again" in the user's language. The load test with PostgreSQL and Redis
really failing is tests/scale/test_faults.py.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path

import pytest
from connectors.turn_guard import REASON, RESPONSE, apology, handle_turn, message_language
from lock_store import AtomicRedisLockStore
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from tracker_store import ReliableSQLTrackerStore, TrackerStoreUnavailable, watched_turn

from opastin.stack import BOT_DIR
from opastin.yaml_files import read_yaml
from tools.servers import free_port

SENDER = "rest-user-1"


@pytest.fixture(scope="module")
def domain() -> Domain:
    """bot/domain.yml's apology texts (loading the whole domain takes seconds)."""
    responses = read_yaml(BOT_DIR / "domain.yml")
    return Domain.from_dict({"responses": {RESPONSE: responses["responses"][RESPONSE]}})


def test_the_apology_speaks_each_language_the_domain_has(domain: Domain) -> None:
    variants = domain.responses[RESPONSE]
    languages = [c["value"] for v in variants for c in v.get("condition") or []]
    assert len(languages) >= 12, languages
    for language in languages:
        message = apology(domain, language)
        assert message["custom"] == {"type": "no_answer", "reason": REASON, "language": language}
        assert message["text"] and message["text"] != apology(domain, None)["text"], language
    english = apology(domain, "xx")  # a language without a text: English
    assert english == apology(domain, None) and "try again" in english["text"]
    assert english["custom"] == {"type": "no_answer", "reason": REASON}
    assert apology(None, "fi") == {"custom": {"type": "no_answer", "reason": REASON}}


def test_the_language_comes_from_the_message_metadata() -> None:
    assert message_language({"language": "fi"}) == "fi"
    assert message_language({"language": ["fi"]}) is None
    assert message_language(None) is None


def sqlite_store(tmp_path: Path) -> tuple[ReliableSQLTrackerStore, Path]:
    db = tmp_path / "tracker.db"
    return ReliableSQLTrackerStore(Domain.empty(), dialect="sqlite", db=str(db)), db


def conversation(*texts: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(SENDER, [])
    for text in texts:
        tracker.update(UserUttered(text))
    return tracker


def stored_count(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT count(*) FROM events").fetchone()[0]


def rename_events(db: Path, old: str, new: str) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(f"ALTER TABLE {old} RENAME TO {new}")


def test_a_failed_read_is_reported_and_nothing_is_written_over_the_conversation(
    tmp_path: Path,
) -> None:
    store, db = sqlite_store(tmp_path)
    assert store.engine.pool._pre_ping, "connections of a restarted database are replaced"
    fail_safe = FailSafeTrackerStore(store)  # as Rasa's Agent wraps every tracker store
    asyncio.run(fail_safe.save(conversation("first", "second")))
    assert stored_count(db) == 2

    async def turn() -> None:
        # What Rasa does with a lost database: the read gives "no conversation" ...
        assert await fail_safe.retrieve(SENDER) is None
        rename_events(db, "events_away", "events")  # ... and the database is back at save
        await fail_safe.save(conversation("a new turn on an empty tracker"))

    rename_events(db, "events", "events_away")
    with watched_turn() as record:
        asyncio.run(turn())
    assert record.store_error == "retrieve: OperationalError" and record.retrieve_failed
    assert stored_count(db) == 2, "the empty tracker was not appended to the stored one"
    with pytest.raises(TrackerStoreUnavailable), watched_turn() as failed:
        failed.retrieve_failed = True
        asyncio.run(store.save(conversation("x")))
    # Outside a watched turn (Rasa's HTTP API) the store is Rasa's own.
    asyncio.run(store.save(conversation("first", "second", "third")))
    assert stored_count(db) == 3
    assert asyncio.run(store.retrieve(SENDER)).latest_message.text == "third"


def test_a_failed_save_is_reported(tmp_path: Path) -> None:
    store, db = sqlite_store(tmp_path)
    with sqlite3.connect(db) as connection:
        fail = "SELECT RAISE(ABORT, 'disk full')"
        connection.execute(f"CREATE TRIGGER full BEFORE INSERT ON events BEGIN {fail}; END")
    with watched_turn() as record:
        asyncio.run(FailSafeTrackerStore(store).save(conversation("hello")))
    assert record.store_error == "save: IntegrityError"
    assert not record.retrieve_failed


def message() -> UserMessage:
    return UserMessage("hello", CollectingOutputChannel(), SENDER, input_channel="rest")


def test_handle_turn_says_why_a_turn_was_not_taken(tmp_path: Path, caplog) -> None:
    store, db = sqlite_store(tmp_path)
    fail_safe = FailSafeTrackerStore(store)

    async def processed(msg: UserMessage) -> None:
        await fail_safe.retrieve(msg.sender_id)
        await fail_safe.save(conversation(msg.text))

    async def no_lock(_: UserMessage) -> None:
        raise LockError("Could not acquire lock for conversation_id 'rest-user-1'.")

    assert asyncio.run(handle_turn(processed, message())) is None
    rename_events(db, "events", "events_away")
    with caplog.at_level(logging.WARNING, logger="connectors.turn_guard"):
        assert asyncio.run(handle_turn(processed, message())) == "retrieve: OperationalError"
        assert asyncio.run(handle_turn(no_lock, message())) == "LockError"
    assert "the user was asked to try again" in caplog.text
    assert SENDER not in caplog.text, "the conversation id is not logged"


def test_returning_a_ticket_while_redis_is_gone_does_not_fail_the_turn(caplog) -> None:
    store = AtomicRedisLockStore(host="127.0.0.1", port=free_port(), socket_timeout=1)
    with pytest.raises(LockError):
        store.issue_ticket("c1")
    with caplog.at_level(logging.WARNING, logger="lock_store"):
        store.cleanup("c1", 0)  # the turn was stored; the ticket expires by itself
    assert "ticket not returned (ConnectionError)" in caplog.text
