"""Throwaway servers for measurements: free ports, a stack with its own tracker store, REST timing.

Why here and not in opastin/stack.py: only the tools and the tests start servers on free ports
to measure them; the runner (`python -m opastin run`) uses the configured ports.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from opastin.config import Settings
from opastin.stack import Stack

# Sequential REST turns cycle through these: search-backed questions in several languages,
# a greeting and an out-of-scope request, as users mix them.
QUESTIONS = [
    "How do I get a tax card?",
    "I need a residence permit",
    "I am looking for a job",
    "Miten saan henkilötunnuksen?",
    "Hur ansöker jag om FPA-kort?",
    "hello",
    "Where can I learn Finnish?",
    "Как получить налоговую карту?",
    "I want to start a company in Helsinki",
    "tell me a joke",
]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def throwaway_stack(base: Settings, model: Path, workdir: Path) -> Iterator[Stack]:
    """Both servers on free ports with a tracker store in `workdir`, for measurements.

    The servers are always stopped, also when the caller fails.
    """
    settings = base.model_copy(
        update={
            "rasa_port": free_port(),
            "actions_port": free_port(),
            "tracker_db": workdir / "tracker.db",
        }
    )
    with Stack(settings, model, workdir / "logs").started() as stack:
        yield stack


def rest_latencies(stack: Stack, turns: int, sender_prefix: str) -> list[float]:
    """Seconds per REST turn, sequential; ten turns per conversation."""
    latencies = []
    for turn in range(turns):
        body = {"sender": f"{sender_prefix}-{turn // 10}", "message": QUESTIONS[turn % 10]}
        request = urllib.request.Request(
            f"{stack.rasa_url}/webhooks/rest/webhook",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        started = time.perf_counter()
        urllib.request.urlopen(request, timeout=60).read()
        latencies.append(time.perf_counter() - started)
    return latencies


def rss_mb(pid: int) -> float:
    """Resident memory of a process and all its children, in MiB."""
    import psutil  # here: the Rasa-venv tests import free_port and have no psutil

    process = psutil.Process(pid)
    total = process.memory_info().rss + sum(
        child.memory_info().rss for child in process.children(recursive=True)
    )
    return total / 2**20
