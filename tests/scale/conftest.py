"""The multi-instance topology without containers: real PostgreSQL and Redis on loopback, two
Rasa instances and an action server sharing them (tools.loadtest.LocalTopology).

Started once per test session and always stopped; logs stay in test-artifacts/scale/. A
missing PostgreSQL or Redis fails the start (scripts/system_deps.sh installs them; `make test`
runs it first), it is never skipped.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from opastin.config import ROOT, Settings
from tools.loadtest import (
    SERVICES_SCRIPT,
    Conversation,
    LoadPlan,
    LocalTopology,
    read_env_file,
    run_load,
)
from tools.servers import free_port

ARTIFACTS = ROOT / "test-artifacts" / "scale"


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """PostgreSQL and Redis from Debian's packages, private to this test session."""
    state = tmp_path_factory.mktemp("services")
    import subprocess

    subprocess.run([str(SERVICES_SCRIPT), "start", str(state)], check=True, timeout=120)
    try:
        yield read_env_file(state / "services.env")
    finally:
        subprocess.run([str(SERVICES_SCRIPT), "stop", str(state)], timeout=120)


def topology_settings(work_dir: Path) -> Settings:
    return Settings(
        rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
        tracker_db=work_dir / "tracker.db",
    )


@pytest.fixture(scope="session")
def topology(prepared: Path, services: dict[str, str]) -> Iterator[LocalTopology]:
    """Two Rasa instances, one action server, PostgreSQL tracker store, Redis lock store."""
    work_dir = ARTIFACTS / "topology"
    running = LocalTopology(
        settings=topology_settings(work_dir),
        model=prepared,
        work_dir=work_dir,
        store="postgres",
        rasa_instances=2,
        action_servers=1,
        services=services,
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()


class BackgroundLoad:
    """A bounded load run in its own thread, so that a test can break things meanwhile."""

    def __init__(self, topology: LocalTopology, plan: LoadPlan) -> None:
        self.result: tuple[list[Conversation], float] | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(topology, plan), daemon=True)
        self.thread.start()

    def _run(self, topology: LocalTopology, plan: LoadPlan) -> None:
        try:
            self.result = asyncio.run(run_load(topology.rasa_urls, plan, topology.origin))
        except BaseException as error:  # handed to the test in wait()
            self.error = error

    def wait(self, timeout: float) -> tuple[list[Conversation], float]:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"the load did not finish within {timeout} s"
        if self.error:
            raise self.error
        assert self.result is not None
        return self.result
