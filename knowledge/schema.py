"""Pydantic schema of the corpus; SCHEMA.md describes the same format for people."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator, model_validator

from knowledge.vocabulary import vocabulary

REQUIRED_LANGUAGES = vocabulary().languages.main
ORGANISATION_IDS = (
    "ihh",
    "city_immigration_advice",
    "migri",
    "dvv",
    "vero",
    "kela",
    "employment_services",
    "etk",
    "chamber",
    "business_helsinki",
    "helsinki_partners",
    "talent_centres",
    "maria01",
    "unitalent",
    "hanken_talent",
    "espoo",
    "vantaa",
    "ngo",
    "sak_employee_rights",
    "osh_authority",
    "unions_and_funds",
    "business_finland",
    "education_institutions",
    # issue 13: family, health, housing and everyday life
    "wellbeing_services",
    "helsinki",
    "infofinland",
)
REDIRECT_IDS = ("police", "traficom")

# Audience and Municipality spell out knowledge/vocabulary.yaml so that type checkers see the
# values; tests/unit/test_vocabulary.py fails when the two differ.
Audience = Literal[
    "eu_eea",
    "nordic",
    "non_eu",
    "student",
    "worker",
    "entrepreneur",
    "employer",
    "family",
    "jobseeker",
    "everyone",
]
Municipality = Literal["helsinki", "espoo", "vantaa", "all"]
Channel = Literal["online", "appointment", "walk_in", "phone", "email"]
IhhPresence = Literal["desk", "remote", "group_booking", "guidance", "no", "unverified"]
LanguageCode = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_texts(texts: dict[str, str], required: bool = True) -> dict[str, str]:
    missing = [lang for lang in REQUIRED_LANGUAGES if lang not in texts] if required else []
    if missing:
        raise ValueError(f"missing language(s): {', '.join(missing)}")
    for lang, text in texts.items():
        if len(lang) != 2 or not lang.isalpha() or not lang.islower():
            raise ValueError(f"{lang!r} is not a two-letter ISO 639-1 language code")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"empty text for language {lang!r}")
    return texts


class Source(Strict):
    url: HttpUrl
    facts: list[str] = Field(default_factory=list)
    checked: dt.date
    checked_by: str | None = Field(default=None, min_length=1)  # who read the page that day


class Service(Strict):
    id: str = Field(pattern=r"^[a-z0-9_]+\.[a-z0-9_]+$")
    title: dict[LanguageCode, str]
    description: dict[LanguageCode, str]
    how_to: dict[LanguageCode, str]
    audience: list[Audience] = Field(min_length=1)
    municipalities: list[Municipality] = Field(min_length=1)
    at_ihh: bool | Literal["unverified"]
    channels: list[Channel] = Field(min_length=1)
    url: HttpUrl
    questions: dict[LanguageCode, list[str]] = Field(default_factory=dict)
    related: list[str] = Field(default_factory=list)
    verify: dict[LanguageCode, str] | None = None
    sources: list[Source] = Field(min_length=1)
    # Filled from knowledge/translations/: the organisation's own page in another language.
    urls: dict[LanguageCode, HttpUrl] = Field(default_factory=dict)

    @field_validator("title", "description", "how_to")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_texts(value)

    @field_validator("verify")
    @classmethod
    def _verify(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        return None if value is None else _check_texts(value)

    @field_validator("questions")
    @classmethod
    def _questions(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for lang, items in value.items():
            _check_texts({lang: "x"}, required=False)
            if any(not isinstance(q, str) or not q.strip() for q in items):
                raise ValueError(f"empty question in language {lang!r}")
        return value

    @property
    def organisation_id(self) -> str:
        return self.id.split(".", 1)[0]

    def url_in(self, language: str) -> str:
        """The official page in `language` where the organisation has one, else the default."""
        return str(self.urls.get(language) or self.url)


class Organisation(Strict):
    id: str
    kind: Literal["organisation", "redirect"] = "organisation"
    name: dict[LanguageCode, str]
    summary: dict[LanguageCode, str]
    url: HttpUrl
    at_ihh: IhhPresence
    sources: list[Source] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    urls: dict[LanguageCode, HttpUrl] = Field(default_factory=dict)  # as Service.urls

    @field_validator("name", "summary")
    @classmethod
    def _texts(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_texts(value)

    @model_validator(mode="after")
    def _ids(self) -> Organisation:
        known = REDIRECT_IDS if self.kind == "redirect" else ORGANISATION_IDS
        if self.id not in known:
            raise ValueError(
                f"unknown {self.kind} id {self.id!r}; expected one of {', '.join(known)}"
            )
        for service in self.services:
            if service.organisation_id != self.id:
                raise ValueError(f"service id {service.id!r} must start with '{self.id}.'")
        return self

    def url_in(self, language: str) -> str:
        return str(self.urls.get(language) or self.url)


class Corpus(Strict):
    organisations: dict[str, Organisation]

    @property
    def services(self) -> dict[str, Service]:
        return {s.id: s for org in self.organisations.values() for s in org.services}

    def organisation_of(self, service_id: str) -> Organisation:
        return self.organisations[service_id.split(".", 1)[0]]
