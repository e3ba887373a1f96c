"""Prove that a reorganisation of bot/data/nlu kept every training example.

    python scripts/compare_nlu_examples.py REV

Compares the multiset of (intent, example) pairs of bot/data/nlu/*.yml at git revision REV
with the working tree, the example text exactly as written (entity annotations included),
and prints the examples per file. Exits 1 and names the pairs when anything was added, lost
or duplicated, so moving examples between files cannot silently change the training data.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
NLU_DIR = "bot/data/nlu"


def examples(text: str) -> list[tuple[str, str]]:
    """(intent, example line without its "- ") for every intent example of one NLU file."""
    data = yaml.safe_load(text) or {}
    return [
        (block["intent"], line.strip()[2:])
        for block in data.get("nlu", [])
        if "intent" in block
        for line in block["examples"].splitlines()
        if line.strip().startswith("- ")
    ]


def at_revision(rev: str) -> dict[str, list[tuple[str, str]]]:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout

    names = git("ls-tree", "--name-only", f"{rev}:{NLU_DIR}").split()
    return {
        name: examples(git("show", f"{rev}:{NLU_DIR}/{name}"))
        for name in names
        if name.endswith(".yml")
    }


def in_working_tree() -> dict[str, list[tuple[str, str]]]:
    return {
        path.name: examples(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / NLU_DIR).glob("*.yml"))
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    before = Counter(pair for pairs in at_revision(argv[0]).values() for pair in pairs)
    files = in_working_tree()
    after = Counter(pair for pairs in files.values() for pair in pairs)
    for name, pairs in files.items():
        if pairs:
            print(f"{name}: {len(pairs)} examples, {len({i for i, _ in pairs})} intents")
    print(f"total: {sum(before.values())} at {argv[0]}, {sum(after.values())} now")
    lost, added = before - after, after - before
    for label, pairs in (("lost", lost), ("added", added)):
        for (intent, text), count in sorted(pairs.items()):
            print(f"{label}: {intent}: {text!r} x{count}")
    if lost or added:
        return 1
    print("same (intent, example) multiset")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
