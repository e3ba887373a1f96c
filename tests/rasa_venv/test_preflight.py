"""The preflight check: a clear error within its bound, never a hang (bot/preflight.py).

Redis is the private redis-server of conftest.py; PostgreSQL is a port where nothing listens
(a real PostgreSQL runs in tests/scale, where the preflight must pass).
"""

from __future__ import annotations

import re
import time

import preflight
import pytest
import redis

from opastin.config import ROOT
from tools.servers import free_port


@pytest.fixture
def environment(redis_options: dict, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(free_port()),  # nothing listens there
        "POSTGRES_DB": "opastin",
        "POSTGRES_USER": "opastin",
        "POSTGRES_PASSWORD": "secret",
        "REDIS_HOST": str(redis_options["host"]),
        "REDIS_PORT": str(redis_options["port"]),
        "REDIS_PASSWORD": str(redis_options["password"]),
        "OPASTIN_SESSION_SECRET": "s" * 48,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_missing_variables_are_named(monkeypatch, capsys) -> None:
    for name in ("POSTGRES_HOST", "POSTGRES_PASSWORD", "REDIS_PORT"):
        monkeypatch.delenv(name, raising=False)
    assert preflight.main(["--timeout", "1"]) == 1
    error = capsys.readouterr().err
    assert "not set:" in error
    assert all(name in error for name in ("POSTGRES_HOST", "POSTGRES_PASSWORD", "REDIS_PORT"))


def test_redis_answers_and_an_unreachable_database_fails_within_the_bound(
    environment, capsys
) -> None:
    started = time.monotonic()
    assert preflight.main(["--timeout", "2"]) == 1
    assert time.monotonic() - started < 10, "bounded by --timeout, plus one try"
    out, error = capsys.readouterr()
    assert f"Redis (lock store) at 127.0.0.1:{environment['REDIS_PORT']}: ok" in out
    assert "PostgreSQL (tracker store)" in error and "unreachable after 2 s" in error
    assert "OperationalError" in error, "the driver's own reason, first line only"
    assert "Rasa not started" in error


def test_redis_is_checked_with_its_password(environment) -> None:
    preflight.check_redis(environment, timeout=1)
    with pytest.raises(redis.AuthenticationError):
        preflight.check_redis({**environment, "REDIS_PASSWORD": "wrong"}, timeout=1)


def test_wait_for_retries_until_the_check_passes(capsys) -> None:
    attempts = []

    def check(timeout: float) -> None:
        attempts.append(timeout)
        if len(attempts) < 2:
            raise ConnectionRefusedError("not yet")

    assert preflight.wait_for("Thing", "here", check, time.monotonic() + 5) is None
    assert len(attempts) == 2 and all(1.0 <= t <= 5.0 for t in attempts)
    assert "Thing at here: ok" in capsys.readouterr().out


def test_first_line_keeps_the_type_and_the_first_line() -> None:
    error = ValueError("first line\nsecond line")
    assert preflight.first_line(error) == "ValueError: first line"
    assert preflight.first_line(RuntimeError()) == "RuntimeError: "


@pytest.mark.parametrize("name", ["POSTGRES_PASSWORD", "REDIS_PASSWORD", "OPASTIN_SESSION_SECRET"])
@pytest.mark.parametrize("value", ["change-me", " Change-Me ", "changeme"])
def test_a_placeholder_password_is_refused_before_connecting(
    environment, capsys, name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    started = time.monotonic()
    assert preflight.main(["--timeout", "30"]) == 1
    assert time.monotonic() - started < 1, "refused at once, not after the connection timeout"
    out, error = capsys.readouterr()
    assert f"{name} still the placeholder of .env.example" in error
    assert out == "", "nothing was tried"


def test_the_placeholder_is_the_one_env_example_ships() -> None:
    example = (ROOT / ".env.example").read_text()
    shipped = dict(re.findall(r"^(\w+)=(.*)$", example, flags=re.MULTILINE))
    for name in preflight.SECRETS:
        assert shipped[name].lower() in preflight.PLACEHOLDER_SECRETS, name


@pytest.mark.parametrize("value", ["", "x" * 31, "short-but-not-the-placeholder"])
def test_a_short_session_secret_is_refused_before_connecting(
    environment, capsys, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connector would refuse it only once Rasa starts; preflight says so first, at once."""
    monkeypatch.setenv("OPASTIN_SESSION_SECRET", value)
    started = time.monotonic()
    assert preflight.main(["--timeout", "30"]) == 1
    assert time.monotonic() - started < 1
    out, error = capsys.readouterr()
    assert "OPASTIN_SESSION_SECRET is shorter than 32 characters" in error
    assert out == "", "nothing was tried"


def test_a_long_session_secret_or_none_passes_to_the_connection_checks(
    environment, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """32 characters pass; unset is the connector's own file (`make run`, the load test)."""
    for secret in ("y" * 32, None):
        if secret is None:
            monkeypatch.delenv("OPASTIN_SESSION_SECRET")
        else:
            monkeypatch.setenv("OPASTIN_SESSION_SECRET", secret)
        assert preflight.main(["--timeout", "1"]) == 1  # PostgreSQL is not there
        out, error = capsys.readouterr()
        assert "Redis (lock store)" in out and "OPASTIN_SESSION_SECRET" not in error
