"""Browser fixtures: the real stack with the page server, a stand-in bot, and headless Chromium.

The browser is Debian's chromium (scripts/setup_web.sh --browser installs it; `make test` runs
that), driven by playwright-core from node_modules (tests/browser/drive.js). A missing browser
or widget fails these tests with the command that fixes it: they are never skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opastin.config import ROOT
from opastin.stack import QUIET_ENV, Stack
from opastin.web import WIDGET_BUNDLE, make_app
from tests.aiohttp_server import serve
from tests.chromium import observations, require_browser, run_driver
from tests.e2e.conftest import ARTIFACTS, e2e_settings
from tools.servers import free_port

DRIVER = Path(__file__).with_name("drive.js")
ECHO_BOT = Path(__file__).with_name("echo_bot.py")
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"


@pytest.fixture(scope="session")
def browser_tools() -> None:
    """Fail, never skip, when the browser, node, playwright-core or the widget is missing."""
    require_browser((f"the widget bundle {WIDGET_BUNDLE}", WIDGET_BUNDLE.exists()))


@pytest.fixture(scope="session")
def web_stack(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Action server and Rasa, told the page server's port so the connector allows its origin."""
    settings = e2e_settings(tmp_path_factory.mktemp("browser"))
    running = Stack(
        settings,
        prepared,
        ARTIFACTS / "logs" / "browser",
        env={"OPASTIN_HOST": settings.host, "OPASTIN_WEB_PORT": str(settings.web_port)},
    )
    with running.started():
        yield running


@pytest.fixture(scope="session")
def chat_page(web_stack: Stack) -> Iterator[str]:
    """The page server of `make run`, in front of the real stack: its base URL."""
    settings = web_stack.settings
    with serve(make_app(web_stack.rasa_url), settings.host, settings.web_port) as url:
        yield url


@pytest.fixture(scope="session")
def echo_bot() -> Iterator[dict[str, str]]:
    """Our connector in a Rasa-like app that echoes messages (tests/browser/echo_bot.py).

    It runs with `--cors` for the page's origin, as `rasa run --cors` would, to show that the
    two CORS layers do not send the header twice. Yields the bot's and the page's URLs.
    """
    page_port = free_port()
    page_origin = f"http://127.0.0.1:{page_port}"
    log_file = ARTIFACTS / "logs" / "browser" / "echo_bot.log"
    log_file.parent.mkdir(parents=True, exist_ok=True)
    args = ["--origins", page_origin, "--cors", page_origin]
    with (
        running_echo_bot(RASA_PYTHON, args, {}, log_file) as bot_url,
        serve(make_app(bot_url), "127.0.0.1", page_port) as page_url,
    ):
        yield {"bot": bot_url, "page": page_url}


@contextlib.contextmanager
def running_echo_bot(
    python: Path | str,
    args: list[str],
    env: dict[str, str],
    log_file: Path,
    timeout: float = 120,
) -> Iterator[str]:
    """tests/browser/echo_bot.py on a free port with `args` and extra `env`: its URL, for the
    `with` block; always stopped, also when the block fails."""
    port = free_port()
    command = [str(python), str(ECHO_BOT), "--port", str(port), *args]
    full_env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(ROOT / "bot"), **env}
    with log_file.open("w") as log:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(url + "/", process, log_file, timeout=timeout)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def wait_http(url: str, process: subprocess.Popen, log_file: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{url} exited; log:\n{log_file.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.25)
    raise RuntimeError(f"{url} not ready after {timeout} s; log:\n{log_file.read_text()[-3000:]}")


def drive(**config: Any) -> dict[str, Any]:
    """Run one scenario of drive.js in headless Chromium; its observations, or a test failure."""
    result = run_driver(DRIVER, config, timeout=600)
    if result.returncode != 0:
        pytest.fail(f"browser scenario {config['scenario']!r} failed:\n{result.stderr[-6000:]}")
    return observations(result)


def tracker_events(db: Path, sender_id: str) -> list[dict[str, Any]]:
    """The conversation's events as Rasa stored them (SQL tracker store), oldest first."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (sender_id,)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def user_messages(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e.get("event") == "user"]
