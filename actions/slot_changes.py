"""Set a slot only when its value changes.

Rasa logs every event an action returns, stores it and replays, reads and sends it on every
later turn of the conversation; re-setting a slot to the value it has changes no state and
only makes the conversation longer (docs/performance.md, "Fifth pass"). Same value means same
type too: 0 and 0.0 would be stored differently.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def changed_values(tracker: Tracker, values: dict[str, Any]) -> dict[str, Any]:
    """The entries of `values` that differ from the tracker's slots, in the order given."""
    changed = {}
    for name, value in values.items():
        current = tracker.get_slot(name)
        if type(current) is not type(value) or current != value:
            changed[name] = value
    return changed
