"""Command line: `python -m embeddings build` writes the index; `search "tax card"` queries it."""

from __future__ import annotations

import argparse
import sys

from embeddings.encoders import load_encoder
from embeddings.index import IndexError_, build_index, is_current
from knowledge.loader import CorpusError
from knowledge.vocabulary import vocabulary
from opastin.config import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m embeddings")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the index if the corpus or model changed")
    build.add_argument("--force", action="store_true", help="rebuild even if up to date")
    search = sub.add_parser("search", help="print ranked services and organisations for a query")
    search.add_argument("query")
    search.add_argument("-k", type=int, default=8)
    search.add_argument("--municipality", choices=list(vocabulary().municipalities))
    search.add_argument("--status", choices=vocabulary().residence_statuses)
    search.add_argument("--purpose", choices=list(vocabulary().purposes))
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.command == "build":
        encoder = load_encoder(settings.encoder_backend, settings.encoder_model)
        if not args.force and is_current(
            settings.index_dir,
            settings.corpus_dir,
            encoder.backend,
            encoder.model,
            settings.index_kind,
        ):
            print(f"index up to date in {settings.index_dir}")
            return 0
        try:
            manifest = build_index(
                settings.corpus_dir, settings.index_dir, encoder, settings.index_kind
            )
        except CorpusError as error:
            print(f"{error}\nthe previous index (if any) was left in place", file=sys.stderr)
            return 1
        print(
            f"built {manifest.kind} index: {manifest.passages} passages, {manifest.services} "
            f"services, {manifest.organisations} organisations, {manifest.backend}/"
            f"{manifest.model}, {manifest.build_seconds} s -> {settings.index_dir}"
        )
        return 0

    from embeddings.search import Filters, SearchEngine

    try:
        engine = SearchEngine.from_settings(settings)
    except (IndexError_, CorpusError) as error:
        print(error, file=sys.stderr)
        return 1
    result = engine.search(
        args.query, Filters(args.municipality, args.status, purpose=args.purpose), k=args.k
    )
    verdict = "answer" if result.answered else "unsure (below threshold)"
    if result.searched != result.query:
        print(f"searched as: {result.searched}  (typos repaired)")
    print(f"confidence {result.confidence:.3f}, threshold {result.threshold:.3f}: {verdict}")
    print("services:")
    for hit in result.services:
        print(f"  {hit.score:.3f}  {hit.service.id:40} [{hit.language}] {hit.service.title['en']}")
    print("organisations:")
    for org in result.organisations:
        print(f"  {org.score:.3f}  {org.organisation.id:24} {org.organisation.name['en']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
