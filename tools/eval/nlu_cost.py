"""The server cost of an NLU pipeline: full-model training time, Rasa ready time, REST p50/p95.

Part of `python -m tools.eval.nlu` (tools/eval/nlu_compare.py); runs in the actions venv and
starts the real servers on free ports.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from opastin.yaml_files import read_yaml
from tools.eval.nlu import BOT_DIR


def full_config(pipeline_config: Path, target: Path) -> Path:
    """bot/config.yml with its pipeline replaced by `pipeline_config`'s (policies kept)."""
    import yaml

    base = read_yaml(BOT_DIR / "config.yml")
    base["pipeline"] = read_yaml(pipeline_config)["pipeline"]
    target.write_text(yaml.safe_dump(base, sort_keys=False, allow_unicode=True))
    return target


def bench_pipeline(pipeline_config: Path, turns: int = 100) -> dict[str, float]:
    """Train a full model with this pipeline, start both servers, time ready and REST turns."""

    from opastin.config import Settings
    from opastin.stack import QUIET_ENV, RASA_BIN, ensure_index
    from tools.servers import rest_latencies, throwaway_stack
    from tools.stats import percentiles_ms

    base = Settings.from_env()
    base.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_index(base)
    with tempfile.TemporaryDirectory() as tmp:
        config = full_config(pipeline_config, Path(tmp) / "config.yml")
        env = {**os.environ, **QUIET_ENV, "PYTHONPATH": str(BOT_DIR), "RASA_MAX_CACHE_SIZE": "0"}
        command = [
            str(RASA_BIN), "train", "--config", str(config), "--domain", "domain.yml",
            "--data", "data", "--out", tmp, "--fixed-model-name", "bench",
        ]  # fmt: skip
        started = time.perf_counter()
        trained = subprocess.run(command, cwd=BOT_DIR, env=env, capture_output=True, text=True)
        train_seconds = time.perf_counter() - started
        model = Path(tmp) / "bench.tar.gz"
        if trained.returncode != 0 or not model.exists():
            raise RuntimeError(f"rasa train failed:\n{trained.stdout[-3000:]}{trained.stderr}")
        with throwaway_stack(base, model, Path(tmp)) as stack:
            latencies = rest_latencies(stack, turns, "nlu-bench")
    return {
        "train_seconds": train_seconds,
        "ready_seconds": stack.ready_seconds["rasa"],
        "p50_ms": percentiles_ms(latencies)[50],
        "p95_ms": percentiles_ms(latencies)[95],
    }
