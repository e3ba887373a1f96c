"""An action-server outage gets a polite reply, never silence; answers resume after it."""

from __future__ import annotations

import pytest

from opastin.stack import Stack
from tests.e2e.conftest import ARTIFACTS, ask, e2e_settings, payload

pytestmark = pytest.mark.e2e


def test_outage_gets_polite_reply_and_answers_resume(prepared, tmp_path):
    stack = Stack(e2e_settings(tmp_path), prepared, ARTIFACTS / "logs-outage")
    with stack.started():
        assert payload(ask(stack, "outage", "How do I get a tax card?"))["type"] == "service_answer"

        stack.stop_actions()
        replies = ask(stack, "outage", "How do I get a tax card?")
        assert payload(replies) == {"type": "no_answer", "reason": "service_unavailable"}
        assert "temporarily unavailable" in replies[0]["text"]
        assert ask(stack, "outage", "hello"), "the conversation goes on"

        stack.start_actions()
        answer = payload(ask(stack, "outage", "I need a residence permit"))
        assert answer["organisations"][0]["id"] == "migri"
