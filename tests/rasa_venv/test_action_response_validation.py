"""Action-server responses are checked as Rasa checks them, with one prepared validator."""

from __future__ import annotations

from typing import Any

import policies  # noqa: F401  (installs the prepared validation, as in the Rasa server)
import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

ORIGINAL = RemoteAction._validate_action_result.__wrapped__
VALID = [
    {},
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "language", "value": "fi", "timestamp": None}],
        "responses": [{"text": "Hei", "buttons": [], "custom": {"type": "service_answer"}}],
    },
]
INVALID = [
    {"events": "not a list"},
    {"events": [{"name": "no event type"}]},
    {"responses": {"text": "not a list"}},
]


@pytest.fixture
def action() -> RemoteAction:
    return RemoteAction("action_answer_question", EndpointConfig("http://127.0.0.1:1/webhook"))


def test_the_server_uses_the_prepared_validation():
    assert hasattr(RemoteAction._validate_action_result, "__wrapped__")


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass_as_before(action, response):
    assert ORIGINAL(action, response) is True
    assert action._validate_action_result(response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_with_rasas_own_error(action, response):
    with pytest.raises(ValidationError) as expected:
        ORIGINAL(action, response)
    with pytest.raises(ValidationError) as got:
        action._validate_action_result(response)
    assert got.value.message == expected.value.message
    assert "Failed to validate Action server response" in got.value.message


def _event_cases() -> list[Any]:
    """One event of each type in Rasa's events schema, valid and broken in ways it checks."""
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    names = [branch["properties"]["event"]["const"] for branch in EVENT_SCHEMA["oneOf"]]
    cases: list[Any] = []
    for name in names:
        cases += [
            {"event": name, "name": "language", "value": "fi", "entities": []},
            {"event": name, "timestamp": "yesterday"},  # timestamp must be a number or null
            {"event": name, "metadata": 3},
        ]
    cases += [
        {"event": "user", "text": "hei", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "user", "text": 5},
        {"event": "user", "parse_data": {"intent_ranking": [{"name": 1}]}},
        {"event": "slot", "name": "language"},  # no value
        {"event": "entities"},  # no entities
        {"event": "entities", "entities": [{"start": "x"}]},
        {"event": "action", "name": "action_listen", "confidence": "high"},
        {"event": "no_such_event"},
        {"event": 3},
        {"name": "no event key"},
        "not an object",
        None,
    ]
    return cases


def test_the_prepared_check_agrees_with_the_whole_schema_on_every_event_type():
    """Branch-by-branch checking of events answers as jsonschema's full oneOf does."""
    from jsonschema import validators
    from policies.action_response_validation import PreparedCheck

    schema = RemoteAction.action_response_format_spec()
    check = PreparedCheck(schema)
    assert check.by_event is not None and len(check.by_event) == 23, "events checked by branch"
    whole = validators.validator_for(schema)(schema)
    cases = _event_cases()
    outcomes = set()
    for event in cases:
        for response in ({"events": [event]}, {"events": [{"event": "restart"}, event]}):
            expected = whole.is_valid(response)
            assert check.is_valid(response) is expected, response
            outcomes.add(expected)
    assert outcomes == {True, False}, "both answers are covered"
    for response in [*VALID, *INVALID, [], {"events": None}, {"responses": [{"text": "x"}]}]:
        assert check.is_valid(response) is whole.is_valid(response), response
