"""Concurrent holders of one conversation's lock, from several processes on one real Redis.

Why: Rasa 3.6's RedisLockStore changes a conversation's ticket queue by read-modify-write, so
two Rasa instances can hold one conversation's lock at once (and lose messages, see
test_topology). bot/lock_store.py makes each change a Redis transaction. The same
race run against both shows that ours holds and that the race is real (so the check can fail).
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from opastin.config import ROOT
from opastin.stack import BOT_DIR
from tools.loadtest import RASA_PYTHON

RACE = ROOT / "tests" / "scale" / "lock_race.py"
PROCESSES, ROUNDS = 4, 20


def race(kind: str, services: dict[str, str]) -> dict[str, int]:
    result = subprocess.run(
        [str(RASA_PYTHON), str(RACE), kind, str(PROCESSES), str(ROUNDS)],
        env={**os.environ, **services, "PYTHONPATH": str(BOT_DIR)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_atomic_lock_store_admits_one_holder_at_a_time(services: dict[str, str]) -> None:
    outcome = race("atomic", services)
    assert outcome == {
        "kind": "atomic",
        "expected": PROCESSES * ROUNDS,
        "overlaps": 0,
        "errors": 0,
        "stalls": 0,
        "hangs": 0,
        "done": PROCESSES * ROUNDS,
    }


@pytest.mark.slow
def test_rasa_redis_lock_store_lets_several_in(services: dict[str, str]) -> None:
    """The defect our lock store exists for; if a Rasa upgrade fixes it, drop ours."""
    outcome = race("redis", services)
    faults = ("overlaps", "errors", "stalls", "hangs")
    assert sum(outcome[fault] for fault in faults) > 0, outcome
