"""Which language a user message is written in, offline, in little memory.

Why not lingua's high-accuracy mode: its models of our 16 detected languages take ~440 MB of
the action server's memory (docs/performance.md, "Language detection memory"). Instead:
1. a non-Latin script decides among its own languages (actions/scripts.yaml): letters only
   one of them writes, then lingua on the words in that script, so quoted Finnish names
   ("де зробити verokortti") cannot outvote it;
2. Latin text goes to lingua's low-accuracy (trigram) models of the Latin-script languages,
   without the words that are names in this domain ("Helsinki", "Kela", "henkilötunnus": used
   in the NLU examples of NAME_LANGUAGES languages or more); lingua's top language counts when
   it is nearly certain, or fairly sure and the message has a word of that language's NLU
   examples.
The rule and its thresholds were chosen with `python -m tools.eval.language` (tuned on the NLU
examples and evaluation/dev_*, reported on evaluation/holdout_*).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from knowledge.vocabulary import vocabulary
from opastin.config import ROOT
from opastin.nlu_text import strip_annotations
from opastin.yaml_files import read_yaml

SUPPORTED = vocabulary().languages.understood
ANSWERED = vocabulary().languages.answered
# Detected so that they are not taken for a language we answer in (Portuguese for Spanish),
# then answered in the default language like every language we do not answer in.
DETECTED = (*SUPPORTED, *vocabulary().languages.recognised_only)
DEFAULT_LANGUAGE = vocabulary().languages.default
SCRIPTS_FILE = Path(__file__).with_name("scripts.yaml")
NLU_DIR = ROOT / "bot" / "data" / "nlu"
# A message with at least this many letters of a non-Latin script is in one of its languages.
MIN_SCRIPT_LETTERS = 2
# One- and two-word messages ("skattekort", "Kela kortti") are often valid words of several
# languages: they change the conversation's (or the page's) language only when detection is sure.
SHORT_MESSAGE_WORDS = 2
MIN_CONFIDENCE_SHORT = 0.8
# Below this confidence (short or mixed messages, "Kela", "ok") keep the conversation's language;
# for lingua choosing between the languages of one non-Latin script.
MIN_CONFIDENCE = 0.5
# Latin script, low-accuracy models: a language this sure counts on its own ...
LATIN_SURE = 0.95
# ... one at least this sure only with a word of its NLU examples in the message.
LATIN_MIN_CONFIDENCE = 0.7
# A word in the NLU examples of this many languages is a name, not a sign of a language.
NAME_LANGUAGES = 5
WORD = re.compile(r"[\w'‘’-]+")


class LanguageDataError(ValueError):
    """actions/scripts.yaml or an NLU file the detection reads is missing or wrong."""


@dataclass(frozen=True)
class Script:
    """A non-Latin writing system of detected languages (actions/scripts.yaml)."""

    name: str
    unicode: str  # how its letters' Unicode names begin
    languages: tuple[str, ...]
    letters: dict[str, frozenset[str]]  # per language, letters only it writes


@lru_cache(maxsize=1)
def scripts() -> tuple[Script, ...]:
    """The scripts of actions/scripts.yaml, checked against the detected languages."""
    table: dict[str, dict[str, Any]] = read_yaml(SCRIPTS_FILE)
    found = []
    for name, item in table.items():
        languages = tuple(item.get("languages") or ())
        letters = {lang: frozenset(chars) for lang, chars in (item.get("letters") or {}).items()}
        unknown = [lang for lang in (*languages, *letters) if lang not in DETECTED]
        stray = [lang for lang in letters if lang not in languages]
        if not languages or not item.get("unicode") or unknown or stray:
            raise LanguageDataError(
                f"{SCRIPTS_FILE}: script {name!r} needs `unicode` and `languages` among the "
                f"detected ones {list(DETECTED)}, and letters only for its languages "
                f"(unknown: {unknown}, not in its languages: {stray})"
            )
        found.append(Script(name, str(item["unicode"]), languages, letters))
    return tuple(found)


def latin_languages() -> tuple[str, ...]:
    """The detected languages that no entry of actions/scripts.yaml claims."""
    claimed = {lang for script in scripts() for lang in script.languages}
    return tuple(lang for lang in DETECTED if lang not in claimed)


def _script_of_letter(char: str) -> Script | None:
    if not char.isalpha() or ord(char) <= 0x24F:  # Latin letters end with Latin Extended-B
        return None
    name = unicodedata.name(char, "")
    return next((s for s in scripts() if name.startswith(s.unicode)), None)


def script_of(text: str) -> tuple[Script, str] | None:
    """The non-Latin script with the most letters in `text` (at least MIN_SCRIPT_LETTERS), and
    the words written in it; None for Latin-only (or letterless) text."""
    counts: dict[str, int] = {}
    for char in text:
        script = _script_of_letter(char)
        if script is not None:
            counts[script.name] = counts.get(script.name, 0) + 1
    if not counts or max(counts.values()) < MIN_SCRIPT_LETTERS:
        return None
    name = max(counts, key=lambda n: counts[n])
    script = next(s for s in scripts() if s.name == name)
    words = [w for w in text.split() if any(_script_of_letter(c) == script for c in w)]
    return script, " ".join(words)


def by_letters(text: str, script: Script) -> str | None:
    """The one language of `script` whose own letters the text uses, if exactly one."""
    used = [lang for lang, letters in script.letters.items() if letters.intersection(text)]
    return used[0] if len(used) == 1 else None


def nlu_examples(path: Path) -> list[str]:
    """The examples of a Rasa NLU file as a user types them (entity annotations removed)."""
    if not path.is_file():
        raise LanguageDataError(f"{path}: NLU examples not found (language detection reads them)")
    return [
        strip_annotations(line.strip().removeprefix("- ")).strip()
        for item in (read_yaml(path) or {}).get("nlu", [])
        if "intent" in item
        for line in str(item.get("examples", "")).splitlines()
        if line.strip().startswith("- ")
    ]


def words_of(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


@dataclass(frozen=True)
class Lexicon:
    """Words of the NLU examples: the names shared by many languages, and each language's own."""

    names: frozenset[str]
    words: dict[str, frozenset[str]]


def build_lexicon(examples: dict[str, list[str]], name_languages: int = NAME_LANGUAGES) -> Lexicon:
    """Names: words in the examples of at least `name_languages` languages; every other word
    belongs to each language whose examples use it."""
    languages_of: dict[str, set[str]] = defaultdict(set)
    for language, texts in examples.items():
        for text in texts:
            for word in words_of(text):
                languages_of[word].add(language)
    names = frozenset(w for w, found in languages_of.items() if len(found) >= name_languages)
    own: dict[str, set[str]] = defaultdict(set)
    for word, found in languages_of.items():
        if word not in names:
            for language in found:
                own[language].add(word)
    return Lexicon(names, {language: frozenset(words) for language, words in own.items()})


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    """The lexicon of bot/data/nlu's examples of every understood language."""
    return build_lexicon({lang: nlu_examples(NLU_DIR / f"{lang}.yml") for lang in SUPPORTED})


def without_names(text: str) -> str:
    """`text` without the words that are names in this domain ("Helsinki", "Kela")."""
    names = lexicon().names
    return " ".join(w for w in text.split() if not words_of(w) or not words_of(w) <= names)


def build_detector(languages: Sequence[str], high_accuracy: bool = False) -> LanguageDetector:
    """A lingua detector for `languages`, models preloaded; low accuracy (trigram models) by
    default, which is all the action server loads."""
    chosen = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in languages]
    builder = LanguageDetectorBuilder.from_languages(*chosen)
    if not high_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.with_preloaded_language_models().build()


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...]) -> LanguageDetector:
    return build_detector(languages)


def _top(detector: LanguageDetector, text: str) -> tuple[str, float] | None:
    values = detector.compute_language_confidence_values(text)
    if not values:
        return None
    return values[0].language.iso_code_639_1.name.lower(), float(values[0].value)


def lingua_language(
    detector: LanguageDetector,
    text: str,
    words: int,
    least: float = MIN_CONFIDENCE,
    least_short: float = MIN_CONFIDENCE_SHORT,
) -> str | None:
    """lingua's language for `text` when it is sure enough for a message of `words` words."""
    top = _top(detector, text)
    needed = least_short if words <= SHORT_MESSAGE_WORDS else least
    return top[0] if top is not None and top[1] >= needed else None


def latin_language(text: str) -> str | None:
    """The language of Latin-script text (see the module's docstring), or None if unsure."""
    rest = without_names(text)
    top = _top(_detector(latin_languages()), rest) if rest else None
    if top is None:
        return None
    language, confidence = top
    if confidence >= LATIN_SURE:
        return language
    short = len(rest.split()) <= SHORT_MESSAGE_WORDS
    if confidence < (MIN_CONFIDENCE_SHORT if short else LATIN_MIN_CONFIDENCE):
        return None
    own = lexicon().words.get(language, frozenset())
    return language if words_of(rest) & own else None


def message_language(text: str) -> str | None:
    """The detected language `text` is surely written in (answered or not), or None when it
    says too little."""
    text = text.strip()
    if not text:
        return None
    found = script_of(text)
    if found is None:
        return latin_language(text)
    script, script_words = found
    if len(script.languages) == 1:
        return script.languages[0]
    return by_letters(script_words, script) or lingua_language(
        _detector(script.languages), script_words, len(text.split())
    )


def warm_up() -> None:
    """Read the data and load every detector's models now, not on the first user message."""
    lexicon()
    _detector(latin_languages())
    for script in scripts():
        if len(script.languages) > 1:
            _detector(script.languages)


def detect_language(text: str, fallback: str | None = None) -> str:
    """The language to answer a message in: its own when we answer in it, the default
    language when it is written in another one (never a third language), and `fallback`
    (the conversation's or the page's language, then the default) when the text says too
    little to tell."""
    fallback = fallback if fallback in ANSWERED else DEFAULT_LANGUAGE
    detected = message_language(text)
    if detected is None:
        return fallback
    return detected if detected in ANSWERED else DEFAULT_LANGUAGE
