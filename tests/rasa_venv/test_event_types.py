"""Event classes are found by type name as Rasa finds them, from a cache that new classes reset."""

from __future__ import annotations

import policies  # noqa: F401  (installs the cached resolution, as in the Rasa server)
import pytest
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.utils.common import all_subclasses

ORIGINAL = Event.resolve_by_type.__wrapped__  # type: ignore[attr-defined]
TYPE_NAMES = sorted({cls.type_name for cls in all_subclasses(Event)})


def test_the_server_uses_the_cached_resolution() -> None:
    assert hasattr(Event.resolve_by_type, "__wrapped__")


@pytest.mark.parametrize("type_name", TYPE_NAMES)
def test_every_event_type_resolves_to_rasas_class(type_name: str) -> None:
    expected = ORIGINAL(type_name)
    assert Event.resolve_by_type(type_name) is expected
    assert Event.resolve_by_type(type_name) is expected, "and again, from the cache"


def test_stored_events_come_back_as_the_same_objects() -> None:
    events = [UserUttered("hei", {"name": "greet"}), SlotSet("language", "fi"), ActionExecuted("x")]
    assert [Event.from_parameters(event.as_dict()) for event in events] == events


def test_names_without_a_class_behave_as_in_rasa() -> None:
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError) as expected:
        ORIGINAL("no_such_event")
    with pytest.raises(ValueError) as got:
        Event.resolve_by_type("no_such_event")
    assert str(got.value) == str(expected.value)


def test_a_class_defined_later_is_seen_where_rasa_would_see_it() -> None:
    """Rasa's walk visits UserUttered's subclasses before ActionExecuted's: after the second
    class is defined, Rasa answers with it, so a cache that outlived the definition would not."""

    class ProbeAfterAction(ActionExecuted):
        type_name = "opastin_probe"

    assert Event.resolve_by_type("opastin_probe") is ProbeAfterAction

    class ProbeAfterUser(UserUttered):
        type_name = "opastin_probe"

    assert ORIGINAL("opastin_probe") is ProbeAfterUser
    assert Event.resolve_by_type("opastin_probe") is ProbeAfterUser
