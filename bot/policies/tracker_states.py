"""Compute a tracker's past dialogue states once per event, not once per event per prediction.

The rule policy turns the whole conversation into states before each prediction
(`DialogueStateTracker.past_states` -> `Domain.states_for_tracker_history`): it replays every
event on a fresh tracker and builds a state at each action. A turn makes two to four
predictions, each after one or two more events, so every turn replayed the conversation several
times: 21 ms per turn profiled, two thirds of the rule policy (docs/performance.md, "Third
pass"), and growing with the conversation's length.

Here the replay is kept on the tracker with the applied events it has seen. When the tracker's
applied events still begin with those same event objects (events are appended during a turn),
only the new ones are replayed; otherwise (a rewind, a restart, another tracker) the replay
starts over, exactly as Rasa's. Finding the applied events is itself a scan of the whole
conversation (Rasa's `applied_events`, 48 ms per turn profiled at 30 turns, more than the
replay): when the events appended since the last call are ones that scan would simply append
(no rewind, restart or loop), they are taken as they are. tracker_cache.py carries a replay
over to the next turn's tracker. Each call gets its own copy of the states, since the
featurizers delete keys from them. Only Rasa's own plain case is cached (no rule-only turns to
ignore, unset slots kept, Rasa's own Domain method); anything else goes to Rasa's method.
Same states as Rasa's: tests/rasa_venv/test_tracker_states.py.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PastStates = Callable[..., list[dict[str, Any]]]
CACHE = "_opastin_past_states"  # the attribute of a tracker holding its Replay


@dataclass
class Replay:
    """A fresh tracker with `applied` replayed on it, and the state before each action."""

    domain: Any
    applied: list[Any] = field(default_factory=list)
    tracker: Any = None
    states: list[dict[str, Any]] = field(default_factory=list)
    # How far the tracker's events were read: their count, the last one, the loops they name.
    seen: int = 0
    last: Any = None
    loop_names: frozenset[str] = frozenset()

    def extend(self, events: list[Any]) -> None:
        from rasa.shared.core.events import ActionExecuted

        for event in events:
            if isinstance(event, ActionExecuted):
                self.states.append(self.state())
            self.tracker.update(event)
            self.applied.append(event)

    def state(self) -> dict[str, Any]:
        return self.domain._clean_state(self.domain.get_active_state(self.tracker))

    def continued_on(self, tracker: Any, clone: Callable[[Any], Any]) -> None:
        """Give `tracker` (whose applied events begin with ours) its own copy of this replay,
        so its past states continue from here (tracker_cache.py: the next turn's tracker)."""
        replayed = clone(self.tracker)
        if replayed is not None:
            mine = Replay(self.domain, list(self.applied), replayed, list(self.states))
            mine.seen, mine.last, mine.loop_names = self.seen, self.last, self.loop_names
            tracker.__dict__[CACHE] = mine

    def appended(self, tracker: Any) -> list[Any] | None:
        """The events added to `tracker` since it was last read, if Rasa's `applied_events`
        would just append them (none rewinds, restarts or touches a loop); else None."""
        from rasa.shared.core.events import (
            ActionExecuted,
            ActionReverted,
            ActiveLoop,
            Restarted,
            SessionStarted,
            UserUtteranceReverted,
        )
        from rasa.shared.core.trackers import DialogueStateTracker

        events = tracker.events
        if (
            type(tracker).applied_events is not DialogueStateTracker.applied_events
            or events.maxlen is not None  # a bounded history drops its first events
            or self.seen > len(events)
            or (self.seen and events[self.seen - 1] is not self.last)
        ):
            return None
        new = list(itertools.islice(events, self.seen, None))
        for event in new:
            if (
                isinstance(
                    event, Restarted | SessionStarted | ActionReverted | UserUtteranceReverted
                )
                or (isinstance(event, ActiveLoop) and event.name)
                or (isinstance(event, ActionExecuted) and event.action_name in self.loop_names)
            ):
                return None
        return new

    def read_up_to_date(self, tracker: Any, loop_names: frozenset[str] | None = None) -> None:
        events = tracker.events
        self.seen, self.last = len(events), events[-1] if events else None
        if loop_names is not None:
            self.loop_names = loop_names


_COMPARED: dict[tuple[int, int], tuple[Any, Any, bool]] = {}  # both kept, so ids stay theirs


def same_domain(kept: Any, given: Any) -> bool:
    """Whether two domains give the same states: the same object, or the same definition. The
    policies get the domain the model's graph loads, the tracker store the processor's: two
    objects of one model, compared once per pair (Rasa's Domain has no equality of its own)."""
    if kept is given:
        return True
    key = (id(kept), id(given))
    known = _COMPARED.get(key)
    if known is None:
        if len(_COMPARED) >= 8:  # one pair per loaded model; a few at most
            _COMPARED.clear()
        same = type(kept) is type(given) and kept.as_dict() == given.as_dict()
        known = _COMPARED[key] = (kept, given, same)
    return known[2]


def replay_of(tracker: Any, domain: Any) -> Replay:
    """The tracker's replay, continued over its new applied events or started over; kept on it.

    When the events added since the last call only append to the applied ones (no rewind,
    restart or loop: Rasa's `applied_events` would append them), they are replayed without
    Rasa's scan of the whole conversation; otherwise the applied events are Rasa's."""
    replay: Replay | None = tracker.__dict__.get(CACHE)
    if replay is not None and same_domain(replay.domain, domain):
        new = replay.appended(tracker)
        if new is not None:
            replay.extend(new)
            replay.read_up_to_date(tracker)
            return replay
    applied = tracker.applied_events()
    if (
        replay is None
        or not same_domain(replay.domain, domain)
        or len(replay.applied) > len(applied)
        or any(seen is not now for seen, now in zip(replay.applied, applied, strict=False))
    ):
        replay = Replay(domain, tracker=tracker.init_copy())
        tracker.__dict__[CACHE] = replay
    replay.extend(applied[len(replay.applied) :])
    replay.read_up_to_date(tracker, _loop_names(tracker))
    return replay


def _loop_names(tracker: Any) -> frozenset[str]:
    """The loops the tracker's events name (Rasa's `applied_events` treats their actions apart)."""
    from rasa.shared.core.events import ActiveLoop

    return frozenset(e.name for e in tracker.events if isinstance(e, ActiveLoop) and e.name)


def _copied(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """States are {kind: {key: str, tuple or number}}: two levels of dicts to copy, unless a
    value is something else (then a deep copy)."""
    immutable = (str, tuple, int, float, bool, frozenset, type(None))
    if all(
        isinstance(sub, dict) and all(isinstance(v, immutable) for v in sub.values())
        for state in states
        for sub in state.values()
    ):
        return [{kind: dict(sub) for kind, sub in state.items()} for state in states]
    return copy.deepcopy(states)


def cached_past_states(original: PastStates) -> PastStates:
    """`original` (DialogueStateTracker.past_states) continued from the tracker's last replay."""
    from rasa.shared.core.domain import Domain

    def past_states(
        self: Any,
        domain: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        own_method = type(domain).states_for_tracker_history is Domain.states_for_tracker_history
        if omit_unset_slots or ignore_rule_only_turns or not own_method:
            return original(self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        replay = replay_of(self, domain)
        return _copied([*replay.states, replay.state()])

    past_states.__wrapped__ = original  # type: ignore[attr-defined]
    return past_states


def install() -> bool:
    """Replace DialogueStateTracker.past_states once per process; False if already done."""
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa_patches import replace_once

    return replace_once(DialogueStateTracker, "past_states", cached_past_states)
