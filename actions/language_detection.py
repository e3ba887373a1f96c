"""Which language a user message is written in, offline, in little memory.

Why not lingua's high-accuracy mode: its models of our 16 detected languages take ~440 MB of
the action server's memory (docs/performance.md, "Language detection memory"). Instead:
1. a non-Latin script decides among its own languages (actions/scripts.yaml; one letter is
   enough for Han, kana and Hangul): letters only one of them writes, then the words of the
   languages' NLU examples (the lexicon vote below: "اقامت" is Persian), then lingua on the
   words in that script, so quoted Finnish names ("де зробити verokortti") cannot outvote it;
2. Latin text, without the words that are names in this domain ("Helsinki", "Kela": used in
   the NLU examples of NAME_LANGUAGES languages or more, none of which has most of their uses):
   the lexicon vote, the language whose NLU examples use most of its words (at least half, a
   word none uses matched by its beginning: "asumistki" -> "asumistuki"), decides where lingua's
   trigrams are lost ("Cuéntame un chiste" looks Finnish to them); otherwise lingua's
   low-accuracy (trigram) models of the Latin-script languages: the top language counts when
   it is nearly certain, or fairly sure and the message has a word of that language's examples.
   In a one- or two-word message the vote needs two words, or one and lingua's agreement, and
   only when the conversation has no language yet (a quoted Finnish term in a Somali
   conversation keeps it Somali).
The rules and thresholds were chosen with `python -m tools.eval.language` (tuned on the NLU
examples, evaluation/dev_* and evaluation/language_short_tune.yaml; reported on
evaluation/holdout_* and evaluation/language_short_holdout.yaml).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from knowledge.vocabulary import vocabulary
from opastin.config import ROOT
from opastin.nlu_text import nlu_examples
from opastin.yaml_files import read_yaml

SUPPORTED = vocabulary().languages.understood
ANSWERED = vocabulary().languages.answered
# Detected so that they are not taken for a language we answer in (Portuguese for Spanish),
# then answered in the default language like every language we do not answer in.
DETECTED = (*SUPPORTED, *vocabulary().languages.recognised_only)
DEFAULT_LANGUAGE = vocabulary().languages.default
SCRIPTS_FILE = Path(__file__).with_name("scripts.yaml")
NLU_DIR = ROOT / "bot" / "data" / "nlu"
# A message with at least this many letters of a non-Latin script is in one of its languages
# (a script's `min_letters` in actions/scripts.yaml may say fewer: one Han letter is enough).
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
# A word in the NLU examples of this many languages is a name, not a sign of a language ...
NAME_LANGUAGES = 5
# ... unless one language has this share of its uses ("permit": 19 of 24 examples are English).
NAME_HOME_SHARE = 0.75
# A word no example uses is matched by its beginning (Finnish endings, typos: "asumistki" ->
# "asumistuki"): its first max(STEM_LETTERS, length - STEM_ENDING) letters, for words this long.
STEM_LETTERS = 7
STEM_ENDING = 3
WORD = re.compile(r"[\w'‘’-]+")


class LanguageDataError(ValueError):
    """actions/scripts.yaml or an NLU file the detection reads is missing or wrong."""


@dataclass(frozen=True)
class Script:
    """A non-Latin writing system of detected languages (actions/scripts.yaml)."""

    name: str
    unicode: tuple[str, ...]  # how its letters' Unicode names begin
    languages: tuple[str, ...]
    letters: dict[str, frozenset[str]]  # per language, letters only it writes
    min_letters: int = MIN_SCRIPT_LETTERS  # letters that make a message one of its languages


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
        prefixes = item.get("unicode") or ()
        prefixes = (prefixes,) if isinstance(prefixes, str) else tuple(map(str, prefixes))
        least = item.get("min_letters", MIN_SCRIPT_LETTERS)
        if not languages or not prefixes or unknown or stray or type(least) is not int or least < 1:
            raise LanguageDataError(
                f"{SCRIPTS_FILE}: script {name!r} needs `unicode` and `languages` among the "
                f"detected ones {list(DETECTED)}, letters only for its languages, and "
                f"`min_letters` a positive whole number (unknown: {unknown}, not in its "
                f"languages: {stray}, min_letters: {least!r})"
            )
        found.append(Script(name, prefixes, languages, letters, least))
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
    """The non-Latin script with the most letters in `text` (at least its `min_letters`; the
    first in actions/scripts.yaml on a tie), and the words written in it; None for Latin-only
    (or letterless) text."""
    counts = Counter(s.name for s in map(_script_of_letter, text) if s is not None)
    enough = [s for s in scripts() if counts[s.name] >= s.min_letters]
    if not enough:
        return None
    script = max(enough, key=lambda s: counts[s.name])  # max keeps the first of equals
    words = [w for w in text.split() if any(_script_of_letter(c) == script for c in w)]
    return script, " ".join(words)


def by_letters(text: str, script: Script) -> str | None:
    """The one language of `script` whose own letters the text uses, if exactly one."""
    used = [lang for lang, letters in script.letters.items() if letters.intersection(text)]
    return used[0] if len(used) == 1 else None


def words_of(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def words_and_parts(text: str) -> set[str]:
    """The words of `text` and the parts of its hyphenated ones ("kela-kortti": "kortti")."""
    words = words_of(text)
    return words | {part for word in words if "-" in word for part in word.split("-") if part}


@dataclass(frozen=True)
class Lexicon:
    """Words of the NLU examples: the names shared by many languages, and each language's own."""

    names: frozenset[str]
    words: dict[str, frozenset[str]]
    sorted_words: tuple[str, ...] = ()  # every own word, for matching a word's beginning

    def languages_of(self, word: str) -> set[str]:
        """The languages whose examples use `word`; for a word none uses, those using a word
        that begins like it (STEM_LETTERS)."""
        found = {language for language, words in self.words.items() if word in words}
        if found or len(word) < STEM_LETTERS:
            return found
        stem = word[: max(STEM_LETTERS, len(word) - STEM_ENDING)]
        start = bisect.bisect_left(self.sorted_words, stem)
        similar = []
        for known in self.sorted_words[start:]:
            if not known.startswith(stem):
                break
            similar.append(known)
        return {lang for lang, words in self.words.items() if any(w in words for w in similar)}

    def leader(self, text: str) -> tuple[str, int] | None:
        """The language whose examples use the most words of `text` (names aside) and how many,
        when that is at least half of them and more than any other language's count."""
        words = [w for w in words_of(text) if w not in self.names]
        tally = Counter(lang for word in words for lang in self.languages_of(word))
        if not tally:
            return None
        (best, count), *others = tally.most_common(2)
        if others and others[0][1] == count:
            return None
        return (best, count) if 2 * count >= len(words) else None

    def vote(self, text: str, least: int = 1) -> str | None:
        """The `leader` of `text`, when its examples use at least `least` of the words."""
        found = self.leader(text)
        return found[0] if found is not None and found[1] >= least else None


def build_lexicon(
    examples: dict[str, list[str]],
    name_languages: int = NAME_LANGUAGES,
    home_share: float = NAME_HOME_SHARE,
) -> Lexicon:
    """Names: words (and parts of hyphenated words) in the examples of at least
    `name_languages` languages, none of which has `home_share` of the examples using it; every
    other word belongs to each language whose examples use it, or to that one language."""
    uses: dict[str, Counter[str]] = defaultdict(Counter)
    for language, texts in examples.items():
        for text in texts:
            for word in words_and_parts(text):
                uses[word][language] += 1
    names = set()
    own: dict[str, set[str]] = defaultdict(set)
    for word, by_language in uses.items():
        home, most = by_language.most_common(1)[0]
        if len(by_language) < name_languages:
            for language in by_language:
                own[language].add(word)
        elif most >= home_share * sum(by_language.values()):
            own[home].add(word)
        else:
            names.add(word)
    return Lexicon(
        frozenset(names),
        {language: frozenset(words) for language, words in own.items()},
        tuple(sorted(set().union(*own.values()))),
    )


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


def latin_language(text: str, first_message: bool = True) -> str | None:
    """The language of Latin-script text (see the module's docstring), or None if unsure.

    The NLU examples' words decide first. In a one- or two-word message they decide only when
    the conversation (or the page) has no language yet ("Kela kortti" in a Somali conversation
    is a quoted Finnish term, as the first message it is Finnish), and one word of them only
    with lingua's top language ("police" is in the French examples alone, but English too)."""
    rest = without_names(text)
    if not rest:
        return None
    short = len(rest.split()) <= SHORT_MESSAGE_WORDS
    leader = lexicon().leader(rest) if first_message or not short else None
    if leader is not None and leader[1] >= (2 if short else 1):
        return leader[0]
    voted = leader[0] if leader is not None else None  # one word: lingua must agree
    top = _top(_detector(latin_languages()), rest)
    if top is None:
        return None
    language, confidence = top
    if confidence >= LATIN_SURE or language == voted:
        return language
    if confidence < (MIN_CONFIDENCE_SHORT if short else LATIN_MIN_CONFIDENCE):
        return None
    own = lexicon().words.get(language, frozenset())
    return language if words_of(rest) & own else None


def message_language(text: str, first_message: bool = True) -> str | None:
    """The detected language `text` is surely written in (answered or not), or None when it
    says too little; `first_message`: the conversation has no language yet (latin_language)."""
    text = text.strip()
    if not text:
        return None
    found = script_of(text)
    if found is None:
        return latin_language(text, first_message)
    script, script_words = found
    if len(script.languages) == 1:
        return script.languages[0]
    return (
        by_letters(script_words, script)
        or lexicon().vote(script_words)
        or lingua_language(_detector(script.languages), script_words, len(text.split()))
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
    kept = fallback if fallback in ANSWERED else None
    detected = message_language(text, first_message=kept is None)
    if detected is None:
        return kept or DEFAULT_LANGUAGE
    return detected if detected in ANSWERED else DEFAULT_LANGUAGE
