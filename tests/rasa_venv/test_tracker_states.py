"""A tracker's past states, continued from its last replay, equal Rasa's full replay."""

from __future__ import annotations

from typing import Any

import policies  # noqa: F401  (installs the cached past states, as in the Rasa server)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL = DialogueStateTracker.past_states.__wrapped__  # type: ignore[attr-defined]


def _user(text: str, intent: str, entities: list[dict[str, Any]] | None = None) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, entities or [])


def _turn(text: str, intent: str, *events: Any) -> list[Any]:
    """One user turn as Rasa logs it: the message, the slot action, the answer, listen."""
    return [
        _user(text, intent),
        ActionExecuted("action_validate_slot_mappings"),
        *events,
        ActionExecuted("action_answer_question"),
        ActionExecuted("action_listen"),
    ]


CONVERSATION = [
    ActionExecuted("action_session_start"),
    SessionStarted(),
    ActionExecuted("action_listen"),
    *_turn("hei", "greet", SlotSet("language", "fi")),
    *_turn("miten saan verokortin", "ask_service"),
    _user("wrong", "ask_service"),
    UserUtteranceReverted(),  # a rewind: applied events shrink
    *_turn("kela?", "ask_service", SlotSet("language", "fi")),
    ActionExecuted("action_answer_question"),
    ActionReverted(),
    ActiveLoop("some_loop"),
    ActionExecuted("some_loop"),
    ActionExecuted("action_listen"),
    _user("my answer", "ask_service"),
    ActionExecuted("some_loop"),  # the loop again: Rasa's applied events drop the turn between
    ActionExecuted("action_listen"),
    ActiveLoop(None),
    *_turn("hello", "greet", SlotSet("language", "en")),
    Restarted(),  # applied events start over
    ActionExecuted("action_listen"),
    *_turn("moi", "greet"),
]


def test_the_server_uses_the_cached_states() -> None:
    assert hasattr(DialogueStateTracker.past_states, "__wrapped__")


def test_states_equal_rasas_after_every_event(domain: Domain) -> None:
    """Events are appended one by one to one tracker, as during a turn; after each, the cached
    states (continued or started over) equal a full replay's."""
    tracker = DialogueStateTracker("test", domain.slots)
    continued = 0
    for event in CONVERSATION:
        before = tracker.__dict__.get("_opastin_past_states")
        tracker.update(event, domain)
        got = tracker.past_states(domain)
        assert got == ORIGINAL(tracker, domain), f"after {event}"
        replay = tracker.__dict__["_opastin_past_states"]
        continued += replay is before
        # the caller may change what it gets (featurizers delete keys), not the cache
        for state in got:
            for sub in state.values():
                sub.clear()
        assert tracker.past_states(domain) == ORIGINAL(tracker, domain)
    assert continued > len(CONVERSATION) / 2, "most calls continued the previous replay"


def test_other_options_and_a_fresh_tracker_use_rasas_method(domain: Domain) -> None:
    tracker = DialogueStateTracker.from_events("test", CONVERSATION[:12], domain.slots)
    assert tracker.past_states(domain, omit_unset_slots=True) == ORIGINAL(
        tracker, domain, omit_unset_slots=True
    )
    assert "_opastin_past_states" not in tracker.__dict__, "not cached for other options"
    copy = tracker.copy()
    assert copy.past_states(domain) == ORIGINAL(tracker, domain)


def test_states_equal_rasas_when_asked_only_after_each_listen(domain: Domain) -> None:
    """Asked once per turn: a rewind then a longer turn between two calls changes an event
    the last replay had seen, without shortening the applied events."""
    tracker = DialogueStateTracker("test", domain.slots)
    calls = 0
    for event in CONVERSATION:
        tracker.update(event, domain)
        if isinstance(event, ActionExecuted) and event.action_name == "action_listen":
            assert tracker.past_states(domain) == ORIGINAL(tracker, domain), f"after {event}"
            calls += 1
    assert calls >= 6


def test_events_replaced_under_the_tracker_start_the_replay_over(domain: Domain) -> None:
    """Only events appended since the last call are continued: a tracker whose events were
    swapped for another conversation's (as long or longer) is replayed from scratch."""
    tracker = DialogueStateTracker.from_events("test", CONVERSATION[:9], domain.slots)
    tracker.past_states(domain)
    other = DialogueStateTracker.from_events("test", CONVERSATION[9:20], domain.slots)
    tracker.events = other.events
    assert tracker.past_states(domain) == ORIGINAL(tracker, domain)
