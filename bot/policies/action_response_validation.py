"""Check action-server responses with prepared validators instead of a new one per call.

Rasa 3.6 checks every action-server response with `jsonschema.validate(result, schema)`
(rasa/core/actions/action.py, RemoteAction._validate_action_result). That call first validates
the constant schema itself against the JSON Schema metaschema and builds a new validator, every
time: in the turn profile (docs/performance.md, `python -m tools.bench.turn_profile`) it was most
of the Rasa process's CPU per turn (540 calls in 300 turns, more than every NLU component and
policy together). The schema is checked once here and the validators are kept.

Even prepared, each event was checked against all 23 branches of the events schema's `oneOf`
(jsonschema builds an error for every branch that fails): 16 ms per response profiled, the
largest cost left in the action calls (docs/performance.md, "Third pass"). Every branch pins
`event` to a different constant, so an event whose `event` names a branch is valid exactly when
it passes the common part and that one branch; such events are checked that way. Anything else
(a non-dict event, an unknown or missing `event`) is checked against the whole schema.

A valid response is accepted as before; an invalid one goes to Rasa's own method, which raises
the same ValidationError with the same message
(tests/rasa_venv/test_action_response_validation.py).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

Validate = Callable[[Any, dict[str, Any]], bool]


class PreparedCheck:
    """`is_valid(result)` for one response schema, with events checked by their branch."""

    def __init__(self, schema: dict[str, Any]) -> None:
        from jsonschema import validators

        cls = validators.validator_for(schema)
        cls.check_schema(schema)
        self.whole = cls(schema)
        self.by_event: dict[str, tuple[Any, Any]] | None = None
        split = _split_events(schema)
        if split is not None:
            outer, common, branches = split
            self.outer = cls(outer)
            self.by_event = {name: (cls(common), cls(branch)) for name, branch in branches.items()}

    def is_valid(self, result: Any) -> bool:
        if self.by_event is None:
            return bool(self.whole.is_valid(result))
        if not self.outer.is_valid(result):
            return False
        for event in result.get("events") or []:
            name = event.get("event") if isinstance(event, dict) else None
            validators = self.by_event.get(name) if isinstance(name, str) else None
            if validators is None:
                return bool(self.whole.is_valid(result))
            common, branch = validators
            if not (common.is_valid(event) and branch.is_valid(event)):
                return False
        return True


def _split_events(
    schema: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, dict[str, Any]]] | None:
    """(schema with events as any array, an event's common part, branch per `event` name),
    or None when the events schema is not a oneOf of branches with distinct `event` consts."""
    events = schema.get("properties", {}).get("events")
    if not isinstance(events, dict) or set(events) != {"type", "items"}:
        return None
    if events["type"] != "array" or not isinstance(events["items"], dict):
        return None
    item = events["items"]
    branches = item.get("oneOf")
    if not isinstance(branches, list) or not branches:
        return None
    names = [branch.get("properties", {}).get("event", {}).get("const") for branch in branches]
    if not all(isinstance(name, str) for name in names) or len(set(names)) != len(names):
        return None
    outer = copy.deepcopy(schema)
    outer["properties"]["events"] = {"type": "array"}
    common = {key: value for key, value in item.items() if key != "oneOf"}
    return outer, common, dict(zip(names, branches, strict=True))


def prepared_validation(original: Validate) -> Validate:
    """`original` (RemoteAction._validate_action_result) with a prepared check per class."""
    prepared: dict[type, PreparedCheck] = {}

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        check = prepared.get(type(self))
        if check is None:
            check = prepared[type(self)] = PreparedCheck(self.action_response_format_spec())
        if check.is_valid(result):
            return True
        return original(self, result)  # raises Rasa's own error, with its message

    _validate_action_result.__wrapped__ = original  # type: ignore[attr-defined]
    return _validate_action_result


def install() -> bool:
    """Replace RemoteAction's per-call validation once per process; False if already done."""
    from rasa.core.actions.action import RemoteAction
    from rasa_patches import replace_once

    return replace_once(RemoteAction, "_validate_action_result", prepared_validation)
