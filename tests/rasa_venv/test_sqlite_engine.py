"""A SQLite tracker store keeps its connections, in WAL mode with full syncs, and stays correct."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import policies  # noqa: F401  (installs the SQLite engine, as in the Rasa server)
import pytest
import sqlalchemy as sa
from policies import sqlite_engine
from policies.sqlite_engine import is_sqlite_file
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from tracker_store import ReliableSQLTrackerStore


def _store(db: Path, kind: type = SQLTrackerStore) -> SQLTrackerStore:
    """A store after its first session (which gives it the kept connections)."""
    store = kind(Domain.empty(), dialect="sqlite", db=str(db))
    assert asyncio.run(store.keys()) == []
    return store


def _connections(store: SQLTrackerStore) -> list[object]:
    opened: list[object] = []
    sa.event.listen(store.engine, "connect", lambda dbapi, _record: opened.append(dbapi))
    return opened


def _say(store: SQLTrackerStore, sender: str, *texts: str) -> None:
    async def turns() -> None:
        for text in texts:
            tracker = await store.retrieve(sender) or DialogueStateTracker(sender, [])
            tracker.update(UserUttered(text))
            await store.save(tracker)

    asyncio.run(turns())


@pytest.mark.parametrize("kind", [SQLTrackerStore, ReliableSQLTrackerStore])
def test_a_file_store_keeps_one_connection_in_wal_mode(tmp_path: Path, kind: type) -> None:
    store = _store(tmp_path / "t.db", kind)
    opened = _connections(store)
    _say(store, "a", "one", "two", "three")
    assert opened == [], "the first session's connection serves three reads and three writes"
    assert isinstance(store.engine.pool, sa.pool.QueuePool)
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    with sqlite3.connect(tmp_path / "t.db") as other:  # the mode is the file's, for every reader
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_store_made_before_the_install_gets_it_at_its_first_session(tmp_path: Path) -> None:
    """`rasa run` creates the tracker store before loading the model (which imports policies)."""
    store = _store(tmp_path / "t.db")
    store.__dict__.pop(sqlite_engine._DONE, None)
    store.engine = sa.create_engine(store.engine.url)  # Rasa's engine: a connection per session
    store.sessionmaker = sa.orm.session.sessionmaker(bind=store.engine)
    assert not isinstance(store.engine.pool, sa.pool.QueuePool)
    _say(store, "a", "one")
    assert isinstance(store.engine.pool, sa.pool.QueuePool)
    assert [e.text for e in asyncio.run(store.retrieve("a")).events] == ["one"]
    assert not sqlite_engine.install()  # a second import wraps nothing


def test_another_writer_is_seen_and_sees_every_commit(tmp_path: Path) -> None:
    """A kept connection holds no snapshot between sessions (e.g. the console deleting a
    conversation, or a second store on the same file)."""
    store, other = _store(tmp_path / "t.db"), _store(tmp_path / "t.db")
    _say(store, "a", "one")
    _say(other, "a", "two")
    _say(store, "a", "three")
    assert [e.text for e in asyncio.run(other.retrieve("a")).events] == ["one", "two", "three"]
    with sqlite3.connect(tmp_path / "t.db") as connection:
        connection.execute("DELETE FROM events WHERE sender_id = 'a'")
    assert asyncio.run(store.retrieve("a")) is None


def test_memory_and_other_databases_keep_rasas_engine() -> None:
    assert is_sqlite_file("sqlite:////var/lib/opastin/tracker.db")
    assert not is_sqlite_file("sqlite://")
    assert not is_sqlite_file("sqlite:///:memory:")
    assert not is_sqlite_file("postgresql://rasa@localhost/opastin")
    store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=":memory:")
    assert not isinstance(store.engine.pool, sa.pool.QueuePool)
