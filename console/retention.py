"""Retention: delete conversations idle for longer than N days from the tracker store.

A conversation is deleted whole (all its events) once its latest event is older than the
cutoff, so no half-conversation is left behind; its corrections go with it, and so do the
corrections of conversations deleted by someone else (another retention run, `forget`).

Retention runs on a schedule (the console's background job, or `python -m console retention
--every 24h` as a compose service). A round that fails (database down, a lock timeout) is
logged and the next round tries again: one bad night must not end retention for good.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from console.state import ConsoleState
from console.store import TrackerStore

DAY = 86400
UNITS = {"s": 1, "m": 60, "h": 3600, "d": DAY}
INTERVAL = re.compile(r"^(\d+)([smhd])$")
MIN_INTERVAL = 60.0  # seconds between rounds, at least

logger = logging.getLogger("console.retention")


@dataclass(frozen=True)
class Purge:
    conversations: list[str]
    events: int
    cutoff: float


def parse_interval(text: str) -> float:
    """Seconds from "24h", "30m", "1d" or "3600s"; ValueError with a message otherwise."""
    match = INTERVAL.match(text.strip())
    if not match:
        raise ValueError(f"interval {text!r}: expected a number and s, m, h or d, e.g. 24h")
    seconds = int(match.group(1)) * UNITS[match.group(2)]
    if seconds < MIN_INTERVAL:
        raise ValueError(f"interval {text!r}: at least {int(MIN_INTERVAL)} seconds")
    return float(seconds)


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
    if dry_run:
        return Purge(senders, 0, cutoff)
    deleted = store.delete(senders) if senders else 0
    remaining = store.keys()
    # An empty store is more likely a wrong setting than one emptied: keep corrections then.
    if state is not None and remaining:
        state.forget(set(state.senders()) - set(remaining))
    return Purge(senders, deleted, cutoff)


def purge_round(store: TrackerStore, state: ConsoleState | None, days: int) -> Purge | None:
    """One scheduled round: the purge, or None after logging why it failed."""
    try:
        result = purge(store, state, days)
    except Exception as error:  # any database error: log it, try again next round
        first_line = (str(error).splitlines() or [""])[0]
        logger.error(
            "retention round failed on %s: %s: %s (trying again next round)",
            store.describe(),
            type(error).__name__,
            first_line,
        )
        return None
    logger.info(
        "retention: deleted %d conversation(s) idle for more than %d days (%d events)",
        len(result.conversations),
        days,
        result.events,
    )
    return result


def run_every(
    store: TrackerStore,
    state: ConsoleState | None,
    days: int,
    every: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rounds: int | None = None,
) -> list[Purge | None]:
    """Purge now and then every `every` seconds, forever (or `rounds` times, for tests)."""
    results: list[Purge | None] = []
    while rounds is None or len(results) < rounds:
        results.append(purge_round(store, state, days))
        if rounds is not None and len(results) >= rounds:
            break
        sleep(every)
    return results
