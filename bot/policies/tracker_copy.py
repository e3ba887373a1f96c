"""Copy a tracker from its last replay instead of replaying the whole conversation each time.

Rasa 3.6 copies a tracker by replaying every event on a fresh one: `DialogueStateTracker.copy`
(`travel_back_in_time(inf)`), which the processor calls before each action it runs
(`MessageProcessor._run_action`: two or three per turn), and `DialogueStateTracker.from_events`,
which builds the tracker the slot validation action gets
(`ActionExtractSlots._execute_validation_action`: the conversation's events plus the extracted
slots). The store builds each turn's tracker with `from_events` too. So every turn replayed
the whole conversation three to four times, ~6.5 ms profiled per search turn at 30 turns and
growing with the conversation (docs/performance.md, "Fifth pass").

Here a tracker keeps a `Replay`: a private tracker on which its events so far were replayed
(seeded for free when `from_events` built it: that *is* a replay). A copy checks that the
tracker's events still begin with the very event objects replayed (events are appended during
a turn), replays only the new ones on the private tracker, and hands out a clone of its state:
same events, slots (copies, as Rasa's), latest message and bot utterance (the same event
objects, as Rasa's), latest action, active loop (its own copy), follow-up action, paused flag.
`from_events` over a list that begins with a known replay's events (the validation tracker)
clones that replay and applies only the rest. Anything else is Rasa's own method: another
tracker class, a bounded event history, untyped slots, slots that are not the replay's, slot
values other than plain scalars (a copy would share a list), an event timestamp a replay
would stop at, an exported story (its replay writes a file). Same trackers as Rasa's:
tests/rasa_venv/test_tracker_copy.py.
"""

from __future__ import annotations

import copy as copying
import dataclasses
import math
import operator
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

REPLAY = "_opastin_replay"  # the tracker's Replay, in its __dict__
SCALARS = (str, int, float, bool, type(None))
# Slot attributes a replay sets; all others must be the very objects of the replay's slots.
SLOT_STATE = frozenset({"_value", "_has_been_set"})

Copy = Callable[[Any], Any]
FromEvents = Callable[..., Any]


class Replay:
    """A private tracker on which `tracker.events` were replayed, as Rasa's copy would."""

    def __init__(self, tracker: Any) -> None:
        self.tracker = tracker
        self.seen = set(map(id, tracker.events))  # ids of the replayed events

    def follows(self, events: Sequence[Any]) -> bool:
        """Whether `events` begin with exactly the replayed event objects."""
        replayed = self.tracker.events
        return len(replayed) <= len(events) and all(map(operator.is_, replayed, events))

    def extend(self, events: Iterable[Any]) -> bool:
        """Replay `events` too; False (the replay is then unusable) where Rasa's would differ."""
        from rasa.shared.core.events import StoryExported

        events = list(events)
        if not replayable(events) or any(isinstance(e, StoryExported) for e in events):
            return False
        for event in events:
            self.tracker.update(event)
            self.seen.add(id(event))
        return True

    def clone(self, sender_id: str, is_rule_tracker: bool = False) -> Any:
        """A new tracker with the replay's state, laid out as `DialogueStateTracker.__init__`
        does; its slots are copies of the replay's, which `same_slots` checked are defined as
        the slots Rasa's replay would copy."""
        from rasa.shared.core.events import BotUttered, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        state = self.tracker
        latest_message = state.latest_message
        if id(latest_message) not in self.seen:  # Rasa's reset gives each tracker its own
            latest_message = UserUttered.empty()
        latest_bot_utterance = state.latest_bot_utterance
        if id(latest_bot_utterance) not in self.seen:
            latest_bot_utterance = BotUttered.empty()
        active_loop = state.active_loop
        new = DialogueStateTracker.__new__(DialogueStateTracker)
        new.__dict__.update(
            _max_event_history=None,
            events=deque(state.events),
            sender_id=sender_id,
            slots={name: copied(slot) for name, slot in state.slots.items()},
            sender_source=None,
            is_rule_tracker=is_rule_tracker,
            _paused=state._paused,
            followup_action=state.followup_action,
            latest_action=None if state.latest_action is None else dict(state.latest_action),
            latest_message=latest_message,
            latest_bot_utterance=latest_bot_utterance,
            active_loop=None if active_loop is None else dataclasses.replace(active_loop),
            model_id=None,
            assistant_id=None,
        )
        return new

    def same_slots(self, slots: Iterable[Any]) -> bool:
        """Whether a tracker made with `slots` has the replay's slots (by name, in order, of
        the same class and definition) and every value is a plain scalar."""
        mine = self.tracker.slots
        given = list(slots)
        if len(given) != len(mine):
            return False
        for slot, (name, own) in zip(given, mine.items(), strict=True):
            if slot.name != name or type(own) is not type(slot):
                return False
            if not isinstance(own._value, SCALARS):
                return False
            defined, replayed = vars(slot), vars(own)
            if len(defined) != len(replayed):
                return False
            for key, value in defined.items():
                if key not in SLOT_STATE and replayed.get(key, replayed) is not value:
                    return False
        return True


_by_first_event: weakref.WeakValueDictionary[int, Replay] = weakref.WeakValueDictionary()
_plain_copies: dict[type, bool] = {}


def copied(slot: Any) -> Any:
    """`copy.copy(slot)`: for a slot class that copies the default way (a new instance with the
    same `__dict__`), done directly; copy.copy's generic path was most of a clone's time."""
    kind = type(slot)
    plain_copy = _plain_copies.get(kind)
    if plain_copy is None:
        plain_copy = (
            not hasattr(kind, "__copy__")
            and kind.__reduce_ex__ is object.__reduce_ex__
            and kind.__reduce__ is object.__reduce__
            and getattr(kind, "__getstate__", None) is getattr(object, "__getstate__", None)
            and not any(c.__dict__.get("__slots__") for c in kind.__mro__)  # ABC's () is fine
        )
        _plain_copies[kind] = plain_copy
    if not plain_copy:
        return copying.copy(slot)
    new = object.__new__(kind)
    new.__dict__.update(vars(slot))
    return new


def replayable(events: Iterable[Any]) -> bool:
    """Whether a replay applies all of `events` (it stops at a timestamp not <= infinity)."""
    try:
        return all(event.timestamp <= math.inf for event in events)
    except TypeError:
        return False


def plain(tracker: Any) -> bool:
    """A tracker whose copy Rasa makes the plain way: our class, every event kept, typed slots."""
    from rasa.shared.core.trackers import DialogueStateTracker

    return (
        type(tracker) is DialogueStateTracker
        and tracker._max_event_history is None
        and type(tracker.slots) is dict
    )


def remember(tracker: Any) -> None:
    """Keep a private replay of `tracker`, whose state is its events' replay (from_events)."""
    from rasa.shared.core.events import StoryExported

    events = tracker.events
    if not events or not replayable(events) or any(isinstance(e, StoryExported) for e in events):
        return
    replay = Replay(Replay(tracker).clone(tracker.sender_id))
    tracker.__dict__[REPLAY] = replay
    _by_first_event[id(events[0])] = replay


def continued_copy(original: Copy) -> Copy:
    """`original` (DialogueStateTracker.copy) continued from the tracker's replay."""

    def copy(self: Any) -> Any:
        from rasa.shared.constants import DEFAULT_SENDER_ID

        if not plain(self):
            return original(self)
        events = self.events
        replay: Replay | None = self.__dict__.get(REPLAY)
        slots = self.slots.values()
        if replay is None or not replay.follows(events):
            replay = Replay(self.init_copy())
            self.__dict__[REPLAY] = replay
            if events:
                _by_first_event[id(events[0])] = replay
        done = len(replay.tracker.events)
        if not replay.extend(list(events)[done:]) or not replay.same_slots(slots):
            self.__dict__.pop(REPLAY, None)
            return original(self)
        return replay.clone(self.sender_id or DEFAULT_SENDER_ID, self.is_rule_tracker)

    copy.__wrapped__ = original  # type: ignore[attr-defined]
    return copy


def continued_from_events(original: FromEvents) -> FromEvents:
    """`original` (DialogueStateTracker.from_events, the function under the classmethod)
    continued from a replay of the events it begins with; its result remembered otherwise."""

    def from_events(
        cls: type,
        sender_id: str,
        evts: list[Any],
        slots: Iterable[Any] | None = None,
        max_event_history: int | None = None,
        sender_source: str | None = None,
        domain: Any = None,
    ) -> Any:
        from rasa.shared.core.trackers import DialogueStateTracker

        plain_call = cls is DialogueStateTracker and isinstance(evts, list) and slots is not None
        if not plain_call or max_event_history is not None:
            return original(cls, sender_id, evts, slots, max_event_history, sender_source, domain)
        slots = list(slots)
        replay = _by_first_event.get(id(evts[0])) if evts else None
        if replay is not None and replay.follows(evts) and replay.same_slots(slots):
            rest = evts[len(replay.tracker.events) :]
            if replayable(rest):
                tracker = replay.clone(sender_id)
                tracker.sender_source = sender_source
                for event in rest:
                    tracker.update(event, domain)
                return tracker
        tracker = original(cls, sender_id, evts, slots, max_event_history, sender_source, domain)
        remember(tracker)
        return tracker

    from_events.__wrapped__ = original  # type: ignore[attr-defined]
    return from_events


def install() -> bool:
    """Replace DialogueStateTracker.copy and .from_events once per process; False if done."""
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_patches import REPLACEMENT, replace_once

    copied = replace_once(DialogueStateTracker, "copy", continued_copy)
    current = DialogueStateTracker.__dict__["from_events"].__func__
    if getattr(current, REPLACEMENT, False):
        return copied
    wrapper = continued_from_events(current)
    setattr(wrapper, REPLACEMENT, True)
    DialogueStateTracker.from_events = classmethod(wrapper)  # type: ignore[method-assign,assignment]
    return True
