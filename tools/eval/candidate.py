"""Evaluate a Rasa model with a search index, as `make eval` and the evaluation tests do.

    python -m tools.eval.candidate --live-index var/index --index DIR --model M.tar.gz
        [--running-model R.tar.gz --running-index DIR] --dev F.. --holdout F.. --nlu F..
        --out result.json

Run by the console's training job (console/training.py) as a subprocess of the actions venv, so
the encoder and faiss never load into the console's own process. Retrieval: acc@1 per
language on the dev and held-out sets and the "rephrase" fallback rate (tools.eval.retrieval's
language_summary, whose targets tests/eval/test_retrieval_quality.py enforces); NLU: the
model's intent accuracy and fallback rate on labelled messages (tools.eval.nlu's Rasa-venv
worker parses them as the server would; its floor is tests/rasa/test_nlu_quality.py's).
Progress goes to stdout as `@stage <name>` lines: build index, evaluate candidate, evaluate
running model.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from opastin.nlu_text import strip_annotations

NLU_FALLBACK = "nlu_fallback"


class EvaluationError(ValueError):
    """A labelled file the evaluation cannot read; the message names the file."""


def labelled_messages(paths: list[Path]) -> list[dict[str, str]]:
    """{"text", "intent"} from Rasa NLU files (`nlu:` examples) or conversation tests
    (`stories:` user steps with their intent), annotations stripped."""
    messages: list[dict[str, str]] = []
    for path in paths:
        files = sorted(path.glob("*.yml")) if path.is_dir() else [path]
        for file in files:
            try:
                data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as error:
                raise EvaluationError(f"{file}: not readable YAML ({error})") from None
            for block in data.get("nlu") or []:
                if "intent" in block and "examples" in block:
                    for line in str(block["examples"]).splitlines():
                        text = strip_annotations(line.strip().removeprefix("- ").strip())
                        if text:
                            messages.append({"text": text, "intent": block["intent"]})
            for story in data.get("stories") or []:
                for step in story.get("steps") or []:
                    if "user" in step and step.get("intent"):
                        text = strip_annotations(str(step["user"]).strip())
                        messages.append({"text": text, "intent": step["intent"]})
    if not messages:
        raise EvaluationError(f"no labelled messages in {', '.join(map(str, paths))}")
    return messages


def nlu_scores(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Intent accuracy (a fallback is a miss) and the share of messages the model fell back on."""
    n = len(rows)
    return {
        "n": n,
        "accuracy": sum(r["predicted"] == r["intent"] for r in rows) / n,
        "fallback": sum(r["predicted"] == NLU_FALLBACK for r in rows) / n,
    }


def floors() -> dict[str, float]:
    """The floors an evaluation was judged by, stored with it (the console shows them, and
    does not import the evaluation tools: they are not in its image)."""
    from tools.eval.nlu import NLU_ACCURACY_FLOOR
    from tools.eval.retrieval import HOLDOUT_ACC1, LANGUAGE_ACC1, MAX_FALLBACK, MIN_QUESTIONS

    return {
        "dev_acc1_per_language": LANGUAGE_ACC1,
        "languages_from_questions": MIN_QUESTIONS,
        "holdout_acc1_overall": HOLDOUT_ACC1,
        "fallback_max": MAX_FALLBACK,
        "nlu_accuracy": NLU_ACCURACY_FLOOR,
    }


def below_floors(languages: list[dict[str, Any]], nlu: dict[str, float]) -> list[str]:
    """What falls below the floors the evaluation tests use: a model with any is not published."""
    from tools.eval.nlu import NLU_ACCURACY_FLOOR

    missed = [f"{row['language']}: {what}" for row in languages for what in row["below"]]
    if not nlu["accuracy"] >= NLU_ACCURACY_FLOOR:
        missed.append(f"NLU accuracy {nlu['accuracy']:.3f} < {NLU_ACCURACY_FLOOR}")
    return missed


def _number(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def retrieval_rows(engine: Any, dev: list[Path], holdout: list[Path]) -> list[dict[str, Any]]:
    """Per language and ALL: dev and held-out acc@1, fallback rate and the targets missed."""
    from opastin.config import Settings
    from tools.eval.retrieval import evaluate_engine, language_summary, load_questions

    settings = Settings.from_env()
    dev_reports = [evaluate_engine(engine, p.name, load_questions(p), settings) for p in dev]
    held_reports = [evaluate_engine(engine, p.name, load_questions(p), settings) for p in holdout]
    return [
        {
            "language": row.language,
            "dev_n": row.dev_n,
            "dev_acc1": _number(row.dev_acc1),
            "holdout_n": row.holdout_n,
            "holdout_acc1": _number(row.holdout_acc1),
            "fallback": _number(row.fallback),
            "below": row.below(),
        }
        for row in language_summary(dev_reports, held_reports)
    ]


def nlu_evaluations(models: list[Path], labelled: list[Path]) -> list[dict[str, float]]:
    """Each model's scores on the labelled messages, from one Rasa-venv worker."""
    from tools.eval.nlu import run_worker

    messages = labelled_messages(labelled)
    with tempfile.TemporaryDirectory() as tmp:
        file = Path(tmp) / "labelled.json"
        file.write_text(json.dumps(messages, ensure_ascii=False), encoding="utf-8")
        result = run_worker(["predict", *map(str, models), "--labelled", str(file)], timeout=900)
    return [nlu_scores(rows) for rows in result["results"]]


def build_candidate_index(live: Path, target: Path, encoder: Any) -> str:
    """The corpus's index in `target`, starting from the live one's vectors (only changed
    passages are encoded: a full build takes minutes)."""
    from embeddings.index import INDEX_FILE, MANIFEST, PASSAGES_FILE, build_index
    from opastin.config import Settings

    settings = Settings.from_env()
    target.mkdir(parents=True, exist_ok=True)
    for name in (INDEX_FILE, PASSAGES_FILE, MANIFEST):
        if (live / name).exists():
            shutil.copyfile(live / name, target / name)
    manifest = build_index(settings.corpus_dir, target, encoder, settings.index_kind)
    return f"index: {manifest.passages} passages, {manifest.services} services"


def candidate(args: argparse.Namespace) -> dict[str, Any]:
    """Build the candidate's index, then evaluate it and (when given) the running model:
    one process, so the encoder and Rasa load once."""
    from embeddings.encoders import load_encoder
    from embeddings.search import SearchEngine
    from opastin.config import Settings

    settings = Settings.from_env()
    print("@stage build index", flush=True)
    encoder = load_encoder(settings.encoder_backend, settings.encoder_model)
    print(build_candidate_index(args.live_index, args.index, encoder), flush=True)
    pairs = [(args.model, args.index)]
    if args.running_model:
        pairs.append((args.running_model, args.running_index))
    languages = []
    for label, (_, index_dir) in zip(("candidate", "running model"), pairs, strict=False):
        print(f"@stage evaluate {label}", flush=True)
        engine = SearchEngine(
            index_dir, settings.corpus_dir, encoder, settings.answer_threshold,
            settings.lexical_weight,
        )  # fmt: skip
        languages.append(retrieval_rows(engine, args.dev, args.holdout))
    print("NLU: parsing the labelled messages with each model", flush=True)
    scores = nlu_evaluations([model for model, _ in pairs], args.nlu)
    sets = {"dev": args.dev, "holdout": args.holdout, "nlu": args.nlu}
    evaluations = [
        {
            "languages": rows,
            "nlu": {k: round(v, 4) for k, v in nlu.items()},
            "below": below_floors(rows, nlu),
            "floors": floors(),
            "sets": {name: [str(p) for p in paths] for name, paths in sets.items()},
        }
        for rows, nlu in zip(languages, scores, strict=True)
    ]
    return {"candidate": evaluations[0], "running": evaluations[1] if args.running_model else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.eval.candidate")
    parser.add_argument("--live-index", type=Path, required=True, help="vectors to start from")
    parser.add_argument("--index", type=Path, required=True, help="the candidate's index")
    parser.add_argument("--model", type=Path, required=True, help="the candidate model")
    parser.add_argument("--running-model", type=Path, help="also evaluate this model...")
    parser.add_argument("--running-index", type=Path, help="...with this index")
    for name in ("dev", "holdout", "nlu"):
        parser.add_argument(f"--{name}", type=Path, nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    if bool(args.running_model) != bool(args.running_index):
        parser.error("--running-model and --running-index go together")
    try:
        result = candidate(args)
    except (EvaluationError, OSError, RuntimeError, KeyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    print(f"below the floors: {', '.join(result['candidate']['below']) or 'nothing'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
