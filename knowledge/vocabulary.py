"""The domain vocabulary (statuses, roles, municipalities, purposes, languages), loaded once.

Why: these values used to be typed again in the schema, the search, the answers, the language
detection and the tools, and drifted apart. knowledge/vocabulary.yaml is the one list; every
Python place reads it from here, and tests check the copies Rasa needs against it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from opastin.yaml_files import read_yaml

VOCABULARY_FILE = Path(__file__).resolve().parent / "vocabulary.yaml"
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2}$")


class VocabularyError(ValueError):
    """The vocabulary file is missing, not YAML, or breaks one of its rules."""


def _distinct(values: list[str], pattern: re.Pattern[str], what: str) -> list[str]:
    bad = [v for v in values if not isinstance(v, str) or not pattern.match(v)]
    if bad:
        raise ValueError(f"{', '.join(map(repr, bad))}: not {what}")
    repeated = sorted({v for v in values if values.count(v) > 1})
    if repeated:
        raise ValueError(f"listed twice: {', '.join(repeated)}")
    if not values:
        raise ValueError("empty")
    return values


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Languages(_Strict):
    understood: tuple[str, ...]
    main: tuple[str, ...]
    answered: tuple[str, ...]
    requestable: tuple[str, ...]
    recognised_only: tuple[str, ...] = ()
    default: str

    @field_validator(
        "understood", "main", "answered", "requestable", "recognised_only", mode="before"
    )
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        return _distinct(list(value), _LANGUAGE_CODE, "a two-letter language code")

    @model_validator(mode="after")
    def _known(self) -> Languages:
        for name in ("main", "answered", "requestable"):
            unknown = [c for c in getattr(self, name) if c not in self.understood]
            if unknown:
                raise ValueError(f"languages.{name} has {unknown} not in languages.understood")
        if overlap := set(self.recognised_only) & set(self.understood):
            raise ValueError(f"languages.recognised_only has {sorted(overlap)} already understood")
        for name in ("main", "answered", "requestable"):
            if self.default not in getattr(self, name):
                raise ValueError(f"languages.default {self.default!r} not in languages.{name}")
        return self


class Vocabulary(_Strict):
    residence_statuses: tuple[str, ...]
    roles: tuple[str, ...]
    audience_for_everyone: str
    municipalities: dict[str, str]
    municipality_elsewhere: str
    municipality_everywhere: str
    purposes: dict[str, tuple[str, ...]]
    languages: Languages

    @field_validator("residence_statuses", "roles", mode="before")
    @classmethod
    def _identifiers(cls, value: list[str]) -> list[str]:
        return _distinct(list(value), _IDENTIFIER, "a lower-case identifier")

    @model_validator(mode="after")
    def _consistent(self) -> Vocabulary:
        _distinct(
            [
                *self.municipalities,
                self.municipality_elsewhere,
                self.municipality_everywhere,
                *self.purposes,
            ],
            _IDENTIFIER,
            "a lower-case identifier",
        )
        _distinct(list(self.audiences), _IDENTIFIER, "a lower-case identifier")
        for purpose, roles in self.purposes.items():
            unknown = [r for r in roles if r not in self.roles]
            if unknown or not roles:
                raise ValueError(f"purposes.{purpose}: {unknown or 'no roles'} not in roles")
        return self

    @property
    def audiences(self) -> tuple[str, ...]:
        """Every value a corpus service's `audience` may take."""
        return (*self.residence_statuses, *self.roles, self.audience_for_everyone)

    @property
    def corpus_municipalities(self) -> tuple[str, ...]:
        """Every value a corpus service's `municipalities` may take."""
        return (*self.municipalities, self.municipality_everywhere)

    @property
    def slot_municipalities(self) -> tuple[str, ...]:
        """Every value of the dialogue's `municipality` slot (and the buttons that set it)."""
        return (*self.municipalities, self.municipality_elsewhere)


def load_vocabulary(path: Path = VOCABULARY_FILE) -> Vocabulary:
    """Read and check the vocabulary file; a VocabularyError names the file and the rule."""
    try:
        data = read_yaml(path)
    except (OSError, yaml.YAMLError) as error:
        raise VocabularyError(f"{path}: cannot read the vocabulary: {error}") from None
    try:
        return Vocabulary.model_validate(data)
    except ValidationError as error:
        problems = "\n".join(
            f"  {'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in error.errors()
        )
        raise VocabularyError(f"{path}: invalid vocabulary:\n{problems}") from None


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """The project's vocabulary, read once per process."""
    return load_vocabulary()
