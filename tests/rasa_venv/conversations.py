"""Stored conversations for the tracker store tests: timestamps that increase, a session start."""

from __future__ import annotations

from typing import Any

from rasa.shared.core.events import ActionExecuted, SessionStarted


class Clock:
    """Increasing event timestamps, so the latest session start is well defined."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 0.5
        return self.now


def session_start(clock: Clock) -> list[Any]:
    """The events Rasa's action_session_start logs at the beginning of a conversation."""
    return [
        ActionExecuted("action_session_start", timestamp=clock()),
        SessionStarted(timestamp=clock()),
        ActionExecuted("action_listen", timestamp=clock()),
    ]
