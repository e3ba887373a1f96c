"""Retention: delete conversations idle for longer than N days from the tracker store.

A conversation is deleted whole (all its events) once its latest event is older than the
cutoff, so no half-conversation is left behind; its corrections go with it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from console.state import ConsoleState
from console.store import TrackerStore

DAY = 86400


@dataclass(frozen=True)
class Purge:
    conversations: list[str]
    events: int
    cutoff: float


def purge(
    store: TrackerStore,
    state: ConsoleState | None,
    days: int,
    *,
    now: float | None = None,
    dry_run: bool = False,
) -> Purge:
    """Delete (or with dry_run only list) conversations idle for more than `days` days."""
    if days <= 0:
        raise ValueError("retention days must be at least 1")
    cutoff = (time.time() if now is None else now) - days * DAY
    senders = store.idle_since(cutoff)
    if dry_run or not senders:
        return Purge(senders, 0, cutoff)
    deleted = store.delete(senders)
    if state is not None:
        state.forget(senders)
    return Purge(senders, deleted, cutoff)
