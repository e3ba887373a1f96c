"""docker-compose.yml and deploy/: valid for docker-compose, and consistent with each other.

No Docker engine runs here, so what can be checked without one is checked statically: the
compose file through Debian's `docker-compose config`, service names in the endpoints, ports,
volumes, the variables every file expects, and what the images copy. The same endpoints file,
lock store and preflight (bot/) and nginx.conf run for real in tests/scale.
"""

from __future__ import annotations

import copy
import functools
import re
import subprocess
from pathlib import Path

import yaml

from opastin.config import ROOT

DEPLOY = ROOT / "deploy"
BOT = ROOT / "bot"  # the Rasa project and its Python code, copied to /app in the image
SERVICES = {"rasa", "actions", "postgres", "redis", "web", "retention"}


def compose_config(env_file: Path = ROOT / ".env.example") -> subprocess.CompletedProcess:
    compose = ROOT / "docker-compose.yml"
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", str(compose), "config"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def config() -> dict:
    """The resolved compose file, a fresh copy for each test (docker-compose runs once)."""
    return copy.deepcopy(_resolved_config())


@functools.cache
def _resolved_config() -> dict:
    result = compose_config()
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def variables(text: str) -> set[str]:
    """${NAME}, ${NAME:-default} and ${NAME:?message} references outside comments."""
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", code))


def test_compose_file_is_valid_and_has_the_topology() -> None:
    services = config()["services"]
    assert set(services) == SERVICES
    assert services["rasa"]["deploy"]["replicas"] >= 2
    assert services["actions"]["deploy"]["replicas"] >= 2
    for name in SERVICES:
        assert "healthcheck" in services[name], name
        assert services[name]["restart"] == "unless-stopped", name


def test_only_nginx_is_published_and_it_proxies_to_rasa() -> None:
    services = config()["services"]
    assert [name for name in services if services[name].get("ports")] == ["web"]
    (port,) = services["web"]["ports"]
    assert port["target"] == 8080 and str(port["published"]) == "8080"
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "listen 8080;" in nginx
    assert nginx.count("server rasa:5005") == 2  # REST and socket.io upstreams
    assert re.search(r"upstream rasa_socketio \{\s*ip_hash;", nginx), "socket.io must stick"
    assert services["web"]["depends_on"]["rasa"]["condition"] == "service_healthy"


def test_rasa_talks_to_services_by_name() -> None:
    rasa = config()["services"]["rasa"]
    env = rasa["environment"]
    assert env["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
    assert env["POSTGRES_HOST"] == "postgres" and env["REDIS_HOST"] == "redis"
    assert env["POSTGRES_PORT"] == "5432" and env["REDIS_PORT"] == "6379"
    endpoints = yaml.safe_load((DEPLOY / "endpoints.yml").read_text())
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "lock_store.AtomicRedisLockStore"
    assert endpoints["action_endpoint"]["url"] == "${ACTION_ENDPOINT_URL}"
    assert "--endpoints endpoints.yml" in rasa["command"]
    for name in ("postgres", "redis", "actions"):
        assert rasa["depends_on"][name]["condition"] == "service_healthy", name


def test_every_variable_rasa_reads_is_set_in_compose() -> None:
    env = config()["services"]["rasa"]["environment"]
    needed = variables((DEPLOY / "endpoints.yml").read_text())
    preflight = (BOT / "preflight.py").read_text()
    needed |= set(re.findall(r'env\["([A-Z_]+)"\]', preflight))
    assert needed <= set(env), needed - set(env)
    assert all(env[name] not in ("", None) for name in needed)


def test_env_example_documents_every_compose_variable() -> None:
    used = variables((ROOT / "docker-compose.yml").read_text())
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    assert used == documented, (used - documented, documented - used)


def test_rasa_image_carries_the_deploy_files_and_checks_first() -> None:
    dockerfile = (DEPLOY / "Dockerfile.rasa").read_text()
    assert "FROM rasa/rasa:3.6.21-full" in dockerfile
    assert "COPY deploy/endpoints.yml /app/endpoints.yml" in dockerfile
    assert "COPY bot /app\n" in dockerfile and "PYTHONPATH=/app" in dockerfile
    # The lock store class the endpoints name is importable from /app, that is from bot/.
    lock_store = yaml.safe_load((DEPLOY / "endpoints.yml").read_text())["lock_store"]["type"]
    module, _, name = lock_store.rpartition(".")
    source = (BOT / (module.replace(".", "/") + ".py")).read_text()
    assert source.count(f"class {name}(") == 1, lock_store
    assert (BOT / "preflight.py").exists()
    assert 'ENTRYPOINT ["opastin-rasa"]' in dockerfile
    entrypoint = (DEPLOY / "rasa-entrypoint.sh").read_text()
    assert "python /app/preflight.py" in entrypoint and 'exec rasa "$@"' in entrypoint
    assert (DEPLOY / "rasa-entrypoint.sh").stat().st_mode & 0o111, "executable"
    grace = config()["services"]["rasa"]["stop_grace_period"]
    assert int(grace.rstrip("s")) > 15, "longer than Sanic's graceful shutdown"


def test_volumes_and_mounted_files_exist() -> None:
    services = config()["services"]
    assert "postgres-data:/var/lib/postgresql/data:rw" in services["postgres"]["volumes"]
    for volume in services["web"]["volumes"]:  # host:container:mode
        assert Path(volume.split(":")[0]).exists(), volume


def test_missing_secret_is_refused(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x\n")  # REDIS_PASSWORD missing
    result = compose_config(env)
    assert result.returncode != 0
    assert "set REDIS_PASSWORD in .env" in result.stderr


def test_operations_doc_names_every_setting() -> None:
    """docs/operations.md is the configuration reference: a new setting must appear there."""
    from opastin.config import ENV_PREFIX, Settings

    doc = (ROOT / "docs" / "operations.md").read_text()
    settings = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    example = (ROOT / ".env.example").read_text()
    compose = set(re.findall(r"^([A-Z_][A-Z0-9_]*)=", example, flags=re.MULTILINE))
    missing = sorted(name for name in settings | compose if f"`{name}`" not in doc)
    assert not missing, f"add to docs/operations.md's configuration reference: {missing}"


def test_retention_runs_as_a_service_on_a_schedule() -> None:
    """Privacy by default: compose deletes old conversations daily (docs/privacy.md)."""
    retention = config()["services"]["retention"]
    command = retention["command"]
    assert command[:4] == ["python", "-m", "console", "retention"]
    assert command[command.index("--every") + 1] == "24h"
    env = retention["environment"]
    assert env["CONSOLE_RETENTION_DAYS"] == "90"  # .env.example's RETENTION_DAYS
    assert env["CONSOLE_TRACKER_URL"].startswith("postgresql://opastin:")
    assert env["CONSOLE_TRACKER_URL"].endswith("@postgres:5432/opastin")
    assert retention["depends_on"]["postgres"]["condition"] == "service_healthy"
    actions = config()["services"]["actions"]
    assert retention["image"] == actions["image"] and retention["build"] == actions["build"]
    (volume,) = retention["volumes"]  # host:container:mode
    host, container, mode = volume.split(":")
    assert (Path(host).name, container, mode) == ("console", "/app/console", "ro")
    assert (Path(host) / "__main__.py").exists()
