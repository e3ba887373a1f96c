"""The answer action on tracker fixtures (as rasa-demo tests actions), over the fixture index."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import answer_question
from actions.answer_question import ActionAnswerQuestion


def tracker(text: str, intent: str = "nlu_fallback", **slots: Any) -> Tracker:
    return Tracker(
        sender_id="test-user",
        slots={"language": None, "municipality": None, "residence_status": None, **slots},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [],
            "metadata": {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture(autouse=True)
def use_mini_engine(monkeypatch, mini_engine):
    monkeypatch.setattr(answer_question, "get_engine", lambda: mini_engine)


def run(text: str, **kwargs: Any) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    action = ActionAnswerQuestion().run(dispatcher, tracker(text, **kwargs), domain={})
    events = asyncio.run(action)
    return dispatcher.messages, events


def test_answer_names_organisation_and_sends_payload():
    messages, events = run("How do I get a tax card?", intent="tax_registration")
    [message] = messages
    custom = message["custom"]
    assert custom["type"] == "service_answer"
    assert custom["organisations"][0] == {
        "id": "vero",
        "name": "Finnish Tax Administration",
        "url": "https://www.vero.fi/en/",
    }
    assert custom["services"][0]["id"] == "vero.tax_card"
    assert custom["language"] == "en"
    assert message["text"].startswith("Finnish Tax Administration handles this: Tax card.")
    assert "International House Helsinki" in message["text"]  # vero.tax_card is served at IHH
    assert "Official page: https://www.vero.fi/" in message["text"]
    assert {"event": "slot", "name": "language", "value": "en", "timestamp": None} in events


def test_answer_in_the_users_language():
    [message], _ = run("Miten saan verokortin?")
    assert message["custom"]["language"] == "fi"
    assert message["text"].startswith("Tätä hoitaa Verohallinto: Verokortti.")
    assert "Virallinen sivu:" in message["text"]


def test_service_not_at_ihh_does_not_claim_it():
    [message], _ = run("I need a residence permit")
    assert message["custom"]["organisations"][0]["id"] == "migri"
    assert "International House Helsinki" not in message["text"]  # at_ihh is unverified


def test_short_message_keeps_conversation_language():
    [message], events = run("Kela", language="sv")
    assert message["custom"]["language"] == "sv"
    assert events[0]["value"] == "sv"


def test_unsure_answer_names_nobody():
    [message], _ = run("recommend a pizza place with good reviews")
    assert message["custom"]["type"] == "no_answer"
    assert message["custom"]["reason"] == "low_confidence"
    assert "organisations" not in message["custom"]
    assert "other words" in message["text"]
