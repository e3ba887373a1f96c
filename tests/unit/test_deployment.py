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
from functools import cache
from pathlib import Path

import pytest
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


@cache  # docker-compose takes a second or more per call; the files do not change in a run
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
    assert env["CONSOLE_TRACKER_URL"].startswith("postgresql://opastin_console:")
    assert env["CONSOLE_TRACKER_URL"].endswith("@postgres:5432/opastin")
    assert retention["depends_on"]["postgres"]["condition"] == "service_healthy"
    actions = config()["services"]["actions"]
    assert retention["image"] == actions["image"] and retention["build"] == actions["build"]
    # The console's code is in the image, not mounted from the host.
    assert "volumes" not in retention
    assert "COPY console ./console\n" in (DEPLOY / "Dockerfile.actions").read_text()
    assert (ROOT / "console" / "__main__.py").exists()


POSTGRES_INIT = "/docker-entrypoint-initdb.d/"


def test_rasa_and_the_console_log_in_with_their_own_roles_not_the_administrator() -> None:
    """The roles deploy/postgres-roles.sh makes (tests/scale/test_db_roles.py runs it on a
    real PostgreSQL); the administrator's password reaches no service but the database."""
    services = config()["services"]
    postgres = services["postgres"]["environment"]
    rasa = services["rasa"]["environment"]
    assert rasa["POSTGRES_USER"] == postgres["RASA_DB_USER"] == "opastin_rasa"
    assert rasa["POSTGRES_USER"] != postgres["POSTGRES_USER"]
    compose = (ROOT / "docker-compose.yml").read_text()
    assert "POSTGRES_PASSWORD: ${RASA_DB_PASSWORD:?" in compose
    url = services["retention"]["environment"]["CONSOLE_TRACKER_URL"]
    assert url.startswith(f"postgresql://{postgres['CONSOLE_DB_USER']}:")
    assert "${CONSOLE_DB_PASSWORD:?" in compose.split("CONSOLE_TRACKER_URL:")[1].splitlines()[0]
    users = {name: s.get("environment", {}) for name, s in services.items() if name != "postgres"}
    admin_password = "${POSTGRES_PASSWORD"
    leaks = [
        line.split(":")[0].strip()
        for line in compose.split("\n  postgres:")[0].splitlines()
        if admin_password in line
    ]
    assert leaks == [], f"the administrator's password is given to: {leaks} ({sorted(users)})"
    (init,) = [v for v in services["postgres"]["volumes"] if POSTGRES_INIT in v]
    host, container, mode = init.split(":")
    assert Path(host) == DEPLOY / "postgres-roles.sh" and mode == "ro"
    assert container.endswith(".sh") and Path(host).stat().st_mode & 0o111, "executable"


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "RASA_DB_PASSWORD", "CONSOLE_DB_PASSWORD"])
def test_the_roles_script_refuses_placeholder_passwords(name: str, tmp_path: Path) -> None:
    psql = tmp_path / "psql"  # first on PATH: records that a connection was tried
    psql.write_text(f"#!/bin/sh\ntouch {tmp_path / 'connected'}\nexit 2\n")
    psql.chmod(0o755)
    env = {
        "PATH": f"{tmp_path}:/usr/bin:/bin",
        "POSTGRES_USER": "admin",
        "POSTGRES_DB": "opastin",
        "RASA_DB_USER": "opastin_rasa",
        "CONSOLE_DB_USER": "opastin_console",
        "POSTGRES_PASSWORD": "a-real-one",
        "RASA_DB_PASSWORD": "another",
        "CONSOLE_DB_PASSWORD": "a-third",
    }
    example = dict(re.findall(r"^(\w+)=(.*)$", (ROOT / ".env.example").read_text(), re.M))
    result = subprocess.run(
        ["/bin/sh", str(DEPLOY / "postgres-roles.sh")],
        env={**env, name: f" {example[name].upper()} "},
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert result.returncode == 1
    assert f"{name} is still the placeholder of .env.example" in result.stderr
    assert not (tmp_path / "connected").exists(), "refused before connecting"


def test_the_roles_script_keeps_passwords_out_of_psqls_arguments(tmp_path: Path) -> None:
    """Arguments are readable by every process on the host (ps); the environment is not.
    tests/scale/test_db_roles.py logs in with the passwords the real psql set this way."""
    psql = tmp_path / "psql"  # first on PATH: records its arguments and what it reads
    psql.write_text(
        f'#!/bin/sh\nprintf "%s\\n" "$@" > {tmp_path / "argv"}\ncat > {tmp_path / "stdin"}\n'
        f"env > {tmp_path / 'env'}\n"
    )
    psql.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "POSTGRES_USER": "admin", "POSTGRES_DB": "opastin",
           "RASA_DB_USER": "opastin_rasa", "CONSOLE_DB_USER": "opastin_console",
           "POSTGRES_PASSWORD": "admin-secret-1", "RASA_DB_PASSWORD": "rasa-secret-2",
           "CONSOLE_DB_PASSWORD": "console-secret-3"}  # fmt: skip
    result = subprocess.run(["/bin/sh", str(DEPLOY / "postgres-roles.sh")], env=env,
                            capture_output=True, text=True, timeout=10)  # fmt: skip
    assert result.returncode == 0, result.stderr
    arguments = (tmp_path / "argv").read_text()
    assert "opastin_rasa" in arguments
    assert not any(secret in arguments for secret in ("secret-1", "secret-2", "secret-3"))
    child_env = (tmp_path / "env").read_text()
    assert "RASA_DB_PASSWORD=rasa-secret-2" in child_env
    assert "CONSOLE_DB_PASSWORD=console-secret-3" in child_env
    assert "\\getenv rasa_password RASA_DB_PASSWORD" in (tmp_path / "stdin").read_text()


def test_the_action_server_and_the_data_stores_are_on_internal_networks() -> None:
    """Only Rasa reaches the action server; nothing on those networks has a route out."""
    compose = config()
    networks = {
        name: set(service.get("networks", {})) for name, service in compose["services"].items()
    }
    members = {
        net: {s for s, nets in networks.items() if net in nets} for net in compose["networks"]
    }
    assert networks["actions"] == {"actions"}
    assert members["actions"] == {"rasa", "actions"}
    assert members["data"] == {"rasa", "retention", "postgres", "redis"}
    assert networks["web"] == {"edge"} and members["edge"] == {"web", "rasa"}
    assert compose["networks"]["actions"].get("internal") is True
    assert compose["networks"]["data"].get("internal") is True
    assert all(nets for nets in networks.values()), "no service on the default network"


def test_each_image_pip_installs_its_own_group_constrained_by_its_lock() -> None:
    """What tests/images/ runs in scratch venvs, read the same way."""
    from tests.dockerfiles import pip_install

    for dockerfile, group in (("Dockerfile.actions", "actions"), ("Dockerfile.rasa", "rasa")):
        install = pip_install(DEPLOY / dockerfile, ROOT)
        assert install.group == group, dockerfile
        lock = install.arguments[install.arguments.index("-c") + 1]
        assert Path(lock) == ROOT / "requirements" / f"{group}.lock", dockerfile
        assert install.arguments[install.arguments.index("-r") + 1] == install.group_file


def test_the_image_runs_the_server_alone_without_tensorflow(tmp_path: Path) -> None:
    """deploy/rasa-entrypoint.sh: `run` gets the stand-in unless the setting says false; other
    commands (train, shell) never, even with the switch inherited; a typo stops the start."""
    for name, body in (
        ("python", "exit 0"),
        ("rasa", 'echo "$1 ${OPASTIN_TENSORFLOW_STANDIN-unset}"'),
    ):
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)

    def entrypoint(command: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", str(DEPLOY / "rasa-entrypoint.sh"), command],
            env={"PATH": f"{tmp_path}:/usr/bin:/bin", **env},
            capture_output=True,
            text=True,
            timeout=10,
        )

    assert entrypoint("run").stdout == "run 1\n"
    assert entrypoint("run", OPASTIN_RASA_WITHOUT_TENSORFLOW="false").stdout == "run 0\n"
    assert entrypoint("train", OPASTIN_TENSORFLOW_STANDIN="1").stdout == "train unset\n"
    typo = entrypoint("run", OPASTIN_RASA_WITHOUT_TENSORFLOW="ture")
    assert typo.returncode == 2 and "must be true or false" in typo.stderr
