"""The SQL tracker store's Core reads and writes store and return what Rasa's ORM code does."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from pathlib import Path
from typing import Any

import connectors  # noqa: F401  (installs the log scrub, as on every `rasa run`)
import policies  # noqa: F401  (installs the Core save and retrieve, as in the Rasa server)
import pytest
from connectors.log_privacy import HIDDEN
from policies import sql_store_core
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from tracker_store import ReliableSQLTrackerStore

from tests.rasa_venv.conversations import Clock, session_start

RASA_SAVE = SQLTrackerStore.save.__wrapped__  # type: ignore[attr-defined]
RASA_RETRIEVE = SQLTrackerStore._retrieve.__wrapped__  # type: ignore[attr-defined]
COLUMNS = "id, sender_id, type_name, timestamp, intent_name, action_name, data"


def _turn(clock: Clock, text: str, intent: str | None, language: str) -> list[Any]:
    """One user turn as Rasa stores it: message, slot action, slots, answer, listen."""
    parse = {
        "intent": {"name": intent, "confidence": 0.93} if intent else {},
        "entities": [{"entity": "language", "value": language, "start": 0, "end": 2}],
        "intent_ranking": [{"name": intent or "nlu_fallback", "confidence": 0.93}],
        "text": text,
    }
    return [
        UserUttered(text, parse["intent"], parse["entities"], parse, timestamp=clock()),
        ActionExecuted("action_validate_slot_mappings", timestamp=clock()),
        SlotSet("language", language, timestamp=clock()),
        ActionExecuted("action_answer_question", timestamp=clock()),
        BotUttered(f"answer to {text} ä 中", {"custom": {"links": [1, 2]}}, timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
    ]


CONVERSATION = [  # (sender, events to add in this turn); a second session for sender "a"
    ("a", "start"),
    ("a", ("hei, verokortti?", "ask_service", "fi")),
    ("b", "start"),
    ("b", ("hello", "greet", "en")),
    ("a", ("entä kela", None, "fi")),
    ("a", "start"),
    ("a", ("residence permit", "ask_service", "en")),
    ("b", ("Я хочу работать", "ask_service", "ru")),
]


def _play(store: Any, clock: Clock, save: Any, retrieve: Any) -> None:
    """Each turn as Rasa's processor does it: read the tracker, add the turn's events, save."""

    async def play() -> None:
        for sender, step in CONVERSATION:
            tracker = await retrieve(store, sender, False) or store.init_tracker(sender)
            events = session_start(clock) if step == "start" else _turn(clock, *step)
            for event in events:
                tracker.update(event)
            await save(store, tracker)

    asyncio.run(play())


def _rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as connection:
        return connection.execute(f"SELECT {COLUMNS} FROM events ORDER BY id").fetchall()


def _both(tmp_path: Path, domain: Domain) -> tuple[SQLTrackerStore, SQLTrackerStore]:
    """Two stores, the conversation written into one by Rasa's code, into the other by ours."""
    ours = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "ours.db"))
    rasas = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    _play(ours, Clock(), SQLTrackerStore.save, SQLTrackerStore._retrieve)
    _play(rasas, Clock(), RASA_SAVE, RASA_RETRIEVE)
    return ours, rasas


def test_the_wrappers_are_installed() -> None:
    assert SQLTrackerStore.save.__name__ == "save" and RASA_SAVE is not SQLTrackerStore.save
    assert RASA_RETRIEVE is not SQLTrackerStore._retrieve
    assert not sql_store_core.install()  # a second import wraps nothing


def test_the_same_rows_are_stored(tmp_path: Path, domain: Domain) -> None:
    _both(tmp_path, domain)
    ours, rasas = _rows(tmp_path / "ours.db"), _rows(tmp_path / "rasa.db")
    assert len(ours) == 3 + 6 + 3 + 6 + 6 + 3 + 6 + 6
    assert ours == rasas
    assert [row[0] for row in ours] == list(range(1, len(ours) + 1))


def test_one_insert_per_event_stores_the_same_rows(
    tmp_path: Path, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path other dialects (PostgreSQL) take: one INSERT per event, in order."""
    monkeypatch.setattr(sql_store_core, "EXECUTEMANY_DIALECTS", frozenset())
    _both(tmp_path, domain)
    assert _rows(tmp_path / "ours.db") == _rows(tmp_path / "rasa.db")


@pytest.mark.parametrize("all_sessions", [False, True])
def test_the_same_trackers_are_read(tmp_path: Path, domain: Domain, all_sessions: bool) -> None:
    ours, rasas = _both(tmp_path, domain)

    async def read(store: SQLTrackerStore, method: Any, sender: str) -> Any:
        return await method(store, sender, all_sessions)

    for sender in ("a", "b"):
        mine = asyncio.run(read(ours, SQLTrackerStore._retrieve, sender))
        theirs = asyncio.run(read(ours, RASA_RETRIEVE, sender))
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in theirs.events]
        assert mine.current_state() == theirs.current_state()
        other_db = asyncio.run(read(rasas, RASA_RETRIEVE, sender))
        assert [e.as_dict() for e in mine.events] == [e.as_dict() for e in other_db.events]
    first = asyncio.run(read(ours, SQLTrackerStore._retrieve, "a"))
    sessions = sum(isinstance(e, SessionStarted) for e in first.events)
    assert sessions == (2 if all_sessions else 1)
    assert asyncio.run(read(ours, SQLTrackerStore._retrieve, "nobody")) is None


def test_a_store_with_an_event_broker_uses_rasas_save(tmp_path: Path, domain: Domain) -> None:
    class Broker:
        def __init__(self) -> None:
            self.published: list[dict[str, Any]] = []

        def publish(self, event: dict[str, Any]) -> None:
            self.published.append(event)

    broker = Broker()
    store = SQLTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "b.db"), event_broker=broker
    )
    _play(store, Clock(), SQLTrackerStore.save, SQLTrackerStore._retrieve)
    rows = _rows(tmp_path / "b.db")
    assert [e["event"] for e in broker.published] == [row[2] for row in rows]


def test_a_store_that_queries_its_own_way_uses_rasas_methods(
    tmp_path: Path, domain: Domain
) -> None:
    calls: list[str] = []

    class OwnQuery(SQLTrackerStore):
        def _event_query(self, session: Any, sender_id: str, **kwargs: Any) -> Any:
            calls.append(sender_id)
            return super()._event_query(session, sender_id, **kwargs)

    store = OwnQuery(domain, dialect="sqlite", db=str(tmp_path / "own.db"))
    _play(store, Clock(), OwnQuery.save, OwnQuery._retrieve)
    assert len(calls) == 2 * len(CONVERSATION)  # one read and one count per turn
    assert len(_rows(tmp_path / "own.db")) == 39


def test_our_reliable_store_goes_through_the_core_path(tmp_path: Path, domain: Domain) -> None:
    store = ReliableSQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "r.db"))
    assert sql_store_core._rasa_queries(store)
    _play(store, Clock(), ReliableSQLTrackerStore.save, ReliableSQLTrackerStore._retrieve)
    rasas = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "rasa.db"))
    _play(rasas, Clock(), RASA_SAVE, RASA_RETRIEVE)
    assert _rows(tmp_path / "r.db") == _rows(tmp_path / "rasa.db")


def test_a_failed_insert_stores_nothing_and_logs_no_user_text(
    tmp_path: Path, domain: Domain, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "full.db"
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    with sqlite3.connect(db) as connection:
        connection.execute(
            "CREATE TRIGGER full BEFORE INSERT ON events WHEN NEW.type_name = 'bot' "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    tracker = DialogueStateTracker("telegram-555123", domain.slots)
    for event in _turn(Clock(), "my identity code is 131052-308T", "ask_service", "en"):
        tracker.update(event)
    with caplog.at_level(logging.INFO):
        asyncio.run(FailSafeTrackerStore(store).save(tracker))
    assert _rows(db) == []  # the events before the failing one are rolled back too
    assert "disk full" in caplog.text and HIDDEN in caplog.text
    assert "131052-308T" not in caplog.text and "555123" not in caplog.text
