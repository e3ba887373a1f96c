"""Unit tests of the code that runs in the Rasa venv (bot/): run them with that venv.

    .venvs/rasa/bin/python -m pytest tests/rasa_venv      (or: make test-rasa)

No trained model and no server: the connectors' rules on plain data, the featurizer on a few
messages, the policy on real trackers, the lock store on a private redis-server.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest

from opastin.config import ROOT
from opastin.stack import BOT_DIR
from tools.servers import free_port

if importlib.util.find_spec("rasa") is None:
    pytest.exit(
        "tests/rasa_venv needs Rasa: run it with .venvs/rasa/bin/python -m pytest tests/rasa_venv",
        returncode=4,
    )
# As Rasa imports them (PYTHONPATH=bot): connectors.*, components.*, policies.*, lock_store.
if str(BOT_DIR) not in sys.path:
    sys.path.insert(0, str(BOT_DIR))


@pytest.fixture(scope="session")
def redis_options(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """A private redis-server on loopback (no persistence, a password): its connection options.

    Started directly rather than by scripts/local_services.sh, which also initialises a
    PostgreSQL cluster (about 15 s); the lock store needs only Redis, which starts in
    milliseconds. A missing redis-server fails the test: scripts/system_deps.sh installs it.
    """
    server = shutil.which("redis-server")
    assert server, "redis-server is not installed (run scripts/system_deps.sh)"
    import redis

    port, password = free_port(), "rasa-venv-tests"
    work_dir = tmp_path_factory.mktemp("redis")
    command = [server, "--bind", "127.0.0.1", "--port", str(port), "--requirepass", password]
    command += ["--save", "", "--appendonly", "no", "--dir", str(work_dir)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    options = {"host": "127.0.0.1", "port": port, "password": password}
    try:
        client = redis.StrictRedis(**options, socket_connect_timeout=1)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert process.poll() is None, f"redis-server exited with {process.returncode}"
                assert time.monotonic() < deadline, "redis-server did not answer within 10 s"
                time.sleep(0.05)
        client.close()
        yield options
    finally:
        process.terminate()
        process.wait(timeout=10)


DEPLOY_ENDPOINTS = ROOT / "deploy" / "endpoints.yml"


@pytest.fixture
def store(redis_options: dict, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The lock store deploy/endpoints.yml configures, created by Rasa's own factory."""
    for name in re.findall(r"\$\{([A-Z_]+)\}", DEPLOY_ENDPOINTS.read_text()):
        monkeypatch.setenv(name, "unused-here")  # Rasa expands the whole file
    monkeypatch.setenv("REDIS_HOST", str(redis_options["host"]))
    monkeypatch.setenv("REDIS_PORT", str(redis_options["port"]))
    monkeypatch.setenv("REDIS_PASSWORD", str(redis_options["password"]))
    from lock_store import AtomicRedisLockStore
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import read_endpoint_config

    created = LockStore.create(read_endpoint_config(str(DEPLOY_ENDPOINTS), "lock_store"))
    assert type(created) is AtomicRedisLockStore
    return created


@pytest.fixture(scope="session")
def domain() -> Any:
    """bot/domain.yml as Rasa loads it (seconds), once for every test that needs the project's
    domain; a test module with a domain of its own defines its own `domain` fixture."""
    from rasa.shared.core.domain import Domain

    return Domain.load(str(BOT_DIR / "domain.yml"))
