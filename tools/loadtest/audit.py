"""The store audit: every message the client saw is in the tracker store once, in its place."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tools.loadtest.results import Conversation, require_loopback
from tools.loadtest.topology import RASA_PYTHON

READ_EVENTS = Path(__file__).with_name("read_events.py")


def read_events(db_url: str, senders: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The stored events of these conversations, in insertion order (Rasa's own SQL driver)."""
    if not db_url.startswith("sqlite"):
        require_loopback("//" + db_url.split("://", 1)[-1].rsplit("@", 1)[-1])
    result = subprocess.run(
        [str(RASA_PYTHON), str(READ_EVENTS)],
        input=json.dumps(senders),
        capture_output=True,
        text=True,
        env={**os.environ, "LOADTEST_DB_URL": db_url, "SQLALCHEMY_SILENCE_UBER_WARNING": "1"},
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"reading the tracker store failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout)


def split_turns(events: list[dict[str, Any]]) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """Each stored user message with the bot messages that follow it up to the next one."""
    segments: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
    for event in events:
        if event.get("event") == "user":
            segments.append((event, []))
        elif event.get("event") == "bot" and segments:
            segments[-1][1].append(event)
    return segments


def reply_signature(messages: list[dict[str, Any]], stored: bool) -> list[tuple[str, str]]:
    """Texts and custom payloads, comparable between what a channel sent and what was stored."""
    signature = []
    for message in messages:
        custom = (message.get("data") or {}).get("custom") if stored else message.get("custom")
        if message.get("text"):
            signature.append(("text", message["text"]))
        if custom:
            signature.append(("custom", json.dumps(custom, sort_keys=True)))
    return signature


def audit_conversation(conversation: Conversation, events: list[dict[str, Any]]) -> list[str]:
    """Everything the client saw is stored once, each user message followed by its own replies."""
    name = f"{conversation.sender_id} ({conversation.channel})"
    problems = []
    stored: dict[int, list[dict[str, Any]]] = {}
    order = []
    for user, bots in split_turns(events):
        index = (user.get("metadata") or {}).get("loadtest_turn")
        if not isinstance(index, int):
            problems.append(f"{name}: stored user message not sent by us: {user.get('text')!r}")
            continue
        if index in stored:
            problems.append(f"{name}: turn {index} stored twice")
            continue
        stored[index] = bots
        order.append(index)
    per_turn = conversation.channel == "rest"  # REST says where a turn's replies end
    for turn in conversation.turns:
        if turn.error:
            continue  # the client cannot know whether a failed turn reached Rasa
        if turn.index not in stored:
            problems.append(f"{name}: turn {turn.index} lost ({turn.text!r} not stored)")
            continue
        if not stored[turn.index]:
            problems.append(f"{name}: turn {turn.index}: no bot reply stored after it")
        if not per_turn:
            continue
        expected = reply_signature(turn.replies, stored=False)
        found = reply_signature(stored[turn.index], stored=True)
        if found != expected:
            problems.append(
                f"{name}: turn {turn.index}: stored replies after it differ from those sent "
                f"(sent {len(expected)}, stored {len(found)}: lost, duplicated or interleaved)"
            )
    if not per_turn and not any(t.error for t in conversation.turns):
        expected = [s for t in conversation.turns for s in reply_signature(t.replies, False)]
        found = [s for i in order for s in reply_signature(stored[i], True)]
        if found != expected:
            problems.append(
                f"{name}: the replies stored differ from the {len(expected)} received "
                f"({len(found)} stored: lost or duplicated)"
            )
    if conversation.ordered and order != sorted(order):
        problems.append(f"{name}: user messages stored out of order: {order}")
    return problems


def audit(db_url: str, conversations: list[Conversation]) -> list[str]:
    events = read_events(db_url, [c.sender_id for c in conversations])
    problems = []
    for conversation in conversations:
        problems += audit_conversation(conversation, events.get(conversation.sender_id, []))
    return problems
