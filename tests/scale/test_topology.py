"""Several Rasa instances on one PostgreSQL tracker store and one Redis lock store.

Why: behind a load balancer, consecutive messages of one conversation reach different Rasa
instances, and a user who sends twice quickly (or two tabs) makes two instances work on one
conversation at once. The conversation must keep its state across instances, and concurrent
messages must be processed one at a time (each user message followed by its own reply).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import payload, post_json
from tools.loadtest import LoadPlan, LoadReport, LocalTopology, audit, read_events, run_load

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def say(url: str, sender: str, text: str, turn: int) -> list[dict[str, Any]]:
    status, replies = post_json(
        f"{url}/webhooks/rest/webhook",
        {"sender": sender, "message": text, "metadata": {"loadtest_turn": turn}},
    )
    assert status == 200, replies
    return replies


def test_a_conversation_keeps_its_state_across_instances(topology: LocalTopology) -> None:
    first, second = topology.rasa_urls
    sender = f"switch-{uuid.uuid4().hex[:8]}"
    # On instance 1 the user asks for Finnish; the choice is a slot of the conversation.
    say(first, sender, "in Finnish please", 0)
    # On instance 2 an English question is answered in Finnish only if instance 2 loaded the
    # conversation that instance 1 stored.
    answer = payload(say(second, sender, "How do I get a tax card?", 1))
    assert answer["language"] == "fi", answer
    # Control: the same question in a new conversation is answered in English.
    fresh = payload(say(second, f"fresh-{uuid.uuid4().hex[:8]}", "How do I get a tax card?", 0))
    assert fresh["language"] == "en", fresh

    events = read_events(topology.tracker_db_url, [sender])[sender]
    assert [e["text"] for e in events if e["event"] == "user"] == [
        "in Finnish please",
        "How do I get a tax card?",
    ]
    assert sum(e["event"] == "session_started" for e in events) == 1, "one session, not two"
    assert events[-1]["event"] == "action" and events[-1]["name"] == "action_listen"


def test_concurrent_messages_to_one_conversation_are_serialised(
    topology: LocalTopology,
) -> None:
    """Bursts of 4 simultaneous messages to one conversation, spread over both instances."""
    plan = LoadPlan(conversations=2, turns=2, time_limit=60, burst=4)
    conversations, seconds = asyncio.run(run_load(topology.rasa_urls, plan, topology.origin))
    report = LoadReport(
        "bursts", conversations, seconds, audit(topology.tracker_db_url, conversations)
    )
    print(report.format())
    assert {t.instance for t in report.turns} == {0, 1}
    assert report.ok, report.format()
    # Serialised: in the store, every user message is directly followed by its own replies.
    for conversation in conversations:
        events = read_events(topology.tracker_db_url, [conversation.sender_id])
        kinds = [
            e["event"] for e in events[conversation.sender_id] if e["event"] in ("user", "bot")
        ]
        collapsed = [k for i, k in enumerate(kinds) if k == "user" or kinds[i - 1] != "bot"]
        assert collapsed == ["user", "bot"] * len(conversation.turns), kinds


def test_bounded_load_over_rest_and_socketio_loses_nothing(topology: LocalTopology) -> None:
    """The load test as the suite runs it: small, bounded, on both instances and channels."""
    plan = LoadPlan(conversations=6, turns=4, socketio=2, time_limit=60)
    started = time.monotonic()
    conversations, seconds = asyncio.run(run_load(topology.rasa_urls, plan, topology.origin))
    report = LoadReport(
        "suite load", conversations, seconds, audit(topology.tracker_db_url, conversations)
    )
    print(report.format())
    assert report.ok, report.format()
    assert len(report.turns) == 24
    assert {t.instance for t in report.turns} == {0, 1}
    assert {c.channel for c in conversations} == {"rest", "socketio"}
    assert time.monotonic() - started < 90
