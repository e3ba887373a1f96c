"""Language detection evaluation: the answered-language decision of the action server's
detector (actions/language_detection.py: script first, lingua's low-accuracy models) against
the labelled language and against the previous detector (lingua's high-accuracy models of all
16 detected languages, ~440 MB), per language, for short (<= 2 words) and longer messages.

    python -m tools.eval.language [--set tune|holdout|all|short_tune|short_holdout]

Texts: "tune" is what the rule was decided on (bot/data/nlu/<lang>.yml examples and
evaluation/dev_*.yaml questions); "holdout" is evaluation/holdout_*.yaml, unseen while tuning.
"short_tune" and "short_holdout" are one- to four-word first messages
(evaluation/language_short_*.yaml, session 8), kept apart so that "all" stays comparable.
A decision is right when it is the language we answer a message of that label in (its own, or
the default for a language we do not answer in), "kept" when the detector is not sure (the
conversation keeps its language), and wrong otherwise (the conversation switches language).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from actions.language_detection import (
    ANSWERED,
    DEFAULT_LANGUAGE,
    SHORT_MESSAGE_WORDS,
)
from knowledge.vocabulary import vocabulary
from opastin.nlu_text import nlu_examples
from opastin.yaml_files import read_yaml

ROOT = Path(__file__).resolve().parents[2]
NLU_DIR = ROOT / "bot" / "data" / "nlu"
EVALUATION_DIR = ROOT / "evaluation"
TUNE_SETS = ("dev_questions.yaml", "dev_journey.yaml")
HOLDOUT_SETS = ("holdout_questions.yaml", "holdout_journey.yaml")
SHORT_SETS = {
    "short_tune": "language_short_tune.yaml",
    "short_holdout": "language_short_holdout.yaml",
}

Decide = Callable[[str], "str | None"]


@dataclass(frozen=True)
class Labelled:
    text: str
    language: str
    source: str


def nlu_texts(nlu_dir: Path, languages: Sequence[str]) -> list[Labelled]:
    """Every NLU example of each language's file, as a user types it."""
    return [
        Labelled(text, language, f"{language}.yml")
        for language in languages
        for text in nlu_examples(nlu_dir / f"{language}.yml")
    ]


def question_texts(path: Path) -> list[Labelled]:
    """The questions of an evaluation set (`q`, `lang`); a question without `lang` is an error."""
    texts = []
    for number, item in enumerate(read_yaml(path) or [], 1):
        if not isinstance(item, dict) or not item.get("q") or not item.get("lang"):
            raise ValueError(f"{path}: item {number} needs `q` and `lang`")
        texts.append(Labelled(str(item["q"]), str(item["lang"]), path.name))
    return texts


def labelled_set(name: str) -> list[Labelled]:
    if name in SHORT_SETS:
        return question_texts(EVALUATION_DIR / SHORT_SETS[name])
    understood = vocabulary().languages.understood
    tune = nlu_texts(NLU_DIR, understood) + [
        t for f in TUNE_SETS for t in question_texts(EVALUATION_DIR / f)
    ]
    holdout = [t for f in HOLDOUT_SETS for t in question_texts(EVALUATION_DIR / f)]
    return {"tune": tune, "holdout": holdout, "all": tune + holdout}[name]


def answered(language: str | None, answered_languages: Sequence[str], default: str) -> str | None:
    """The language a message detected as `language` is answered in (None: not sure)."""
    if language is None:
        return None
    return language if language in answered_languages else default


@dataclass
class Tally:
    n: int = 0
    right: int = 0
    kept: int = 0
    wrong: int = 0
    same_as_before: int = 0

    def add(self, expected: str, decision: str | None, before: str | None) -> None:
        self.n += 1
        self.right += decision == expected
        self.kept += decision is None
        self.wrong += decision not in (None, expected)
        self.same_as_before += decision == before

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            self.n + other.n,
            self.right + other.right,
            self.kept + other.kept,
            self.wrong + other.wrong,
            self.same_as_before + other.same_as_before,
        )

    def share(self, count: int) -> str:
        return f"{100 * count / self.n:.1f}" if self.n else "-"


@dataclass
class Row:
    """One language's (or ALL's) tallies: new and previous detector, short and longer texts."""

    language: str
    new: dict[str, Tally] = field(default_factory=lambda: {"short": Tally(), "long": Tally()})
    old: dict[str, Tally] = field(default_factory=lambda: {"short": Tally(), "long": Tally()})


def evaluate(
    texts: Iterable[Labelled],
    new: Decide,
    old: Decide,
    answered_languages: Sequence[str],
    default: str,
) -> list[Row]:
    """Per-language rows (in order of first appearance) and ALL, of both detectors' decisions."""
    rows: dict[str, Row] = {}
    total = Row("ALL")
    for item in texts:
        expected = answered(item.language, answered_languages, default)
        assert expected is not None
        length = "short" if len(item.text.split()) <= SHORT_MESSAGE_WORDS else "long"
        before = answered(old(item.text), answered_languages, default)
        after = answered(new(item.text), answered_languages, default)
        for row in (rows.setdefault(item.language, Row(item.language)), total):
            row.new[length].add(expected, after, before)
            row.old[length].add(expected, before, before)
    return [*rows.values(), total]


def first_message_right(texts: Sequence[Labelled], decide: Decide) -> int:
    """How many texts, each the first message of a conversation, get a reply in the right
    language: a message the detector is not sure of is answered in the default language."""
    return sum(
        (answered(decide(t.text), ANSWERED, DEFAULT_LANGUAGE) or DEFAULT_LANGUAGE)
        == answered(t.language, ANSWERED, DEFAULT_LANGUAGE)
        for t in texts
    )


def table(rows: Sequence[Row]) -> str:
    """Markdown: per language and length, n, right / kept / wrong % (new, then before), and
    how often the new decision equals the previous detector's."""
    lines = [
        "| language | length | n | right % new (before) | kept % new (before) "
        "| wrong % new (before) | same as before % |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lengths = [(length, row.new[length], row.old[length]) for length in ("short", "long")]
        if row.language == "ALL":
            lengths.append(("all", sum(row.new.values(), Tally()), sum(row.old.values(), Tally())))
        for length, a, b in lengths:
            if not a.n:
                continue
            lines.append(
                f"| {row.language} | {length} | {a.n} | {a.share(a.right)} ({b.share(b.right)}) "
                f"| {a.share(a.kept)} ({b.share(b.kept)}) | {a.share(a.wrong)} "
                f"({b.share(b.wrong)}) | {a.share(a.same_as_before)} |"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tools.eval.language", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--set", choices=("tune", "holdout", "all", *SHORT_SETS), default="holdout")
    args = parser.parse_args(argv)
    from actions import language_detection as detection

    previous = detection.build_detector(detection.DETECTED, high_accuracy=True)

    def before(text: str) -> str | None:
        """The detector before: lingua's high-accuracy models, all 16 languages at once."""
        text = text.strip()
        return detection.lingua_language(previous, text, len(text.split())) if text else None

    texts = labelled_set(args.set)
    rows = evaluate(
        texts, detection.message_language, before, detection.ANSWERED, detection.DEFAULT_LANGUAGE
    )
    print(f"## Language decision, set {args.set}: {len(texts)} texts")
    print(table(rows))
    total = rows[-1]
    new, old = sum(total.new.values(), Tally()), sum(total.old.values(), Tally())
    print(
        f"\nAs first messages (not sure: the default language, {DEFAULT_LANGUAGE}): "
        f"right {first_message_right(texts, detection.message_language)} of {new.n} "
        f"(before: {first_message_right(texts, before)}); wrong switches {new.wrong} "
        f"(before: {old.wrong})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
