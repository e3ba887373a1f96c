"""Keep each conversation's tracker between turns, so a turn parses and replays only its new events.

Every turn Rasa reads the conversation from the SQL tracker store and rebuilds it from scratch:
`json.loads` of every stored event, `DialogueStateTracker.from_dict` replaying all of them, and
then the rule policy replays the whole conversation again for its past states (tracker_states.py
keeps that replay only within one tracker object, and each turn gets a new one). Both grow with
the conversation, so a 30th turn cost twice the first (docs/performance.md, "Fifth pass").

Here the store keeps, per conversation (least recently used dropped beyond
`OPASTIN_TRACKER_CACHE_SIZE`, 0 = off), what the last read built: the rows' `data` strings, the
tracker replayed from them (never handed out) and the rule policy's replay of its applied
events. Each read still runs Rasa's query (the events since the latest session start) and
compares the rows' data strings with the kept ones, so what another replica stored in between,
a new session, or rows that masking rewrote or erasure deleted (console/masking.py,
console/retention.py, in another process) are seen: only when the kept strings are, character
for character, the first rows of the result are the rest parsed and applied; otherwise the entry
is dropped and the tracker built from the rows as Rasa does. The caller gets its own copy
(events deque, slots, dicts; the event objects shared, as Rasa's own `tracker.copy()` shares
them), carrying a copy of the replay, so the turn's past states continue from it.

The one in-place change Rasa makes to a stored event, a later `user_featurization` event
setting an earlier message's `use_text_for_featurization`, is checked on every read: if any
kept message's flag is not the value its replay left, the entry is rebuilt. Anything else goes
the uncached way: other store classes or queries, a store with an event broker, reads of all
sessions, a tracker with attributes this module does not know. Same trackers and states as
Rasa's: tests/rasa_venv/test_tracker_cache.py.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SIZE_ENV = "OPASTIN_TRACKER_CACHE_SIZE"
DEFAULT_SIZE = 64  # conversations per store and Rasa process; the setting is in opastin/config.py
MAX_SIZE = 100_000
_STORE_CACHE = "_opastin_tracker_cache"
# A tracker's own attributes (Rasa 3.6's DialogueStateTracker.__init__), and how a copy gets
# each: a new container or the same (immutable or event) object.
_COPIED = frozenset({"latest_action", "active_loop"})  # dicts (or None)
_SHARED = frozenset(
    {
        "_max_event_history",
        "sender_id",
        "sender_source",
        "is_rule_tracker",
        "_paused",
        "followup_action",
        "latest_message",
        "latest_bot_utterance",
        "model_id",
        "assistant_id",
    }
)
_KNOWN = _COPIED | _SHARED | {"events", "slots"}


def parse_size(environ: Mapping[str, str]) -> int:
    """Conversations to keep from `environ[SIZE_ENV]`; ValueError naming the variable if bad."""
    raw = environ.get(SIZE_ENV, "").strip()
    if not raw:
        return DEFAULT_SIZE
    try:
        size = int(raw)
    except ValueError:
        expected = "expected a number of conversations, 0 = off"
        raise ValueError(f"{SIZE_ENV}={raw!r}: {expected}") from None
    if not 0 <= size <= MAX_SIZE:
        raise ValueError(f"{SIZE_ENV}={raw!r}: must be between 0 (off) and {MAX_SIZE}")
    return size


def clone(tracker: Any) -> Any | None:
    """An independent tracker in the same state as `tracker`, without replaying its events;
    None if it has attributes (or a class) this module does not know."""
    from rasa.shared.core.trackers import DialogueStateTracker

    from policies.tracker_copy import REPLAY
    from policies.tracker_states import CACHE

    # Our replays (tracker_states.py, tracker_copy.py) are caches: not copied, rebuilt on use.
    state = tracker.__dict__
    private = {CACHE, REPLAY}
    if type(tracker) is not DialogueStateTracker or not _KNOWN.issuperset(state.keys() - private):
        return None
    twin = DialogueStateTracker.__new__(DialogueStateTracker)
    copied = twin.__dict__
    for name in _SHARED:
        copied[name] = state[name]
    for name in _COPIED:
        value = state[name]
        copied[name] = dict(value) if value is not None else None
    copied["events"] = copy.copy(state["events"])  # a deque with the same maxlen
    slots = state["slots"]
    copied["slots"] = type(slots)((name, copy.copy(slot)) for name, slot in slots.items())
    return twin


@dataclass
class Entry:
    """What one conversation's last read built from its rows."""

    domain: Any
    rows: list[str]  # the rows' `data`, in order
    tracker: Any  # replayed from them; only ever copied
    flags: list[tuple[Any, bool]] = field(default_factory=list)  # messages' featurization flag

    def apply(self, rows: list[str]) -> None:
        """Parse and replay `rows`, which follow the kept ones in the store."""
        from rasa.shared.core.events import UserUttered, deserialise_events

        for event in deserialise_events([json.loads(data) for data in rows]):  # as from_dict
            self.tracker.update(event)
        self.rows.extend(rows)
        self.flags = [
            (event, event.use_text_for_featurization)
            for event in (*self.tracker.events, self.tracker.latest_message)
            if isinstance(event, UserUttered)
        ]

    def untouched(self) -> bool:
        """No kept message's featurization flag was changed outside this entry's replay."""
        return all(event.use_text_for_featurization is flag for event, flag in self.flags)


class TrackerCache:
    """Per-conversation entries of one tracker store, least recently used dropped first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()  # Rasa's loop is one thread; its thread pools are not

    def __len__(self) -> int:
        return len(self._entries)

    def tracker(self, sender_id: str, rows: list[str], domain: Any) -> Any | None:
        """The tracker of `rows` (all of the latest session's, in order), or None to build it
        the uncached way."""
        with self._lock:
            entry = self._entries.pop(sender_id, None)
            kept = len(entry.rows) if entry is not None else 0
            if (
                entry is None
                or entry.domain is not domain
                or kept > len(rows)
                or rows[:kept] != entry.rows
                or not entry.untouched()
            ):
                from rasa.shared.core.trackers import DialogueStateTracker

                entry = Entry(domain, [], DialogueStateTracker(sender_id, domain.slots))
                kept = 0
            entry.apply(rows[kept:])
            handed = clone(entry.tracker)
            if handed is None:
                return None
            from rasa.shared.core.domain import Domain

            from policies.tracker_states import replay_of

            own = type(domain).states_for_tracker_history is Domain.states_for_tracker_history
            if own:  # else tracker_states.py leaves the states to Rasa's method anyway
                replay_of(entry.tracker, domain).continued_on(handed, clone)
            self._entries[sender_id] = entry
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return handed

    def forget(self, sender_id: str) -> None:
        with self._lock:
            self._entries.pop(sender_id, None)


def cache_of(store: Any, size: int) -> TrackerCache | None:
    """The store's cache (made on first use), or None when it must not be used."""
    if size <= 0 or store.event_broker is not None or not store.domain:
        return None
    cache = store.__dict__.get(_STORE_CACHE)
    if cache is None:
        cache = store.__dict__[_STORE_CACHE] = TrackerCache(size)
    return cache


SIZE = parse_size(os.environ)  # checked when Rasa imports bot/policies, i.e. at its start
