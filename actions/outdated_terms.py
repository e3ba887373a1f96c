"""Outdated and colloquial names ("TE office", "maistraatti", "social security number"): the
organisation responsible today, and one line saying what changed (knowledge/outdated_terms.yaml).

Why: a newcomer who asks for the TE office should not be sent to something that closed in 2025
nor be told "I'm not sure"; they should get today's office and learn why the name changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from knowledge.vocabulary import vocabulary
from opastin.yaml_files import read_yaml

TERMS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "outdated_terms.yaml"


class Term(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    organisation: str
    facts: list[str] = Field(min_length=1)
    match: list[str] = Field(min_length=1)
    note: dict[str, str]


@dataclass(frozen=True)
class OutdatedTerm:
    term: Term
    patterns: tuple[re.Pattern[str], ...]

    def found_in(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)

    def note(self, language: str) -> str:
        return self.term.note.get(language) or self.term.note[vocabulary().languages.default]


@lru_cache(maxsize=1)
def outdated_terms() -> tuple[OutdatedTerm, ...]:
    """Every term, validated: each answered language has its line, each pattern compiles."""
    data = read_yaml(TERMS_FILE)
    terms = []
    for i, raw in enumerate(data["terms"]):
        term = Term.model_validate(raw)
        missing = set(vocabulary().languages.answered) - set(term.note)
        if missing:
            raise ValueError(f"{TERMS_FILE}: terms[{i}] ({term.id}).note lacks {sorted(missing)}")
        patterns = tuple(re.compile(p, re.IGNORECASE) for p in term.match)
        terms.append(OutdatedTerm(term, patterns))
    return tuple(terms)


def terms_in(text: str) -> list[OutdatedTerm]:
    return [term for term in outdated_terms() if term.found_in(text)]


def successors(terms: list[OutdatedTerm]) -> tuple[str, ...]:
    """The organisations responsible today for the outdated names found: search hints."""
    return tuple(dict.fromkeys(t.term.organisation for t in terms))
