"""Command line: `python -m knowledge validate` checks the corpus, `stats` counts it."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from knowledge.loader import CORPUS_DIR, CorpusError, load_corpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge")
    parser.add_argument("command", choices=["validate", "stats"])
    parser.add_argument("--dir", type=Path, default=CORPUS_DIR, help="corpus folder")
    args = parser.parse_args(argv)
    try:
        corpus = load_corpus(args.dir)
    except CorpusError as error:
        print(error, file=sys.stderr)
        return 1
    services = corpus.services
    print(f"corpus OK: {len(corpus.organisations)} organisations, {len(services)} services")
    if args.command == "stats":
        languages: Counter[str] = Counter()
        for service in services.values():
            languages.update(service.questions.keys())
        for org in corpus.organisations.values():
            print(f"  {org.id:24} {len(org.services):3} services  ({org.kind})")
        print(
            "  services with questions per language: "
            + ", ".join(f"{lang} {n}" for lang, n in languages.most_common())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
