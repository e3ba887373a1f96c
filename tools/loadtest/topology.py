"""The local topology: PostgreSQL/Redis (or SQLite), action servers and Rasa instances.

Rasa's scaling model without containers, on loopback, started and stopped by the load test
and the scale tests.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from opastin.config import ROOT, Settings
from opastin.stack import BOT_DIR, Stack
from opastin.yaml_files import read_yaml
from tools.servers import free_port

RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
SERVICES_SCRIPT = ROOT / "scripts" / "local_services.sh"
PREFLIGHT = BOT_DIR / "preflight.py"
DEPLOY_ENDPOINTS = ROOT / "deploy" / "endpoints.yml"

Store = Literal["sqlite", "postgres"]
LockStoreKind = Literal["atomic", "redis", "none"]


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


def run_preflight(env: dict[str, str], timeout: float) -> None:
    """bot/preflight.py in Rasa's environment: RuntimeError with its message on failure."""
    result = subprocess.run(
        [str(RASA_PYTHON), str(PREFLIGHT), "--timeout", str(timeout)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout + 30,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or result.stdout.strip())


def in_parallel(tasks: list[Callable[[], None]]) -> None:
    """Start servers side by side (each mostly waits for its model to load); raise the first
    failure after all have finished."""
    errors: list[BaseException] = []

    def run(task: Callable[[], None]) -> None:
        try:
            task()
        except BaseException as error:  # re-raised below in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(task,)) for task in tasks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@dataclass
class LocalTopology:
    """Rasa's scaling model without containers: n Rasa instances, m action servers, one store.

    store="postgres": PostgreSQL tracker store and Redis lock store (deploy/endpoints.yml),
    from scripts/local_services.sh; store="sqlite": the embedded default (bot/endpoints.yml),
    one SQLite file shared by the instances and each instance's own in-memory lock.
    """

    settings: Settings
    model: Path
    work_dir: Path
    store: Store = "postgres"
    rasa_instances: int = 2
    action_servers: int = 1
    # postgres only: "atomic" is deploy/endpoints.yml; "redis" is Rasa's own RedisLockStore and
    # "none" each instance's in-memory lock, to show what the atomic lock store prevents.
    lock_store: LockStoreKind = "atomic"
    services: dict[str, str] = field(default_factory=dict)  # given, or started by start()
    preflight_timeout: float = 15.0
    actions: list[Stack] = field(default_factory=list)
    rasa: list[Stack] = field(default_factory=list)
    owns_services: bool = False

    @property
    def rasa_urls(self) -> list[str]:
        return [stack.rasa_url for stack in self.rasa]

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.settings.web_port}"

    @property
    def tracker_db_url(self) -> str:
        if self.store == "sqlite":
            return f"sqlite:///{self.settings.tracker_path}"
        s = self.services
        return (
            f"postgresql://{s['POSTGRES_USER']}:{s['POSTGRES_PASSWORD']}@{s['POSTGRES_HOST']}:"
            f"{s['POSTGRES_PORT']}/{s['POSTGRES_DB']}"
        )

    def start_services(self) -> None:
        if self.store != "postgres" or self.services:
            return
        self.owns_services = True
        subprocess.run([str(SERVICES_SCRIPT), "start", str(self.work_dir / "services")], check=True)
        self.services = read_env_file(self.work_dir / "services" / "services.env")

    def endpoints(self) -> Path:
        if self.store == "sqlite":
            return BOT_DIR / "endpoints.yml"
        if self.lock_store == "atomic":
            return DEPLOY_ENDPOINTS
        config = read_yaml(DEPLOY_ENDPOINTS)
        if self.lock_store == "redis":
            config["lock_store"]["type"] = "redis"
        else:
            config.pop("lock_store")
        path = self.work_dir / f"endpoints-lock-{self.lock_store}.yml"
        path.write_text(yaml.safe_dump(config))
        return path

    def start(self, timeout: float = 240) -> None:
        """Services, preflight, action servers, then the Rasa instances (each set in parallel)."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.start_services()
        # bot/ on Rasa's path: our lock store, connectors and policies.
        env = {
            "OPASTIN_WEB_PORT": str(self.settings.web_port),
            "PYTHONPATH": str(BOT_DIR),
            # Throughput from one address is the point here: the connectors' abuse limits
            # (tested in tests/rasa_venv) would cut it. The replicas share var/session_secret.
            "OPASTIN_RATE_PER_CONVERSATION": "0",
            "OPASTIN_RATE_PER_IP": "0",
        }
        if self.store == "postgres":
            run_preflight(self.services, timeout=self.preflight_timeout)
            env.update(self.services)
        for i in range(self.action_servers):
            settings = self.settings.model_copy(update={"actions_port": free_port()})
            self.actions.append(Stack(settings, self.model, self.work_dir / f"actions-{i}", env))
        in_parallel([lambda s=s: s.start_actions(timeout) for s in self.actions])
        for i in range(self.rasa_instances):
            action_server = self.actions[i % len(self.actions)].settings
            settings = action_server.model_copy(update={"rasa_port": free_port()})
            rasa_env = {
                **env,
                "ACTION_ENDPOINT_URL": f"http://127.0.0.1:{settings.actions_port}/webhook",
            }
            stack = Stack(settings, self.model, self.work_dir / f"rasa-{i}", rasa_env)
            stack.endpoints = self.endpoints()
            self.rasa.append(stack)
        in_parallel([lambda s=s: s.start_rasa(timeout) for s in self.rasa])

    def restart_rasa(self, instance: int, timeout: float = 240) -> None:
        self.rasa[instance].stop()
        self.rasa[instance].start_rasa(timeout)

    def stop(self) -> None:
        for stack in [*self.rasa, *self.actions]:
            stack.stop()
        if self.owns_services:
            subprocess.run([str(SERVICES_SCRIPT), "stop", str(self.work_dir / "services")])
            self.services = {}
            self.owns_services = False


@contextlib.contextmanager
def local_topology(**kwargs: Any) -> Iterator[LocalTopology]:
    topology = LocalTopology(**kwargs)
    try:
        topology.start()
        yield topology
    finally:
        topology.stop()
