"""Faults under load: the action server stops and comes back, a Rasa instance restarts,
PostgreSQL stops for 30 s and Redis restarts while Rasa runs, and PostgreSQL or Redis cannot
be reached when Rasa starts.

Why: users must never be met with silence or a 500, answers must resume by themselves, no
conversation may lose events, and a misconfigured deployment must say so at once instead of
serving from a store that keeps nothing (what Rasa 3.6 itself does, see docs/operations.md).
"""

from __future__ import annotations

import copy
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.e2e.conftest import payload, post_json
from tests.scale.conftest import BackgroundLoad, topology_settings
from tests.scale.service_faults import PostgresServer, RedisServer
from tools.loadtest import (
    Conversation,
    LoadPlan,
    LoadReport,
    LocalTopology,
    audit,
    audit_conversation,
    read_events,
)
from tools.servers import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def load_with_fault(
    topology: LocalTopology,
    plan: LoadPlan,
    name: str,
    stop: Callable[[], None],
    pause: float,
    start: Callable[[], None],
) -> tuple[LoadReport, float, float]:
    """Run the load, stop something 6 s in and start it again `pause` s later; then audit the
    tracker store. The report, and when the fault began and ended (monotonic seconds)."""
    load = BackgroundLoad(topology, plan)
    time.sleep(6)
    stopped = time.monotonic()
    stop()
    time.sleep(pause)
    start()
    back = time.monotonic()
    conversations, seconds = load.wait(plan.time_limit + 60)
    report = LoadReport(name, conversations, seconds)
    report.problems = audit(topology.tracker_db_url, conversations)
    print(report.format())
    return report, stopped, back


def test_action_server_stop_and_start_under_load(topology: LocalTopology) -> None:
    # Load long enough (50 turns x ~1.2 s) to run before, during and after a slow restart.
    plan = LoadPlan(conversations=4, turns=50, socketio=1, time_limit=90, think=1.2)
    action_server = topology.actions[0]
    report, stopped, back = load_with_fault(
        topology, plan, "action server outage",
        action_server.stop_actions, 3, action_server.start_actions,
    )  # fmt: skip

    assert report.ok, report.format()  # no silence, no 500, nothing lost in the store
    during = [t for t in report.turns if stopped + 0.5 < t.sent_at < back - 0.5]
    after = [t for t in report.turns if t.sent_at > back + 1]
    assert during and after, "the load ran before, during and after the outage"
    assert {t.kind for t in during} & {"no_answer:service_unavailable"}, [t.kind for t in during]
    polite = [t for t in during if t.kind == "no_answer:service_unavailable"]
    assert all(r.get("text") for t in polite for r in t.replies[:1]), "said in words too"
    assert "no_answer:service_unavailable" not in {t.kind for t in after}
    # Answers resumed: payloads that only the action server produces (any kind of answer).
    not_from_actions = {"text", "error", "no_answer:service_unavailable", "no_answer:out_of_scope"}
    assert {t.kind for t in after} - not_from_actions, "answers resumed"


def test_restart_of_one_rasa_instance_under_load(topology: LocalTopology) -> None:
    # Long enough that load still runs after a slow restart (Rasa needs 20-60 s to come back on
    # two busy cores): 50 turns (the most a plan allows) with 1.5 s between them last ~75 s.
    plan = LoadPlan(conversations=4, turns=50, time_limit=90, think=1.5)
    rasa = topology.rasa[0]
    report, stopped, back = load_with_fault(
        topology, plan, "Rasa instance restart", rasa.stop, 2, rasa.start_rasa
    )

    assert report.ok, report.format()
    during = [t for t in report.turns if stopped + 1 < t.sent_at < back - 1]
    assert during and {t.instance for t in during} == {1}, "instance 2 carried the load alone"
    assert sum(t.failovers for t in report.turns) > 0, "the stopped instance was really down"
    assert 0 in {t.instance for t in report.turns if t.sent_at > back + 1}, "instance 1 is back"


TRY_AGAIN = "no_answer:try_again"  # bot/connectors/turn_guard.py: not processed or not stored


def try_again_is_not_taken(conversations: list[Conversation]) -> list[Conversation]:
    """Copies in which a turn answered "please try again" counts as not taken, as an error does:
    the audit then requires every other answered turn in the store, once and in order."""
    copies = copy.deepcopy(conversations)
    for turn in (t for c in copies for t in c.turns):
        if turn.kind == TRY_AGAIN:
            turn.error = "asked to try again"
    return copies


def test_postgresql_stopped_and_redis_restarted_under_load(
    topology: LocalTopology, services: dict[str, str]
) -> None:
    """PostgreSQL stopped for 30 s, then Redis restarted (its locks lost), under load on both
    instances and channels, with the same Rasa processes throughout."""
    postgres, redis = PostgresServer(services), RedisServer(services)
    rasa_pids = [p.popen.pid for stack in topology.rasa for p in stack.processes]
    plan = LoadPlan(conversations=4, turns=50, socketio=1, time_limit=56, think=1.0)
    load = BackgroundLoad(topology, plan)
    time.sleep(6)
    postgres.stop()
    pg_down = time.monotonic()
    time.sleep(3)
    # A user writing in Finnish meanwhile: HTTP 200 and the apology in Finnish, not a 500.
    status, finnish = post_json(
        f"{topology.rasa_urls[0]}/webhooks/rest/webhook",
        {"sender": f"fi-{uuid.uuid4().hex[:8]}", "message": "Miten saan verokortin?",
         "metadata": {"language": "fi"}},
    )  # fmt: skip
    time.sleep(max(0.0, pg_down + 30 - time.monotonic()))
    pg_restart = time.monotonic()
    postgres.start()
    pg_back = time.monotonic()
    time.sleep(6)
    redis.stop()
    redis_down = time.monotonic()
    time.sleep(2)
    redis_restart = time.monotonic()
    redis.start()
    redis_back = time.monotonic()
    conversations, seconds = load.wait(plan.time_limit + 60)
    report = LoadReport("PostgreSQL stopped 30 s, then Redis restarted", conversations, seconds)
    stored = read_events(topology.tracker_db_url, [c.sender_id for c in conversations])
    report.problems = [
        problem
        for taken in try_again_is_not_taken(conversations)
        for problem in audit_conversation(taken, stored.get(taken.sender_id, []))
    ]
    print(report.format())
    tries = sum(t.kind == TRY_AGAIN for t in report.turns)
    print(
        f"PostgreSQL down {pg_restart - pg_down:.1f} s, Redis {redis_restart - redis_down:.1f} s; "
        f"{len(report.turns) - tries} turns answered (audited), {tries} asked to try again"
    )

    assert status == 200 and payload(finnish)["reason"] == "try_again", (status, finnish)
    assert payload(finnish)["language"] == "fi" and "Yritä uudelleen" in finnish[0]["text"]
    assert not report.errors, report.format()  # no 500, no silence, no refused connection
    assert report.problems == [], report.format()  # every answered message stored, in order

    def sent(start: float, end: float) -> list:
        return [t for t in report.turns if start < t.sent_at < end]

    faults = {"PostgreSQL": (pg_down, pg_restart), "Redis": (redis_down, redis_restart)}
    for name, (down, restart) in faults.items():
        outage = sent(down, restart)
        assert outage, f"the load ran while {name} was down"
        assert {t.kind for t in outage} == {TRY_AGAIN}, (name, [t.kind for t in outage])
        assert all(t.replies[0].get("text") for t in outage), "said in words"
    # Service resumed by itself after each fault, on both instances and channels.
    for resumed in (sent(pg_back + 2, redis_down), sent(redis_back + 2, float("inf"))):
        assert resumed and TRY_AGAIN not in {t.kind for t in resumed}, [t.kind for t in resumed]
    after = sent(redis_back + 2, float("inf"))
    assert {t.instance for t in after} == {0, 1}
    not_from_actions = {"text", "error", "no_answer:service_unavailable", "no_answer:out_of_scope"}
    assert {t.kind for t in after} - not_from_actions - {TRY_AGAIN}, "answers resumed"
    assert [p.popen.pid for stack in topology.rasa for p in stack.processes] == rasa_pids
    assert all(p.popen.poll() is None for stack in topology.rasa for p in stack.processes)
    # Nothing written over a stored conversation: each still has its one session.
    for sender, events in stored.items():
        assert sum(e["event"] == "session_started" for e in events) == 1, sender


def start_fails(prepared: Path, services: dict[str, str], tmp_path: Path) -> tuple[str, float]:
    topology = LocalTopology(
        settings=topology_settings(tmp_path),
        model=prepared,
        work_dir=tmp_path,
        services=services,
        preflight_timeout=3,
    )
    started = time.monotonic()
    try:
        with pytest.raises(RuntimeError) as error:
            topology.start()
        assert topology.actions == [] and topology.rasa == [], "nothing was started"
    finally:
        topology.stop()
    return str(error.value), time.monotonic() - started


def test_postgresql_unreachable_at_start_up_is_a_clear_error(
    prepared: Path, services: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()  # nothing listens there
    message, seconds = start_fails(prepared, {**services, "POSTGRES_PORT": str(port)}, tmp_path)
    print(message)
    assert f"PostgreSQL (tracker store) at 127.0.0.1:{port}/opastin unreachable" in message
    assert "Connection refused" in message
    assert seconds < 20, "a bounded wait, not a hang"


def test_wrong_redis_password_at_start_up_is_a_clear_error(
    prepared: Path, services: dict[str, str], tmp_path: Path
) -> None:
    message, seconds = start_fails(prepared, {**services, "REDIS_PASSWORD": "wrong"}, tmp_path)
    assert "Redis (lock store) at 127.0.0.1:" in message and "unreachable" in message
    assert "AuthenticationError" in message or "invalid" in message, message
    assert seconds < 20
