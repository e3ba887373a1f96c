"""End-to-end dialogue evaluation over the real servers, per language.

    python -m tools.eval.dialogue [--sets dev holdout] [--out var/dialogue_eval.json]

Starts the action server and the Rasa server as `make run` does (the project's index and
model, free ports, a throwaway tracker store), sends every question of
evaluation/dev_questions.yaml and evaluation/holdout_questions.yaml as the first message of a
fresh conversation over REST, and reads the custom payload of the reply (docs/rest-api.md).

Columns, per language and set:
- top1: in-scope questions (orgs not empty) whose first named organisation (service_answer or
  checklist organisations[0]) is one of the expected ones; `top1 strict`: it is the first one.
- clarify: in-scope questions answered with a clarifying question (type clarification).
- fallback: all questions answered with no_answer / low_confidence.
- declined: out-of-scope and redirect questions (orgs []) for which no organisation is named
  as responsible: no organisation at all, or a redirect answer (`redirect: true`, an authority
  outside the ecosystem such as the police); `strict` counts only no organisation at all.
- lang ok: replies whose payload language is the question's language.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.vocabulary import vocabulary
from opastin.config import ROOT, Settings
from opastin.stack import ensure_index, ensure_model
from opastin.yaml_files import read_yaml
from tools.progress import progress_bar
from tools.servers import throwaway_stack

SETS = {
    "dev": ROOT / "evaluation" / "dev_questions.yaml",
    "holdout": ROOT / "evaluation" / "holdout_questions.yaml",
}
LANGUAGE_ORDER = vocabulary().languages.understood


def ask(url: str, sender: str, message: str) -> list[dict[str, Any]]:
    """One REST turn: the bot's messages."""
    request = urllib.request.Request(
        f"{url}/webhooks/rest/webhook",
        data=json.dumps({"sender": sender, "message": message}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"[]")


def payload_of(messages: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The reply's custom payload ({} when the bot sent none)."""
    return next((m["custom"] for m in messages if isinstance(m.get("custom"), dict)), {})


def named_organisations(payload: dict[str, Any]) -> list[str]:
    """Organisation ids the reply names as responsible, most responsible first."""
    if payload.get("type") in ("service_answer", "checklist", "handoff"):
        return [o["id"] if isinstance(o, dict) else o for o in payload.get("organisations", [])]
    return []


def judge(question: dict[str, Any], payload: dict[str, Any]) -> dict[str, Any]:
    """What one reply did, measured against the question's labels."""
    expected = list(question.get("orgs") or [])
    named = named_organisations(payload)
    kind = payload.get("type")
    return {
        "q": question["q"],
        "lang": question["lang"],
        "expected": expected,
        "type": kind,
        "reason": payload.get("reason"),
        "named": named,
        "in_scope": bool(expected),
        "top1": bool(expected) and bool(named) and named[0] in expected,
        "top1_strict": bool(expected) and bool(named) and named[0] == expected[0],
        "clarification": kind == "clarification",
        "fallback": kind == "no_answer" and payload.get("reason") == "low_confidence",
        "declined": not expected and (not named or bool(payload.get("redirect"))),
        "declined_strict": not expected and not named,
        "language_ok": payload.get("language") == question["lang"],
    }


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, float | int]:
    """Counts and shares for one group of judged replies."""
    in_scope = [r for r in rows if r["in_scope"]]
    out = [r for r in rows if not r["in_scope"]]

    def share(group: Sequence[dict[str, Any]], key: str) -> float:
        return sum(r[key] for r in group) / len(group) if group else float("nan")

    return {
        "n": len(rows),
        "in_scope": len(in_scope),
        "top1": share(in_scope, "top1"),
        "top1_strict": share(in_scope, "top1_strict"),
        "clarification": share(in_scope, "clarification"),
        "fallback": share(rows, "fallback"),
        "out_of_scope": len(out),
        "declined": share(out, "declined"),
        "declined_strict": share(out, "declined_strict"),
        "language_ok": share(rows, "language_ok"),
    }


def table(rows: Sequence[dict[str, Any]]) -> str:
    """A markdown table per language (and all) for one question set."""
    langs = [x for x in LANGUAGE_ORDER if any(r["lang"] == x for r in rows)]
    langs += sorted({r["lang"] for r in rows} - set(langs))
    lines = [
        "| lang | n | in scope | top1 | top1 strict | clarify | fallback | oos | declined "
        "| declined strict | lang ok |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for lang in [*langs, "all"]:
        group = [r for r in rows if lang in ("all", r["lang"])]
        s = summarise(group)

        def pct(value: float) -> str:
            return "-" if value != value else f"{100 * value:.0f}%"  # NaN: empty group

        lines.append(
            f"| {lang} | {s['n']} | {s['in_scope']} | {pct(s['top1'])} | {pct(s['top1_strict'])} "
            f"| {pct(s['clarification'])} | {pct(s['fallback'])} | {s['out_of_scope']} "
            f"| {pct(s['declined'])} | {pct(s['declined_strict'])} | {pct(s['language_ok'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Start the servers, ask every question, print the tables, save every reply."""
    parser = argparse.ArgumentParser(prog="python -m tools.eval.dialogue")
    parser.add_argument("--sets", nargs="+", choices=sorted(SETS), default=["dev", "holdout"])
    parser.add_argument("--out", type=Path, default=None, help="JSON file for every reply")
    args = parser.parse_args(argv)
    base = Settings.from_env()
    base.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_index(base)
    model = ensure_model(base)
    out = args.out or base.var_dir / "dialogue_eval.json"
    results: dict[str, list[dict[str, Any]]] = {}
    sets = {name: read_yaml(SETS[name]) for name in args.sets}
    with tempfile.TemporaryDirectory() as tmp, throwaway_stack(base, model, Path(tmp)) as stack:
        started = time.perf_counter()
        bar = progress_bar(sum(map(len, sets.values())), "dialogue evaluation", unit="question")
        with bar:
            for name, questions in sets.items():
                results[name] = []
                for number, question in enumerate(questions):
                    bar.set_postfix_str(f"{name} {question['lang']}")
                    messages = ask(stack.rasa_url, f"eval-{name}-{number}", question["q"])
                    row = judge(question, payload_of(messages))
                    results[name].append({**row, "reply": messages})
                    bar.update(1)
        seconds = time.perf_counter() - started
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, ensure_ascii=False, indent=1))
    print(f"model: {model.name}; {sum(map(len, results.values()))} questions in {seconds:.0f} s")
    for name, rows in results.items():
        print(f"\n{name} ({SETS[name].relative_to(ROOT)})")
        print(table(rows))
    print(f"\nevery reply: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
