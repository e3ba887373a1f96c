"""Residence status from what people say: "I'm Italian", "soy mexicana", "я из Казахстана".

The clarifying question "Which describes you: EU/EEA, Nordic, other?" must not be asked when
the user has already said it. This module reads a nationality, a stated status ("EU citizen")
or a permit word ("EU Blue Card") out of a message and maps it to the `residence_status`
slot values. The words are data: countries and demonyms in knowledge/countries.yaml, the
phrases around them in actions/residence_cues.yaml, regular inflections in
actions/inflections.py. A demonym alone is not enough ("Finnish course", "German company"):
every template needs a person cue or an origin form (see residence_cues.yaml).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from actions.inflections import INFLECTORS, inflect
from knowledge.vocabulary import vocabulary
from opastin.yaml_files import read_yaml

COUNTRIES_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "countries.yaml"
CUES_FILE = Path(__file__).with_name("residence_cues.yaml")
STATUSES = tuple(vocabulary().residence_statuses)
GROUP_STATUS = {
    "nordic": "nordic",
    "eu_eea": "eu_eea",
    "switzerland": "eu_eea",  # registers like an EU citizen; the nationality slot says CH
    "uk": "non_eu",  # outside the EU since 2021
    "other": "non_eu",
}
PLACEHOLDER = re.compile(r"@(\w+)")
PLACEHOLDERS = {"name", "from", "of", "demonym", "as"}
# Messages are compared in lower case without diacritics; these letters have spellings that
# NFKD does not unify (Turkish dotless i, Arabic and Persian yeh and kaf, apostrophes).
CHARACTERS = str.maketrans(
    {"’": "'", "ʼ": "'", "`": "'", "ı": "i", "ي": "ی", "ى": "ی", "ك": "ک", "\u200c": " "}
)
EXPLICIT, PERMIT = 2, 1  # a stated nationality or status outranks a permit word


@dataclass(frozen=True)
class Residence:
    """What a message says about the user's residence status."""

    status: str  # eu_eea | nordic | non_eu
    nationality: str | None  # ISO 3166 code, when a country was named
    evidence: str  # the words that said it (normalised), for logs and tests
    explicit: bool  # a nationality or status statement, not just a permit word


def fold(text: str) -> str:
    """Lower case, no diacritics, unified letters: how messages and phrases are compared."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(CHARACTERS))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", plain)).strip()


class CuesError(ValueError):
    """The countries or cues file is malformed: says which file, language and entry."""


@dataclass(frozen=True)
class _Rule:
    regex: re.Pattern[str]
    rank: int
    status: str | None  # fixed status (status and permit phrases), else from the country
    forms: Mapping[str, frozenset[str]]  # folded form -> country codes (template rules)
    things: frozenset[str]
    boundaries: bool


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    rank: int
    status: str
    nationality: str | None
    evidence: str


class ResidenceReader:
    """Compiled from the two data files once; `read(text)` is a pure function of the text."""

    def __init__(self, countries: Mapping[str, Any], cues: Mapping[str, Any]) -> None:
        self.groups = {code: _group(code, entry) for code, entry in countries.items()}
        self.rules: list[_Rule] = []
        self.alone: dict[str, set[str]] = {}  # a whole message that is just a name
        for language, spec in (cues.get("languages") or {}).items():
            if language not in INFLECTORS:
                raise CuesError(f"{CUES_FILE.name}: unknown language {language!r}")
            self._add_language(language, spec or {}, countries)

    def _add_language(self, language: str, spec: Mapping[str, Any], countries: Mapping) -> None:
        irregular = spec.get("irregular") or {}
        forms: dict[str, dict[str, set[str]]] = {p: {} for p in PLACEHOLDERS}
        cities = {}
        for code, entry in countries.items():
            names = (entry.get("names") or {}).get(language) or []
            if language == "en":
                cities[code] = entry.get("cities") or []
            demonyms = (entry.get("demonyms") or {}).get(language) or []
            for placeholder, words in inflect(language, names, demonyms, irregular).items():
                for word in [*words, *(cities.get(code, []) if placeholder == "name" else [])]:
                    if folded := fold(word):
                        forms[placeholder].setdefault(folded, set()).add(code)
        not_alone = {fold(w) for w in spec.get("not_alone") or []}
        for placeholder in ("name", "from"):
            for form, codes in forms[placeholder].items():
                if form not in not_alone:
                    self.alone.setdefault(form, set()).update(codes)
        things = frozenset(fold(w) for w in spec.get("things") or [])
        boundaries = spec.get("boundaries", True)
        for template in spec.get("templates") or []:
            placeholders = PLACEHOLDER.findall(template)
            if len(placeholders) != 1 or placeholders[0] not in PLACEHOLDERS:
                raise CuesError(
                    f"{CUES_FILE.name}: {language}: template {template!r} needs exactly one of "
                    f"{', '.join('@' + p for p in sorted(PLACEHOLDERS))}"
                )
            table = forms[placeholders[0]]
            if not table:
                continue  # no forms for that placeholder in this language
            alternation = _trie_pattern(table)
            pattern = fold(template).replace(f"@{placeholders[0]}", f"(?P<form>{alternation})")
            self.rules.append(
                _Rule(_compile(pattern, boundaries, language), EXPLICIT, None,
                      _frozen(table), things, boundaries)
            )  # fmt: skip
        for section, rank in (("statuses", EXPLICIT), ("permits", PERMIT)):
            for status, patterns in (spec.get(section) or {}).items():
                if status not in STATUSES:
                    raise CuesError(f"{CUES_FILE.name}: {language}: unknown status {status!r}")
                for pattern in patterns:
                    regex = _compile(fold(pattern), boundaries, language)
                    self.rules.append(_Rule(regex, rank, status, {}, things, boundaries))

    def read(self, text: str) -> Residence | None:
        """The residence status the message states, or None when it states none."""
        folded = fold(text or "")
        if not folded:
            return None
        whole = re.sub(r"[^\w\s'.-]", "", folded).strip(" .")
        if whole in self.alone:
            candidate = self._country(whole, self.alone[whole], 0, len(folded), EXPLICIT)
            if candidate:
                return _residence(candidate)
        candidates = [c for rule in self.rules for c in self._matches(rule, folded)]
        # A phrase inside a longer one is part of it: "EU citizen" in "non-EU citizen".
        kept = [c for c in candidates if not any(_within(c, o) for o in candidates)]
        if not kept:
            return None
        best = min(kept, key=lambda c: (-c.rank, c.start, -(c.end - c.start)))
        return _residence(best)

    def _matches(self, rule: _Rule, text: str) -> Iterable[_Candidate]:
        for match in rule.regex.finditer(text):
            if _followed_by_thing(text[match.end() :], rule.things, rule.boundaries):
                continue
            if rule.status:
                yield _Candidate(match.start(), match.end(), rule.rank, rule.status, None, match[0])
                continue
            codes = rule.forms[match["form"]]
            candidate = self._country(match[0], codes, match.start(), match.end(), rule.rank)
            if candidate:
                yield candidate

    def _country(self, evidence: str, codes: Iterable[str], start: int, end: int, rank: int):
        codes = set(codes)
        statuses = {GROUP_STATUS[self.groups[code]] for code in codes}
        if len(statuses) != 1:
            return None  # a form shared by countries of different statuses says nothing
        nationality = next(iter(codes)) if len(codes) == 1 else None
        return _Candidate(start, end, rank, statuses.pop(), nationality, evidence)


def _within(inner: _Candidate, outer: _Candidate) -> bool:
    """`inner` lies inside the longer phrase `outer`."""
    longer = outer.end - outer.start > inner.end - inner.start
    return longer and outer.start <= inner.start and inner.end <= outer.end


def _group(code: str, entry: Mapping[str, Any]) -> str:
    group = (entry or {}).get("group")
    if group not in GROUP_STATUS:
        raise CuesError(
            f"{COUNTRIES_FILE.name}: {code}: group {group!r} is not one of {sorted(GROUP_STATUS)}"
        )
    return group


def _compile(pattern: str, boundaries: bool, language: str) -> re.Pattern[str]:
    wrapped = rf"(?<!\w)(?:{pattern})(?!\w)" if boundaries else pattern
    try:
        return re.compile(wrapped)
    except re.error as error:
        raise CuesError(f"{CUES_FILE.name}: {language}: bad pattern {pattern!r}: {error}") from None


def _trie_pattern(words: Iterable[str]) -> str:
    """One regex for many words, factored by common prefixes: compiles and matches far faster
    than a flat alternation of thousands of forms. Longer words are tried first."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [re.escape(char) + emit(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return emit(trie)


def _frozen(table: Mapping[str, set[str]]) -> dict[str, frozenset[str]]:
    return {form: frozenset(codes) for form, codes in table.items()}


def _followed_by_thing(rest: str, things: frozenset[str], boundaries: bool) -> bool:
    if not boundaries:
        return any(rest.lstrip().startswith(thing) for thing in things)
    word = re.match(r"[\s-]*([\w'-]+)", rest)
    return word is not None and word.group(1) in things


def _residence(candidate: _Candidate) -> Residence:
    return Residence(
        status=candidate.status,
        nationality=candidate.nationality,
        evidence=candidate.evidence,
        explicit=candidate.rank == EXPLICIT,
    )


@lru_cache(maxsize=1)
def reader() -> ResidenceReader:
    """Loaded once per process from knowledge/countries.yaml and actions/residence_cues.yaml."""
    countries = read_yaml(COUNTRIES_FILE)["countries"]  # 5 000 lines: the C parser matters
    cues = read_yaml(CUES_FILE)
    return ResidenceReader(countries, cues)


# Every turn with an empty status reads the conversation's earlier messages again (up to
# MESSAGES_LOOKED_BACK); each was read when it was the latest, so their answers are kept. Keys
# are message texts (at most 2,000 characters each, the connectors' limit).
READ_CACHE_SIZE = 2048


@lru_cache(maxsize=READ_CACHE_SIZE)
def residence_from_text(text: str) -> Residence | None:
    """What one message says about the user's residence status, if anything (Residence is
    frozen, so the cached answer can be shared)."""
    return reader().read(text)


def residence_from_messages(texts: Iterable[str]) -> Residence | None:
    """The first message (give them newest first) that says anything about the status."""
    for text in texts:
        said = residence_from_text(text)
        if said:
            return said
    return None


def residence_slots(
    current_status: str | None,
    latest_text: str,
    entity_found: bool,
    earlier_texts: Iterable[str] = (),
) -> dict[str, Any]:
    """Slot updates for this turn: `residence_status` and `nationality`, or nothing.

    The NLU entity (entity_found) keeps priority. What the latest message states fills an
    empty slot, and a stated nationality or status (not a permit word) also replaces a
    different earlier one: that is the user correcting it. An empty slot is also filled from
    earlier messages (newest first), so a status said anywhere in the conversation counts.
    """
    if entity_found:
        return {}
    said = residence_from_text(latest_text)
    if said and (current_status is None or (said.explicit and said.status != current_status)):
        return {"residence_status": said.status, "nationality": said.nationality}
    if said and said.explicit and said.nationality:
        return {"nationality": said.nationality}  # same status, now with the country
    if current_status is None:
        earlier = residence_from_messages(earlier_texts)
        if earlier:
            return {"residence_status": earlier.status, "nationality": earlier.nationality}
    return {}
