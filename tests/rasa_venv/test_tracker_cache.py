"""Trackers kept between turns (bot/policies/tracker_cache.py) equal Rasa's own read and replay.

Each turn is played as Rasa's processor plays it: read the tracker, set the model id, append the
turn's events (asking for past states after each, as the policies do), save. After every turn,
the next read through the cache is compared with Rasa's own `_retrieve` on the same database.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import policies  # noqa: F401  (installs the Core store and cached states, as in the Rasa server)
import pytest
from policies import tracker_cache
from policies.tracker_copy import REPLAY
from policies.tracker_states import CACHE
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    Restarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from opastin.stack import BOT_DIR
from tests.rasa_venv.conversations import Clock, session_start

RASA_RETRIEVE = SQLTrackerStore._retrieve.__wrapped__  # type: ignore[attr-defined]
PAST_STATES = DialogueStateTracker.past_states.__wrapped__  # type: ignore[attr-defined]


def turn(clock: Clock, text: str, intent: str, language: str | None) -> list[Any]:
    """A search turn as the Rasa server logs it (the events of docs/performance.md)."""
    parse = {"intent": {"name": intent, "confidence": 0.9}, "entities": [], "text": text}
    slot = [SlotSet("language", language, timestamp=clock())] if language else []
    return [
        UserUttered(text, parse["intent"], [], parse, timestamp=clock()),
        ActionExecuted("action_validate_slot_mappings", timestamp=clock()),
        *slot,
        DefinePrevUserUtteredFeaturization(False, timestamp=clock()),
        ActionExecuted("action_answer_question", timestamp=clock()),
        BotUttered(f"answer to {text}", {"custom": {"links": [1]}}, timestamp=clock()),
        *slot,
        ActionExecuted("action_listen", timestamp=clock()),
    ]


def rewind(clock: Clock) -> list[Any]:
    """A message taken back and asked again (Rasa's two-stage fallback, a rewind)."""
    return [
        UserUttered("mistake", {"name": "greet", "confidence": 0.4}, [], timestamp=clock()),
        UserUtteranceReverted(timestamp=clock()),
        *turn(clock, "kela card", "ask_service", "en"),
    ]


def restart(clock: Clock) -> list[Any]:
    return [Restarted(timestamp=clock()), *session_start(clock)]


def read(store: SQLTrackerStore, sender: str, method: Any = None) -> Any:
    return asyncio.run((method or SQLTrackerStore._retrieve)(store, sender, False))


def save(store: SQLTrackerStore, tracker: Any) -> None:
    asyncio.run(SQLTrackerStore.save(store, tracker))


def play(store: SQLTrackerStore, sender: str, events: list[Any], domain: Domain) -> Any:
    """One turn on the tracker the store hands out; returns it after saving."""
    tracker = read(store, sender) or store.init_tracker(sender)
    tracker.model_id = "model-1"  # as MessageProcessor.get_tracker does
    for event in events:
        tracker.update(event, domain)
        assert tracker.past_states(domain) == PAST_STATES(tracker, domain), f"after {event}"
    save(store, tracker)
    return tracker


def assert_same(ours: Any, rasas: Any, domain: Domain) -> None:
    """The same tracker, as far as anything Rasa reads: events, state, slots, past states."""
    assert ours is not None and rasas is not None
    everything = EventVerbosity.ALL
    assert ours.current_state(everything) == rasas.current_state(everything)
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in rasas.events]
    # Our private replays (tracker_states.py, tracker_copy.py) are caches, not state.
    private = {CACHE, REPLAY}
    ours_state = {k: v for k, v in ours.__dict__.items() if k not in private}
    assert ours_state.keys() == rasas.__dict__.keys() - private
    for name in ("latest_message", "latest_bot_utterance"):
        mine, theirs = ours_state.pop(name), rasas.__dict__[name]
        if mine not in ours.events:  # Rasa's empty placeholder, stamped when it was made
            mine, theirs = {**mine.as_dict(), "timestamp": 0}, {**theirs.as_dict(), "timestamp": 0}
            assert mine == theirs, name
            continue
        assert theirs in rasas.events and mine.as_dict() == theirs.as_dict(), name
        assert getattr(mine, "use_text_for_featurization", None) == getattr(
            theirs, "use_text_for_featurization", None
        )
    ours_state.pop("events")
    slots = ours_state.pop("slots")
    assert {n: (s.value, s.has_been_set) for n, s in slots.items()} == {
        n: (s.value, s.has_been_set) for n, s in rasas.slots.items()
    }
    assert ours_state == {k: v for k, v in rasas.__dict__.items() if k in ours_state}
    flags = [getattr(e, "use_text_for_featurization", None) for e in ours.events]
    assert flags == [getattr(e, "use_text_for_featurization", None) for e in rasas.events]
    assert ours.past_states(domain) == PAST_STATES(rasas, domain)


def store_at(path: Path, domain: Domain) -> SQLTrackerStore:
    return SQLTrackerStore(domain, dialect="sqlite", db=str(path))


def cache(store: SQLTrackerStore) -> tracker_cache.TrackerCache:
    return store.__dict__["_opastin_tracker_cache"]


def test_every_turn_reads_what_rasa_reads(tmp_path: Path, domain: Domain) -> None:
    store, clock = store_at(tmp_path / "t.db", domain), Clock()
    steps = [session_start(clock)]
    languages = ["fi", None, "fi", None]
    steps += [turn(clock, f"question {i}", "ask_service", lang) for i, lang in enumerate(languages)]
    steps += [rewind(clock), restart(clock), turn(clock, "hei", "greet", "fi")]
    steps += [turn(clock, "verokortti", "ask_service", None)]
    continued = 0
    for events in steps:
        play(store, "a", events, domain)
        ours = read(store, "a")
        continued += CACHE in ours.__dict__  # the rule policy's replay came along
        assert_same(ours, read(store, "a", RASA_RETRIEVE), domain)
        assert len(cache(store)._entries["a"].rows) == len(ours.events)
    assert continued == len(steps)


def test_the_handed_out_tracker_is_the_callers_own(tmp_path: Path, domain: Domain) -> None:
    """A turn that changes its tracker and is never saved (a failed save) changes nothing that
    the next read returns, not even the featurization flag of an earlier message."""
    store, clock = store_at(tmp_path / "t.db", domain), Clock()
    play(store, "a", session_start(clock), domain)
    play(store, "a", turn(clock, "hei", "greet", "fi"), domain)
    play(store, "a", turn(clock, "kela", "ask_service", None), domain)
    read(store, "a")  # the cache has the conversation
    lost = read(store, "a")
    lost.latest_action["action_name"] = "changed"
    lost.slots["language_chosen"].value = True
    lost.update(SlotSet("language", "en", timestamp=clock()), domain)
    assert_same(read(store, "a"), read(store, "a", RASA_RETRIEVE), domain)
    lost = read(store, "a")
    for event in [
        UserUtteranceReverted(timestamp=clock()),  # latest message is the kept "hei" again
        ActionExecuted("action_listen", timestamp=clock()),
        DefinePrevUserUtteredFeaturization(True, timestamp=clock()),  # mutates the kept event
        SlotSet("language", "en", timestamp=clock()),
    ]:
        lost.update(event, domain)
    assert lost.latest_message.text == "hei" and lost.latest_message.use_text_for_featurization
    assert_same(read(store, "a"), read(store, "a", RASA_RETRIEVE), domain)


def test_another_replicas_turn_is_seen(tmp_path: Path, domain: Domain) -> None:
    """Two Rasa replicas on one database: each read checks the stored rows."""
    first, second = store_at(tmp_path / "t.db", domain), store_at(tmp_path / "t.db", domain)
    clock = Clock()
    play(first, "a", session_start(clock), domain)
    play(first, "a", turn(clock, "hei", "greet", "fi"), domain)
    play(second, "a", turn(clock, "kela", "ask_service", None), domain)
    ours = read(first, "a")
    assert [e.text for e in ours.events if isinstance(e, UserUttered)] == ["hei", "kela"]
    assert_same(ours, read(first, "a", RASA_RETRIEVE), domain)


def _rows(db: Path, sql: str, *args: Any) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute(sql, args)


def test_erased_conversations_are_not_served(tmp_path: Path, domain: Domain) -> None:
    """Retention and `forget` delete a conversation's rows (console/store.py): the next read
    finds nothing; a new conversation under the same id, with as many rows (SQLite reuses the
    deleted ids), is read from its own rows."""
    db = tmp_path / "t.db"
    store, clock = store_at(db, domain), Clock()
    play(store, "a", session_start(clock), domain)
    play(store, "a", turn(clock, "my id is 010190-123A", "ask_service", "fi"), domain)
    assert read(store, "a") is not None
    _rows(db, "DELETE FROM events WHERE sender_id IN (?)", "a")
    assert read(store, "a") is None
    assert "a" not in cache(store)._entries
    play(store, "a", session_start(Clock()), domain)
    play(store, "a", turn(Clock(), "hello again", "greet", "fi"), domain)
    ours = read(store, "a")
    assert "010190-123A" not in json.dumps(ours.current_state(EventVerbosity.ALL))
    assert_same(ours, read(store, "a", RASA_RETRIEVE), domain)
    # erased and written again by another replica before this one reads: as many rows again
    _rows(db, "DELETE FROM events WHERE sender_id IN (?)", "a")
    other, clock = store_at(db, domain), Clock()
    play(other, "a", session_start(clock), domain)
    play(other, "a", turn(clock, "something else", "greet", "en"), domain)
    ours = read(store, "a")
    assert "hello again" not in json.dumps(ours.current_state(EventVerbosity.ALL))
    assert_same(ours, read(store, "a", RASA_RETRIEVE), domain)


def test_rewritten_rows_are_read_again(tmp_path: Path, domain: Domain) -> None:
    """An operator masking a stored message (same number of rows, same ids) is seen."""
    db = tmp_path / "t.db"
    store, clock = store_at(db, domain), Clock()
    play(store, "a", session_start(clock), domain)
    play(store, "a", turn(clock, "my id is 010190-123A", "ask_service", "fi"), domain)
    read(store, "a")
    _rows(db, "UPDATE events SET data = replace(data, '010190-123A', '<ID_CODE>')")
    ours = read(store, "a")
    assert "010190-123A" not in json.dumps(ours.current_state(EventVerbosity.ALL))
    assert_same(ours, read(store, "a", RASA_RETRIEVE), domain)


def test_the_least_recently_used_conversation_is_dropped(
    tmp_path: Path, domain: Domain, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tracker_cache, "SIZE", 2)
    store, clock = store_at(tmp_path / "t.db", domain), Clock()
    for sender in "abc":
        play(store, sender, session_start(clock), domain)
        read(store, sender)
        read(store, "a")  # "a" stays the most recently used
    assert list(cache(store)._entries) == ["c", "a"]  # "b" was the least recently used
    monkeypatch.setattr(tracker_cache, "SIZE", 0)
    off = store_at(tmp_path / "t.db", domain)
    assert_same(read(off, "a"), read(off, "a", RASA_RETRIEVE), domain)
    assert "_opastin_tracker_cache" not in off.__dict__


@pytest.mark.parametrize(
    ("value", "size"), [("", tracker_cache.DEFAULT_SIZE), ("0", 0), (" 500 ", 500)]
)
def test_the_size_setting(value: str, size: int) -> None:
    assert tracker_cache.parse_size({tracker_cache.SIZE_ENV: value}) == size


@pytest.mark.parametrize("value", ["-1", "many", "100001"])
def test_a_bad_size_is_refused_with_its_name(value: str) -> None:
    with pytest.raises(ValueError, match=tracker_cache.SIZE_ENV):
        tracker_cache.parse_size({tracker_cache.SIZE_ENV: value})


def test_other_stores_and_reads_are_not_cached(tmp_path: Path, domain: Domain) -> None:
    class Broker:
        def publish(self, event: dict[str, Any]) -> None:
            pass

    brokered = SQLTrackerStore(
        domain, dialect="sqlite", db=str(tmp_path / "t.db"), event_broker=Broker()
    )

    class OwnQuery(SQLTrackerStore):
        def _event_query(self, session: Any, sender_id: str, **kwargs: Any) -> Any:
            return super()._event_query(session, sender_id, **kwargs)

    own = OwnQuery(domain, dialect="sqlite", db=str(tmp_path / "t.db"))
    plain = store_at(tmp_path / "t.db", domain)
    play(plain, "a", session_start(Clock()), domain)
    for store in (brokered, own):
        assert read(store, "a") is not None
        assert "_opastin_tracker_cache" not in store.__dict__
    fresh = store_at(tmp_path / "t.db", domain)
    assert asyncio.run(SQLTrackerStore._retrieve(fresh, "a", True))  # all sessions: Rasa's way
    assert "_opastin_tracker_cache" not in fresh.__dict__


def test_an_unknown_tracker_attribute_is_not_copied_blindly(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("a", session_start(Clock()), domain.slots)
    assert tracker_cache.clone(tracker) is not None
    tracker.__dict__["something_new"] = 1  # a Rasa upgrade's new state
    assert tracker_cache.clone(tracker) is None


def test_the_policies_own_copy_of_the_domain_continues_the_replay(
    tmp_path: Path, domain: Domain
) -> None:
    """The rule policy gets the domain the model's graph loads, another object than the
    store's: the same definition continues the kept replay, another one starts over."""
    store, clock = store_at(tmp_path / "t.db", domain), Clock()
    play(store, "a", session_start(clock), domain)
    play(store, "a", turn(clock, "hei", "greet", "fi"), domain)
    graphs = Domain.load(str(BOT_DIR / "domain.yml"))
    ours = read(store, "a")
    kept = ours.__dict__[CACHE]
    assert ours.past_states(graphs) == PAST_STATES(read(store, "a", RASA_RETRIEVE), graphs)
    assert ours.__dict__[CACHE] is kept, "continued, not replayed again"
    other = Domain.from_dict({**graphs.as_dict(), "intents": [*graphs.intents, "new_intent"]})
    assert ours.past_states(other) == PAST_STATES(read(store, "a", RASA_RETRIEVE), other)
    assert ours.__dict__[CACHE] is not kept
