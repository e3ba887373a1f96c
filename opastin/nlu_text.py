"""Rasa's NLU training examples as text, for every reader of bot/data/nlu.

The action server (language detection), the console (export, intent lookup), the benchmarks and
the evaluations all read examples; the file format and the annotation syntax live here once,
below all of them, so the action server does not depend on the console package.
"""

from __future__ import annotations

import re
from pathlib import Path

from opastin.yaml_files import read_yaml

ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def strip_annotations(text: str) -> str:
    """`I live in [Espoo](municipality)` -> `I live in Espoo`."""
    return ANNOTATION.sub(r"\1", text)


class NluFileError(ValueError):
    """An NLU file a reader needs is missing."""


def labelled_examples(path: Path) -> list[tuple[str, str]]:
    """(intent, example as written, annotations kept) for every intent example of one file."""
    if not path.is_file():
        raise NluFileError(f"{path}: NLU examples not found")
    return [
        (str(item["intent"]), line.strip().removeprefix("- ").strip())
        for item in (read_yaml(path) or {}).get("nlu", [])
        if "intent" in item
        for line in str(item.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def nlu_examples(path: Path) -> list[str]:
    """The examples of one NLU file as a user types them (entity annotations removed)."""
    return [strip_annotations(text).strip() for _, text in labelled_examples(path)]
