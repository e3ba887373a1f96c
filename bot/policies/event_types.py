"""Find an event's class by its type name once, instead of walking every Event class each time.

Rasa 3.6 turns every stored or received event dict into an object with
`Event.resolve_by_type(name)`, which walks all Event subclasses recursively and asks
`inspect.isabstract` of each (rasa/shared/core/events.py, rasa/shared/utils/common.py). The
SQL tracker store does that for every event of the conversation on every turn, so in the turn
profile (docs/performance.md, "Third pass") it was the Rasa process's largest cost: 49 calls
and ~1,500 subclass visits per turn, 49 ms per turn profiled.

The answer for a name only changes when a new Event subclass is defined, so it is kept per
name and the cache is emptied whenever a class deriving from Event is created (a hook on
`Event.__init_subclass__`). Names that do not resolve to a class ("topic", unknown names
with or without a default) always go to Rasa's own method, so its errors are unchanged
(tests/rasa_venv/test_event_types.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolve = Callable[..., Any]


def cached_resolution(original: Resolve) -> tuple[Resolve, Callable[[], None]]:
    """`original` (Event.resolve_by_type) answered from a per-name cache, and its reset."""
    found: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: type | None = None) -> Any:
        cls = found.get(type_name)
        if cls is not None:
            return cls
        cls = original(type_name, default)
        if cls is not None and cls is not default and getattr(cls, "type_name", None) == type_name:
            found[type_name] = cls
        return cls

    resolve_by_type.__wrapped__ = original  # type: ignore[attr-defined]
    return resolve_by_type, found.clear


def install() -> bool:
    """Replace Event.resolve_by_type once per process; False if already done."""
    from rasa.shared.core.events import Event

    current = Event.__dict__["resolve_by_type"].__func__
    if hasattr(current, "__wrapped__"):
        return False
    resolve, forget = cached_resolution(current)
    inherited = Event.__init_subclass__

    def __init_subclass__(cls: type, **kwargs: Any) -> None:
        forget()  # a new class may answer a name first in Rasa's walk
        inherited(**kwargs)

    Event.__init_subclass__ = classmethod(__init_subclass__)  # type: ignore[assignment]
    Event.resolve_by_type = staticmethod(resolve)  # type: ignore[method-assign]
    return True
