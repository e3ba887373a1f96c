"""Faults under load: the action server stops and comes back, a Rasa instance restarts, and
PostgreSQL or Redis cannot be reached when Rasa starts.

Why: users must never be met with silence or a 500, answers must resume by themselves, no
conversation may lose events, and a misconfigured deployment must say so at once instead of
serving from a store that keeps nothing (what Rasa 3.6 itself does, see docs/operations.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.scale.conftest import BackgroundLoad, topology_settings
from tools.loadtest import LoadPlan, LoadReport, LocalTopology, audit
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
