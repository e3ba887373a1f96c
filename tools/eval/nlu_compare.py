"""NLU pipeline comparison: stratified cross-validation per language, then the server cost.

    python -m tools.eval.nlu [--folds 5] [--configs sparse dense dense_only] [--no-bench]

Runs in the actions venv and drives a worker in the Rasa venv (tools/eval/nlu.py): for each
pipeline in bot/configs/ it trains on the full NLU data once with an empty embedding cache
(the training time reported), then runs a k-fold stratified cross-validation with Rasa's own
`train_nlu` and `MessageProcessor.parse_message`, so the predicted intent is what the server
would predict (FallbackClassifier included: an `nlu_fallback` counts as a miss). It prints
intent accuracy and macro F1 overall and per language, picks the pipeline with the best mean
per-language accuracy, and measures that pipeline's Rasa server ready time and REST turn
p50/p95 with the real servers (a full model: the pipeline plus bot/config.yml's policies,
tools/eval/nlu_cost.py). Progress goes to stderr; the intent confusion matrix and per-language
accuracy bars go to var/reports/nlu-eval-<timestamp>/.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from knowledge.vocabulary import vocabulary
from opastin.config import Settings
from tools.eval.nlu import (
    CONFIGS_DIR,
    OUT_DIR,
    READY_GOAL_SECONDS,
    TIE_MARGIN,
    language_mean_accuracy,
    run_worker,
    summarise,
)
from tools.eval.nlu_cost import bench_pipeline
from tools.reports import charts
from tools.reports.page import ReportPage

LANGUAGE_ORDER = list(vocabulary().languages.understood)  # tables list languages in this order


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


def write_pictures(cv: dict[str, Any], best: str, reports_dir: Path) -> Path:
    """Per-language accuracy of every pipeline, and the best one's intent confusion matrix."""
    page = ReportPage.create("nlu-eval", reports_dir, "NLU pipelines: cross-validation")
    summaries = {name: summarise(data["results"]) for name, data in cv["pipelines"].items()}
    langs = [x for x in LANGUAGE_ORDER if any(x in s for s in summaries.values())]
    charts.grouped_bars(
        page.figure("accuracy_by_language", "Intent accuracy per language and pipeline"),
        [*langs, "all"],
        {
            name: [s[x]["accuracy"] if x in s else float("nan") for x in [*langs, "all"]]
            for name, s in summaries.items()
        },
        f"{cv['folds']}-fold cross-validation, intent accuracy",
        "accuracy",
    )
    rows = cv["pipelines"][best]["results"]
    charts.confusion_matrix(
        page.figure(
            "intent_confusion",
            f"Intent confusion matrix: {best}",
            "expected intent (rows) against the predicted one, nlu_fallback included",
        ),
        [r["intent"] for r in rows],
        [r["predicted"] for r in rows],
        f"{best}: {len(rows)} held-out predictions over {cv['folds']} folds",
    )
    page.text("Tables", format_tables(cv))
    return page.write()


def main(argv: list[str] | None = None) -> int:
    """Cross-validate the pipelines, print the tables, benchmark the recommended one."""
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
        ["cv", "--folds", str(args.folds), "--seed", str(args.seed), *map(str, configs)],
        steps=len(configs) * (args.folds + 1),  # each pipeline: full data, then every fold
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
    page = write_pictures(cv, ranked[0], Settings.from_env().var_dir / "reports")
    print(f"report (intent confusion matrix of {ranked[0]}, accuracy per language): {page}")
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
