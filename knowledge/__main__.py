"""Command line: `python -m knowledge validate | stats | coverage | audit | translations`.

validate checks the corpus (and the topic map), stats counts it, coverage prints the topic map
with service counts and what is not covered, audit lists what is due for re-checking,
translations what each language's file lacks, what fails a check and what is unreviewed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from pathlib import Path

from knowledge.audit import RECHECK_MONTHS, audit, format_report
from knowledge.loader import CORPUS_DIR, CorpusError, load_corpus, load_translations
from knowledge.schema import Corpus
from knowledge.topics import TOPICS_FILE, coverage, load_topics
from knowledge.translations import (
    TRANSLATIONS_DIR,
    organisation_stamp,
    report,
    service_stamp,
)


def _stats(corpus: Corpus) -> None:
    languages: Counter[str] = Counter()
    for service in corpus.services.values():
        languages.update(service.questions.keys())
    for org in corpus.organisations.values():
        print(f"  {org.id:24} {len(org.services):3} services  ({org.kind})")
    print(
        "  services with questions per language: "
        + ", ".join(f"{lang} {n}" for lang, n in languages.most_common())
    )


def _stamp(language: str, ids: list[str]) -> int:
    """Mark entries as translated from the current English (after updating their texts)."""
    english = load_corpus(translations=False)
    path = TRANSLATIONS_DIR / f"{language}.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    stamps = {i: organisation_stamp(o) for i, o in english.organisations.items()}
    stamps |= {i: service_stamp(s) for i, s in english.services.items()}
    for entry_id in ids:
        if entry_id not in stamps:
            print(f"unknown id {entry_id!r}", file=sys.stderr)
            return 2
        start = lines.index(f"  {entry_id}:\n")
        at = next(i for i in range(start + 1, len(lines)) if "translated_from:" in lines[i])
        lines[at] = f"    translated_from: {stamps[entry_id]}\n"
    path.write_text("".join(lines), encoding="utf-8")
    print(f"{path}: stamped {len(ids)} entr{'y' if len(ids) == 1 else 'ies'}")
    return 0


def _translations(directory: Path, language: str | None) -> int:
    """Print each language's gaps; exit 1 when a translation loses a protected part."""
    english = load_corpus(directory, translations=False)
    files = load_translations(english, TRANSLATIONS_DIR)
    if language:
        files = {k: v for k, v in files.items() if k == language}
    total = len(english.organisations) + len(english.services)
    failed = False
    for item in report(english, files):
        print(
            f"{item.language}: {item.entries}/{total} entries, {len(item.missing)} missing, "
            f"{len(item.lost)} failing a check, {len(item.outdated)} outdated (English changed "
            f"since; not used), {item.unreviewed} not reviewed by a native speaker"
        )
        if item.outdated:
            print(f"  outdated: {', '.join(item.outdated)}")
        for entry_id, field, parts in item.lost:
            print(f"  {entry_id}.{field}: lost {', '.join(parts)}")
        if item.missing:
            print(
                f"  missing: {', '.join(item.missing[:12])}"
                + (" ..." if len(item.missing) > 12 else "")
            )
        failed = failed or bool(item.lost)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m knowledge")
    parser.add_argument(
        "command", choices=["validate", "stats", "coverage", "audit", "translations"]
    )
    parser.add_argument("--dir", type=Path, default=CORPUS_DIR, help="corpus folder")
    parser.add_argument(
        "--topics", type=Path, help="topic map file (default: knowledge/topics.yaml when --dir "
        "is the project's corpus; another corpus is checked without a map unless given)",
    )  # fmt: skip
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--months", type=int, default=RECHECK_MONTHS, help="re-check interval")
    parser.add_argument("--language", help="translations: only this language")
    parser.add_argument(
        "--stamp", nargs="+", metavar="ID",
        help="translations: mark these entries as translated from today's English",
    )  # fmt: skip
    args = parser.parse_args(argv)
    try:
        corpus = load_corpus(args.dir)
        topics = args.topics or (TOPICS_FILE if args.dir == CORPUS_DIR else None)
        topic_map = load_topics(corpus, topics) if topics else None
    except CorpusError as error:
        print(error, file=sys.stderr)
        return 1
    services = corpus.services
    print(f"corpus OK: {len(corpus.organisations)} organisations, {len(services)} services")
    if args.command == "stats":
        _stats(corpus)
    elif args.command == "coverage":
        if topic_map is None:
            print("no topic map: pass --topics FILE", file=sys.stderr)
            return 2
        report = coverage(topic_map, corpus)
        print("\n".join(report.lines))
        print(f"leaves without services ({len(report.empty_leaves)}): "
              + (", ".join(report.empty_leaves) or "none"))  # fmt: skip
        print(f"services in no topic ({len(report.unmapped_services)}): "
              + (", ".join(report.unmapped_services) or "none"))  # fmt: skip
    elif args.command == "translations" and args.stamp:
        if not args.language:
            print("--stamp needs --language", file=sys.stderr)
            return 2
        return _stamp(args.language, args.stamp)
    elif args.command == "translations":
        return _translations(args.dir, args.language)
    elif args.command == "audit":
        print(format_report(audit(corpus, args.today, args.months), args.today, args.months))
    return 0


if __name__ == "__main__":
    sys.exit(main())
