"""Dialogue benchmark: server ready times and REST turn latency over real servers.

    python -m tools.bench.turns [--turns 100]

Starts the action server and the Rasa server as `make run` does (on free ports, a throwaway
tracker store), then sends questions one at a time and prints p50/p95 latency and RSS.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil

from opastin.config import Settings
from opastin.stack import Stack, ensure_index, ensure_model, throwaway_stack

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


def percentile_ms(samples: list[float], percent: int) -> float:
    ordered = sorted(samples)
    if percent == 50:
        return statistics.median(ordered) * 1000
    return ordered[min(len(ordered) - 1, round(percent / 100 * (len(ordered) - 1)))] * 1000


def rss_mb(pid: int) -> float:
    process = psutil.Process(pid)
    total = process.memory_info().rss + sum(
        child.memory_info().rss for child in process.children(recursive=True)
    )
    return total / 2**20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.turns")
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args(argv)
    base = Settings.from_env()
    base.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_index(base)
    model = ensure_model(base)
    with tempfile.TemporaryDirectory() as tmp, throwaway_stack(base, model, Path(tmp)) as stack:
        latencies = rest_latencies(stack, args.turns, "bench")
        p50, p95 = percentile_ms(latencies, 50), percentile_ms(latencies, 95)
        pids = {p.name: p.popen.pid for p in stack.processes}
        print(f"model: {model.name}")
        print(
            f"action server ready: {stack.ready_seconds['actions']:.1f} s, "
            f"RSS {rss_mb(pids['actions']):.0f} MB"
        )
        print(
            f"Rasa server ready:   {stack.ready_seconds['rasa']:.1f} s, "
            f"RSS {rss_mb(pids['rasa']):.0f} MB"
        )
        print(
            f"REST turn latency over {len(latencies)} sequential turns: "
            f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
