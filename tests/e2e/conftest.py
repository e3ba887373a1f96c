"""End-to-end fixtures: the real action server and Rasa server, on free ports.

The index and the trained model are the project's own (var/), built or trained only when
missing, exactly as `make run` does; each test session gets its own tracker store and logs.
The servers are always stopped, also when a test fails.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from opastin.config import ROOT, Settings
from opastin.stack import Stack
from tools.servers import free_port

ARTIFACTS = ROOT / "test-artifacts"


def e2e_settings(tmp: Path) -> Settings:
    return Settings(
        rasa_port=free_port(),
        actions_port=free_port(),
        web_port=free_port(),
        tracker_db=tmp / "tracker.db",
    )


@pytest.fixture(scope="session")
def stack(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    settings = e2e_settings(tmp_path_factory.mktemp("e2e"))
    with Stack(settings, prepared, ARTIFACTS / "logs").started() as running:
        yield running


def post_json(url: str, payload: Any, timeout: float = 30) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        body = error.read()
        try:
            return error.code, json.loads(body)
        except ValueError:
            return error.code, body.decode(errors="replace")


def ask(stack: Stack, sender: str, message: str, **metadata: Any) -> list[dict[str, Any]]:
    """Send one message over the REST channel; return the bot's messages."""
    status, replies = post_json(
        f"{stack.rasa_url}/webhooks/rest/webhook",
        {"sender": sender, "message": message, "metadata": metadata},
    )
    assert status == 200, replies
    return replies


def payload(replies: list[dict[str, Any]]) -> dict[str, Any]:
    customs = [r["custom"] for r in replies if "custom" in r]
    assert len(customs) == 1, f"expected one custom payload, got {replies}"
    return customs[0]
