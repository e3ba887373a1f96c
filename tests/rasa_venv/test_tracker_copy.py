"""A tracker's copy (and the validation tracker) continued from its last replay equals Rasa's
full replay: whole trackers compared, attribute by attribute."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import policies  # noqa: F401  (installs the continued copies, as in the Rasa server)
from policies import tracker_copy
from policies.tracker_copy import REPLAY
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    ConversationPaused,
    ConversationResumed,
    DefinePrevUserUtteredFeaturization,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    StoryExported,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

RASA_COPY = DialogueStateTracker.copy.__wrapped__  # type: ignore[attr-defined]
RASA_FROM_EVENTS = DialogueStateTracker.from_events.__wrapped__  # type: ignore[attr-defined]


def _user(text: str, intent: str) -> UserUttered:
    return UserUttered(text, {"name": intent, "confidence": 0.9}, [], input_channel="rest")


def _turn(text: str, intent: str, *events: Any) -> list[Any]:
    """One user turn as Rasa logs it: the message, the slot action, the answer, listen."""
    return [
        _user(text, intent),
        SlotSet("language", "fi"),
        DefinePrevUserUtteredFeaturization(False),
        ActionExecuted("action_answer_question"),
        BotUttered("vastaus", {"custom": {"type": "service_answer"}}),
        *events,
        ActionExecuted("action_listen"),
    ]


def conversation() -> list[Any]:
    """Session starts, slots of each type, rewinds, a restart, loops, pauses, follow-ups."""
    return [
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        *_turn("hei", "greet", SlotSet("misses", 0.0), SlotSet("language_chosen", True)),
        *_turn("verokortti", "ask_service", SlotSet("municipality", "espoo")),
        _user("wrong", "ask_service"),
        UserUtteranceReverted(),  # a rewind: the replay resets and replays the rest
        *_turn("kela?", "ask_service", SlotSet("pending_question", "kela?")),
        ActiveLoop("some_loop"),
        LoopInterrupted(True),
        ActionExecutionRejected("some_loop"),
        ActionExecuted("action_answer_question"),
        ActionReverted(),
        ActiveLoop(None),
        FollowupAction("action_answer_question"),
        ConversationPaused(),
        *_turn("hello", "greet", SlotSet("residence_status", "eu_eea")),
        ConversationResumed(),
        AllSlotsReset(),
        Restarted(),
        ActionExecuted("action_session_start"),
        SessionStarted(),
        ActionExecuted("action_listen"),
        *_turn("moi", "greet", SlotSet("purpose", "work"), SlotSet("last_question", "moi")),
    ]


def view(tracker: DialogueStateTracker) -> dict[str, Any]:
    """Every attribute of a tracker, comparable across trackers: events by identity (Rasa's
    copies share the event objects), slots by class and attributes, the latest message and
    bot utterance by identity when they are events, else by content (Rasa makes an empty one
    with the current time at each reset)."""
    events = list(tracker.events)

    def event_or_content(value: Any) -> Any:
        found = [i for i, event in enumerate(events) if event is value]
        if found:
            return ("event", found[-1])
        content = value.as_dict()
        content.pop("timestamp")  # the time the empty placeholder was made
        return ("own", type(value), content)

    seen: dict[str, Any] = {}
    for key, value in vars(tracker).items():
        if key.startswith("_opastin"):
            continue
        if key == "events":
            seen[key] = (type(value), value.maxlen, [id(event) for event in value])
        elif key == "slots":
            seen[key] = {name: (type(slot), vars(slot)) for name, slot in value.items()}
        elif key in ("latest_message", "latest_bot_utterance"):
            seen[key] = event_or_content(value)
        elif key == "active_loop" and value is not None:
            seen[key] = dataclasses.asdict(value)
        else:
            seen[key] = value
    return seen


def assert_own_parts(copy: DialogueStateTracker, of: DialogueStateTracker) -> None:
    """What Rasa's copy has of its own (not shared with the original tracker)."""
    assert copy is not of and copy.events is not of.events
    assert all(copy.slots[name] is not slot for name, slot in of.slots.items())
    if copy.active_loop is not None:
        assert copy.active_loop is not of.active_loop
    if copy.latest_action:
        assert copy.latest_action is not of.latest_action


def test_the_server_uses_the_continued_copies() -> None:
    assert hasattr(DialogueStateTracker.copy, "__wrapped__")
    assert hasattr(DialogueStateTracker.from_events, "__wrapped__")


def test_copies_equal_rasas_after_every_event(domain: Domain) -> None:
    """As in a turn: the store builds the tracker with from_events, events are appended, the
    processor copies it before each action; the copy equals Rasa's replay after every event,
    and the copy's own changes reach neither the tracker nor later copies."""
    events = conversation()
    tracker = DialogueStateTracker.from_events("talk", events[:3], domain.slots)
    assert tracker.__dict__.get(REPLAY) is not None, "from_events remembers its replay"
    continued = 0
    for event in events[3:]:
        before = tracker.__dict__.get(REPLAY)
        tracker.update(event, domain)
        ours, rasas = tracker.copy(), RASA_COPY(tracker)
        assert view(ours) == view(rasas), f"after {event}"
        assert_own_parts(ours, tracker)
        continued += tracker.__dict__.get(REPLAY) is before
        # changes to the copy, in place where Rasa's copy has its own objects
        ours.update(LoopInterrupted(True))  # the active loop's flag, if one is active
        ours.update(SlotSet("misses", 7.0))
        ours.update(ActiveLoop("other_loop"))
        ours.slots["language"].value = "changed in place"
        if ours.latest_action:
            ours.latest_action["action_name"] = "changed in place"
        ours.latest_message.text = "changed in place"  # an event (shared as in Rasa's) or own
        ours.latest_bot_utterance.text = "changed in place"
        assert view(tracker.copy()) == view(RASA_COPY(tracker)), f"a copy changed, {event}"
    assert continued > len(events) * 0.8, "the copies continued the replay"


def test_the_validation_tracker_equals_rasas(domain: Domain) -> None:
    """ActionExtractSlots' tracker: the events since the latest restart plus extracted slots,
    on the domain's slots; built from the replay of a tracker whose events it begins with."""
    events = conversation()
    restart = next(i for i, event in enumerate(events) if isinstance(event, Restarted))
    for end in (10, restart - 1, len(events)):
        tracker = DialogueStateTracker.from_events("talk", events[:end], domain.slots)
        tracker.update(_user("uusi kysymys", "ask_service"), domain)
        tracker.copy()  # as the processor does before the slot action
        extracted = [SlotSet("municipality", "vantaa"), SlotSet("language", "sv")]
        given = tracker.events_after_latest_restart() + extracted
        ours = DialogueStateTracker.from_events("talk", given, slots=domain.slots)
        rasas = RASA_FROM_EVENTS(DialogueStateTracker, "talk", given, domain.slots)
        assert view(ours) == view(rasas), f"{end} events"
        assert_own_parts(ours, tracker)
        # Rasa's replay (the fallback) would have been remembered; a continued one is not
        assert (REPLAY in ours.__dict__) == (end == len(events)), "continued unless restarted"


def test_other_trackers_and_slots_use_rasas_replay(domain: Domain, tmp_path: Any) -> None:
    events = conversation()[:12]
    bounded = DialogueStateTracker.from_events("talk", events, domain.slots, max_event_history=5)
    assert REPLAY not in bounded.__dict__
    assert view(bounded.copy()) == view(RASA_COPY(bounded))

    nameless = DialogueStateTracker("", domain.slots, is_rule_tracker=True)  # a rule's tracker
    for event in events:
        nameless.update(event)
    for _ in range(2):  # Rasa's replay, then the continued one
        assert view(nameless.copy()) == view(RASA_COPY(nameless))
        nameless.update(SlotSet("misses", 2.0))

    untyped = DialogueStateTracker.from_events("talk", events)  # no slots: any slot goes
    assert view(untyped.copy()) == view(RASA_COPY(untyped))

    listed = Domain.from_dict(
        {"slots": {"topics": {"type": "list", "mappings": [{"type": "custom"}]}}}
    )
    with_list = DialogueStateTracker.from_events("talk", events[:3], listed.slots)
    with_list.update(SlotSet("topics", "tax"))  # a list slot: Rasa gives each copy its own list
    ours, again = with_list.copy(), with_list.copy()
    assert view(ours) == view(RASA_COPY(with_list))
    assert ours.slots["topics"].value is not again.slots["topics"].value

    story = tmp_path / "stories.yml"
    for built_with, then in (([], StoryExported(str(story))), ([StoryExported(str(story))], None)):
        exported = DialogueStateTracker.from_events("talk", events + built_with, domain.slots)
        exported.update(then or SlotSet("misses", 1.0))
        for _ in range(2):
            story.unlink()
            exported.copy()  # Rasa's replay writes the story again: so must every copy
            assert story.exists()


def test_other_slot_definitions_get_rasas_replay(domain: Domain) -> None:
    """A validation tracker on slots defined otherwise than the replay's (another model's
    domain): Rasa's replay, with those slots."""
    tracker = DialogueStateTracker.from_events("talk", conversation()[:12], domain.slots)
    other = [copy.copy(slot) for slot in domain.slots]
    other[0].initial_value = "xx"
    given = tracker.events_after_latest_restart()
    ours = DialogueStateTracker.from_events("talk", given, slots=other)
    assert view(ours) == view(RASA_FROM_EVENTS(DialogueStateTracker, "talk", given, other))
    assert REPLAY in ours.__dict__, "Rasa's replay, remembered"


def test_slots_are_copied_as_rasa_copies_them(domain: Domain) -> None:
    """Each slot class of the domain copies the default way, which `copied` does directly."""
    for slot in domain.slots:
        slot.value = "set"
        ours, rasas = tracker_copy.copied(slot), copy.copy(slot)
        assert type(ours) is type(rasas) and vars(ours) == vars(rasas)
        assert vars(ours) is not vars(slot)
        slot.reset()
    assert all(tracker_copy._plain_copies[type(slot)] for slot in domain.slots)


def test_a_changed_event_list_starts_the_replay_over(domain: Domain) -> None:
    """Events removed or replaced (not appended) since the last copy: no stale state."""
    events = conversation()
    tracker = DialogueStateTracker.from_events("talk", events[:20], domain.slots)
    tracker.copy()
    tracker.events.pop()
    tracker.events.append(_user("toinen", "greet"))
    assert view(tracker.copy()) == view(RASA_COPY(tracker))
    replaced = DialogueStateTracker.from_events("talk", events[:20], domain.slots)
    replaced.events[5] = SlotSet("municipality", "helsinki")
    assert view(replaced.copy()) == view(RASA_COPY(replaced))
    assert tracker_copy.replayable([SlotSet("x", 1)])
    assert not tracker_copy.replayable([SlotSet("x", 1, timestamp=float("nan"))])
