"""The store audit of the load test finds lost, duplicated, interleaved and reordered messages.

Why: the load test's verdict "nothing lost" is only worth something if the audit fails when
something is lost; these cases are built from events shaped like Rasa's SQL `events` rows.
"""

from __future__ import annotations

from typing import Any

import pytest

from tools.loadtest import (
    Conversation,
    LoadReport,
    Turn,
    audit_conversation,
    require_loopback,
)
from tools.loadtest.report import timeline

ANSWER = {"type": "service_answer", "organisations": [{"id": "vero"}]}


def user(index: int, text: str = "q") -> dict[str, Any]:
    return {"event": "user", "text": f"{text}{index}", "metadata": {"loadtest_turn": index}}


def bot(index: int, custom: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event": "bot", "text": f"answer {index}", "data": {"custom": custom}}


def conversation(turns: int, ordered: bool = True) -> Conversation:
    result = Conversation("c1", "rest", ordered=ordered)
    for i in range(turns):
        replies = [{"text": f"answer {i}"}, {"custom": ANSWER}]
        result.turns.append(Turn(i, f"q{i}", 0, 0.1, replies))
    return result


def stored(turns: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = [{"event": "action", "name": "action_session_start"}]
    for i in range(turns):
        events += [user(i), {"event": "action", "name": "x"}, bot(i, ANSWER)]
    return events


def test_complete_store_passes() -> None:
    assert audit_conversation(conversation(3), stored(3)) == []


def test_lost_user_message_is_found() -> None:
    events = stored(3)
    del events[4:7]  # turn 1's user message and reply never reached the store
    problems = audit_conversation(conversation(3), events)
    assert any("turn 1 lost" in p for p in problems), problems


def test_duplicated_reply_and_duplicated_message_are_found() -> None:
    events = stored(2)
    events.insert(4, bot(0, ANSWER))  # turn 0's reply twice
    assert audit_conversation(conversation(2), events)
    assert any(
        "stored twice" in p for p in audit_conversation(conversation(2), [*stored(2), user(1)])
    )


def test_interleaved_turns_are_found() -> None:
    # Two instances processing at once: user 0, user 1, then both replies.
    events = [user(0), user(1), bot(0, ANSWER), bot(1, ANSWER)]
    problems = audit_conversation(conversation(2, ordered=False), events)
    assert any("differ" in p for p in problems), problems


def test_order_matters_only_for_sequential_conversations() -> None:
    events = [user(1), bot(1, ANSWER), user(0), bot(0, ANSWER)]
    assert audit_conversation(conversation(2, ordered=False), events) == []
    assert any("out of order" in p for p in audit_conversation(conversation(2), events))


def test_failed_turns_are_not_claimed_either_way() -> None:
    result = conversation(2)
    result.turns[1].error = "HTTP 500"
    assert audit_conversation(result, stored(1)) == []


def test_report_is_not_ok_with_errors_or_problems_or_without_audit() -> None:
    good = LoadReport("x", [conversation(2)], 1.0, problems=[])
    assert good.ok
    assert not LoadReport("x", [conversation(2)], 1.0, problems=["lost"]).ok
    assert not LoadReport("x", [conversation(2)], 1.0, problems=None).ok
    failed = conversation(2)
    failed.turns[0].error = "silence: no reply"
    assert not LoadReport("x", [failed], 1.0, problems=[]).ok
    assert "turns/s" in good.format()


def test_socketio_replies_are_compared_as_one_stream() -> None:
    """Over socket.io a late reply may be counted with the next turn; the stream must match."""
    result = conversation(2)
    result.channel = "socketio"
    result.turns[0].replies = [{"text": "answer 0"}]  # its payload came after the quiet time
    result.turns[1].replies = [{"custom": ANSWER}, {"text": "answer 1"}, {"custom": ANSWER}]
    assert audit_conversation(result, stored(2)) == []
    result.turns[1].replies.append({"custom": ANSWER})  # one more than stored: duplicated
    assert any("differ" in p for p in audit_conversation(result, stored(2)))
    # A user message with no reply stored after it is found on any channel.
    result.turns[1].replies = [{"custom": ANSWER}]
    silent = [user(0), bot(0, ANSWER), user(1)]
    problems = audit_conversation(result, silent)
    assert any("turn 1: no bot reply stored" in p for p in problems), problems


def test_load_goes_to_loopback_only() -> None:
    for url in ("http://127.0.0.1:5005", "http://localhost:8080", "http://[::1]:5005"):
        require_loopback(url)
    for url in ("http://10.0.0.5:5005", "http://192.168.1.2", "https://www.hel.fi/"):
        with pytest.raises(SystemExit, match="only targets loopback"):
            require_loopback(url)


def test_timeline_counts_answered_turns_per_second_and_shows_stalls() -> None:
    def turn(sent: float, latency: float, error: str | None = None) -> Turn:
        return Turn(0, "q", 0, latency, [], error, sent_at=sent)

    turns = [
        turn(100.0, 0.1),  # second 0
        turn(100.2, 0.5),  # second 0
        turn(100.9, 0.2),  # answered at 101.1: second 1
        turn(101.0, 2.5),  # second 3 (nothing answered in second 2)
        turn(101.0, 0.1, error="HTTP 500"),  # failed turns are not throughput
    ]
    seconds = timeline(turns)
    assert [(s.second, s.turns) for s in seconds] == [(0, 2), (1, 1), (2, 0), (3, 1)]
    assert [s.p95_ms for s in seconds] == pytest.approx([500.0, 200.0, None, 2500.0])
    assert timeline([turn(1.0, 0.1, error="silence")]) == []
