"""docker-compose.yml: valid for docker-compose, and consistent with the Rasa project."""

from __future__ import annotations

import subprocess

import yaml

from opastin.config import ROOT


def compose_config() -> dict:
    result = subprocess.run(
        [
            "docker-compose",
            "--env-file",
            str(ROOT / ".env.example"),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "config",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_is_valid_and_has_the_topology():
    config = compose_config()
    services = config["services"]
    assert set(services) == {"rasa", "actions", "postgres", "redis", "web"}
    assert services["rasa"]["deploy"]["replicas"] >= 2
    assert services["actions"]["deploy"]["replicas"] >= 2
    for name in ("rasa", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    for name in services:
        assert services[name]["restart"] == "unless-stopped", name


def test_rasa_talks_to_services_by_name():
    rasa = compose_config()["services"]["rasa"]
    env = rasa["environment"]
    assert env["ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"
    assert env["POSTGRES_HOST"] == "postgres" and env["REDIS_HOST"] == "redis"
    endpoints = yaml.safe_load((ROOT / "deploy" / "endpoints.yml").read_text())
    assert endpoints["tracker_store"]["dialect"] == "postgresql"
    assert endpoints["lock_store"]["type"] == "redis"
    assert endpoints["action_endpoint"]["url"] == "${ACTION_ENDPOINT_URL}"
    assert "/deploy/endpoints.yml" in rasa["command"]


def test_missing_secret_is_refused(tmp_path):
    env = tmp_path / ".env"
    env.write_text("POSTGRES_PASSWORD=x\n")  # REDIS_PASSWORD missing
    result = subprocess.run(
        [
            "docker-compose",
            "--env-file",
            str(env),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "config",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode != 0
    assert "set REDIS_PASSWORD in .env" in result.stderr
