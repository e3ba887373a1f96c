"""Dialogue benchmark: server ready times and REST turn latency over real servers.

    python -m tools.bench.turns [--turns 100]

Starts the action server and the Rasa server as `make run` does (on free ports, a throwaway
tracker store), then sends questions one at a time and prints p50/p95 latency and RSS.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from opastin.config import Settings
from opastin.stack import ensure_index, ensure_model
from tools.servers import rest_latencies, rss_mb, throwaway_stack
from tools.stats import percentiles_ms


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
        ms = percentiles_ms(latencies, (50, 95))
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
            f"p50 {ms[50]:.0f} ms, p95 {ms[95]:.0f} ms, max {max(latencies) * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
