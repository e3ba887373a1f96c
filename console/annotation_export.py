"""Turn the inbox's current annotations into files a developer reviews and commits:

- NLU examples, one `<lang>.yml` per language in CONSOLE_ANNOTATED_NLU_DIR (default
  bot/data/nlu/annotated/), for messages whose intent was set (out of scope included); they
  join the training data at the next training, nothing is retrained here;
- labelled questions in CONSOLE_ANNOTATED_QUESTIONS (default evaluation/annotated.yaml), the
  format of evaluation/dev_questions.yaml, for messages whose organisation was set or that are
  out of scope; `make eval` and tests/eval/test_annotated_questions.py read them.

Each export rewrites both from all current annotations (an undone annotation disappears at the
next export). Texts already in the training data or in an evaluation set (ignoring case and
punctuation) are left out with a note, as are two annotations of one text that disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from console.project import Project, normalise
from opastin.config import ROOT
from opastin.yaml_files import read_yaml

NO_NLU_INTENTS = {"nlu_fallback"}
EVALUATION_DIR = ROOT / "evaluation"  # its *.yaml sets: no annotated question repeats one


@dataclass
class AnnotatedExport:
    """The files' texts (path -> text; None = remove the file) and what was left out, why."""

    files: dict[Path, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    examples: int = 0
    questions: int = 0

    def write(self) -> list[Path]:
        """Write (or remove) the files; returns the paths that changed."""
        written = []
        for path, text in self.files.items():
            if text is None:
                if path.exists():
                    path.unlink()
                    written.append(path)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                path.write_text(text, encoding="utf-8")
                written.append(path)
        return written


def existing_questions(paths: Iterable[Path]) -> set[str]:
    """Normalised questions of the evaluation sets, to avoid duplicates."""
    found: set[str] = set()
    for path in paths:
        try:
            items = read_yaml(path) or []
        except (OSError, yaml.YAMLError):
            continue
        found.update(normalise(str(i.get("q", ""))) for i in items if isinstance(i, dict))
    return found


def _example(text: str) -> str:
    # One line, and no square brackets (Rasa would read them as entity annotations).
    return " ".join(text.replace("[", "(").replace("]", ")").split())


def build_annotated_export(
    annotations: list[dict[str, Any]],
    project: Project,
    nlu_dir: Path,
    questions_file: Path,
    evaluation_sets: Iterable[Path],
    languages: Iterable[str] = (),
) -> AnnotatedExport:
    """The NLU files and the question file from every current annotation (oldest first).

    `languages` are those whose NLU file may exist from an earlier export (removed when no
    example is left for them).
    """
    result = AnnotatedExport()
    training = project.training_examples(exclude=nlu_dir)
    target = questions_file.resolve()
    asked = existing_questions(p for p in evaluation_sets if p.resolve() != target)
    nlu: dict[str, dict[str, list[str]]] = {}
    seen_nlu: dict[str, str] = {}
    questions: list[str] = []
    seen_questions: dict[str, tuple[str, ...]] = {}
    for a in annotations:
        where = f"{a['sender_id'][:40]} message {a['turn'] + 1} ({a['author']})"
        text = _example(a["text"])
        key = normalise(text)
        if not key:
            result.notes.append(f"{where}: empty text; left out")
            continue
        language = a.get("language")
        intent = a.get("intent")
        if intent and intent not in NO_NLU_INTENTS:
            if not language:
                result.notes.append(f"{where}: language unknown; not an NLU example")
            elif (known := training.get(key)) is not None:
                if known != intent:
                    result.notes.append(
                        f"{where}: {text[:60]!r} is a training example of {known} in bot/data; "
                        f"not added to {intent} (fix the training data instead)"
                    )
            elif seen_nlu.get(key, intent) != intent:
                result.notes.append(f"{where}: annotated {seen_nlu[key]} and {intent}; left out")
            elif key not in seen_nlu:
                seen_nlu[key] = intent
                nlu.setdefault(language, {}).setdefault(intent, []).append(text)
        orgs: tuple[str, ...] | None = None
        if a.get("out_of_scope"):
            orgs = ()
        elif a.get("organisation"):
            orgs = (a["organisation"],)
        if orgs is None:
            continue
        if not language:
            result.notes.append(f"{where}: language unknown; not a labelled question")
        elif key in asked:
            result.notes.append(f"{where}: {text[:60]!r} is already in an evaluation set")
        elif seen_questions.get(key, orgs) != orgs:
            result.notes.append(f"{where}: annotated with two different organisations; left out")
        elif key not in seen_questions:
            seen_questions[key] = orgs
            tags = ["annotated", "out_of_scope"] if not orgs else ["annotated"]
            entry = (
                f"- q: {json.dumps(text, ensure_ascii=False)}\n  lang: {language}\n"
                f"  orgs: [{', '.join(orgs)}]\n  tags: [{', '.join(tags)}]"
            )
            if a.get("service"):
                entry += f"\n  service: {a['service']}"
            questions.append(f"# {where}, {_day(a['created'])}\n{entry}")

    header = (
        "# Exported from the staff console's inbox annotations (python -m console "
        "export-annotations,\n# or Export in the inbox). Personal data is masked. Review with "
        "git diff; each export rewrites this file.\n"
    )
    for language in sorted(set(languages) | set(nlu)):
        path = nlu_dir / f"{language}.yml"
        intents = nlu.get(language)
        if not intents:
            result.files[path] = None
            continue
        blocks = [
            f"- intent: {intent}\n  examples: |\n" + "\n".join(f"    - {e}" for e in examples)
            for intent, examples in sorted(intents.items())
        ]
        result.examples += sum(len(e) for e in intents.values())
        result.files[path] = header + 'version: "3.1"\nnlu:\n' + "\n".join(blocks) + "\n"
    result.questions = len(questions)
    result.files[questions_file] = (
        header
        + "# Labelled questions in the format of evaluation/dev_questions.yaml (tag annotated);\n"
        + "# tests/eval/test_annotated_questions.py fails when one is answered wrongly.\n"
        + ("\n".join(questions) + "\n" if questions else "[]\n")
    )
    return result


def _day(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d")


def export_annotations(
    annotations: list[dict[str, Any]], project: Project, nlu_dir: Path, questions_file: Path
) -> tuple[AnnotatedExport, list[Path]]:
    """Rewrite the annotated NLU files and question file (the web page and the command line)."""
    previous = [p.stem for p in nlu_dir.glob("*.yml")]
    evaluation_sets = sorted(EVALUATION_DIR.glob("*.yaml"))
    result = build_annotated_export(
        annotations, project, nlu_dir, questions_file, evaluation_sets, previous
    )
    return result, result.write()
