"""The console's tracker-store access on a real PostgreSQL, the production tracker store.

A private PostgreSQL on loopback (scripts/local_services.sh, as tests/scale uses); Rasa's own
SQLTrackerStore writes the events; the console's code reads, filters and deletes them. The
check runs under the Rasa venv's Python (SQLAlchemy 1.4, psycopg2), then the console's own venv
(SQLAlchemy 2, psycopg 3) reads what is left through a `postgresql+psycopg2://` URL, the form
the console once mistook for an SQLite path.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.store import TrackerStore, TrackerStoreError
from opastin.config import ROOT
from opastin.stack import QUIET_ENV
from tests.console.conftest import DAY, Conversation

pytestmark = [pytest.mark.slow]

SERVICES = ROOT / "scripts" / "local_services.sh"
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    state = tmp_path_factory.mktemp("pg-services")
    started = subprocess.run(
        ["bash", str(SERVICES), "start", str(state)], capture_output=True, text=True, timeout=180
    )
    try:
        assert started.returncode == 0, started.stderr + started.stdout
        env_file = (state / "services.env").read_text()
        yield dict(line.split("=", 1) for line in env_file.splitlines() if "=" in line)
    finally:
        subprocess.run(["bash", str(SERVICES), "stop", str(state)], timeout=120)


def test_read_summarise_and_purge_conversations_in_postgresql(postgres, tmp_path: Path):
    now = time.time()
    conversations = {
        "pg-old": Conversation("pg-old", now - 40 * DAY).user("hello", "greet").events,
        "pg-new": Conversation("pg-new", now - DAY)
        .user("qwzx blorp, call 040 1234567", "nlu_fallback", 0.2)
        .no_answer()
        .events,
    }
    data = tmp_path / "conversations.json"
    data.write_text(json.dumps(conversations))
    env = {**os.environ, **QUIET_ENV, **postgres, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [str(RASA_PYTHON), str(Path(__file__).with_name("pg_store_check.py")), str(data), str(now)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["describe"].startswith("PostgreSQL 127.0.0.1:")
    assert postgres["POSTGRES_PASSWORD"] not in seen["describe"]
    assert seen["keys"] == {s: len(e) for s, e in conversations.items()}
    assert seen["events_match"] is True
    assert seen["previews"] == {"pg-old": "hello", "pg-new": "qwzx blorp, call <PHONE>"}
    assert seen["fallback"] == ["pg-new"]
    assert seen["idle"] == ["pg-old"]
    assert seen["purged"] == ["pg-old"] and seen["purged_events"] == len(conversations["pg-old"])
    assert seen["left"] == ["pg-new"]

    user, password = postgres["POSTGRES_USER"], postgres["POSTGRES_PASSWORD"]
    where = f"{postgres['POSTGRES_HOST']}:{postgres['POSTGRES_PORT']}/{postgres['POSTGRES_DB']}"
    store = TrackerStore(f"postgresql+psycopg2://{user}:{password}@{where}")
    assert store.describe() == f"PostgreSQL {where}"
    assert {s: k.events for s, k in store.keys().items()} == {
        "pg-new": len(conversations["pg-new"])
    }
    assert [e["event"] for e in store.events("pg-new")] == [
        e["event"] for e in conversations["pg-new"]
    ]
    wrong = f"wrong-{password}-wrong"
    with pytest.raises(TrackerStoreError, match="password authentication failed") as refused:
        TrackerStore(f"postgresql://{user}:{wrong}@{where}").keys()
    assert password not in str(refused.value)
