"""Check action-server responses with one prepared validator instead of a new one per call.

Rasa 3.6 checks every action-server response with `jsonschema.validate(result, schema)`
(rasa/core/actions/action.py, RemoteAction._validate_action_result). That call first validates
the constant schema itself against the JSON Schema metaschema and builds a new validator, every
time: in the turn profile (docs/performance.md, `python -m tools.bench.turn_profile`) it was most
of the Rasa process's CPU per turn (540 calls in 300 turns, more than every NLU component and
policy together). The schema is checked once here and one validator is kept. A valid response
is accepted as before; an invalid one goes to Rasa's own method, which raises the same
ValidationError with the same message (tests/rasa_venv/test_action_response_validation.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Validate = Callable[[Any, dict[str, Any]], bool]


def prepared_validation(original: Validate) -> Validate:
    """`original` (RemoteAction._validate_action_result) with a cached validator per class."""
    from jsonschema import validators

    prepared: dict[type, Any] = {}

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        validator = prepared.get(type(self))
        if validator is None:
            schema = self.action_response_format_spec()
            cls = validators.validator_for(schema)
            cls.check_schema(schema)
            validator = prepared[type(self)] = cls(schema)
        if validator.is_valid(result):
            return True
        return original(self, result)  # raises Rasa's own error, with its message

    _validate_action_result.__wrapped__ = original  # type: ignore[attr-defined]
    return _validate_action_result


def install() -> bool:
    """Replace RemoteAction's per-call validation once per process; False if already done."""
    from rasa.core.actions.action import RemoteAction

    current = RemoteAction._validate_action_result
    if hasattr(current, "__wrapped__"):
        return False
    RemoteAction._validate_action_result = prepared_validation(current)  # type: ignore[method-assign]
    return True
