"""Action-server responses are checked as Rasa checks them, with one prepared validator."""

from __future__ import annotations

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
