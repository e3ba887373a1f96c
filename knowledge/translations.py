"""The corpus in languages beyond en/fi/sv: one file per language in knowledge/translations/.

Why separate files: the organisation files are written and checked against sources in
English, Finnish and Swedish; a translation is a different job (done per language, by other
people, reviewed by native speakers), so each language lives in its own file and is merged
into the services' text maps at load time. A missing entry is not an error: the answer falls
back to English with a note. What is missing, what fails a check and what no native speaker
has reviewed is listed by `make translations`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, HttpUrl, ValidationError

from knowledge.schema import Corpus, Organisation, Service, Strict

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
TRANSLATED_FIELDS = ("title", "description", "how_to")


# The English texts a translation was made from, as a short hash: when the English changes
# (an audit corrects a fact), the translation no longer says the same and is not used (the
# answer falls back to English) until someone translates the new text and stamps it.
STAMP = Field(pattern=r"^[0-9a-f]{12}$")


class ServiceTexts(Strict):
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    how_to: str = Field(min_length=1)
    translated_from: str = STAMP
    url: HttpUrl | None = None  # the organisation's own page in this language, if it has one
    reviewed_by: str | None = Field(default=None, min_length=1)  # "Name, YYYY-MM-DD"


class OrganisationTexts(Strict):
    name: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    translated_from: str = STAMP
    url: HttpUrl | None = None
    reviewed_by: str | None = Field(default=None, min_length=1)


class TranslationFile(Strict):
    language: str = Field(pattern=r"^[a-z]{2}$")
    organisations: dict[str, OrganisationTexts] = Field(default_factory=dict)
    services: dict[str, ServiceTexts] = Field(default_factory=dict)


def translation_files(directory: Path = TRANSLATIONS_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


def load_translation(path: Path) -> tuple[TranslationFile | None, dict, list]:
    """The parsed file and the line of each field, or the problems found (loader.Problem)."""
    from knowledge.loader import Problem, field_name, line_for, read_mapping

    data, lines, problems = read_mapping(path, "language, organisations, services")
    if data is None:
        return None, lines, problems
    if data.get("language") != path.stem:
        line = line_for(lines, ("language",))
        problems.append(Problem(path, line, "language", "must equal the file name"))
    try:
        parsed = TranslationFile.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(item["loc"])
            problems.append(Problem(path, line_for(lines, loc), field_name(data, loc), item["msg"]))
        return None, lines, problems
    return (parsed if not problems else None), lines, problems


def unknown_ids(
    translation: TranslationFile, corpus: Corpus, lines: dict[tuple[str | int, ...], int]
) -> list[tuple[int, str, str]]:
    from knowledge.loader import line_for

    problems = []
    for org_id in translation.organisations:
        if org_id not in corpus.organisations:
            loc = ("organisations", org_id)
            problems.append((line_for(lines, loc), f"organisations.{org_id}", "unknown id"))
    services = corpus.services
    for service_id in translation.services:
        if service_id not in services:
            loc = ("services", service_id)
            problems.append((line_for(lines, loc), f"services.{service_id}", "unknown id"))
    return problems


def english_stamp(*texts: str) -> str:
    """The stamp of the English texts a translation renders (see STAMP)."""
    return hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:12]


def service_stamp(service: Service) -> str:
    return english_stamp(*(getattr(service, field)["en"] for field in TRANSLATED_FIELDS))


def organisation_stamp(organisation: Organisation) -> str:
    return english_stamp(organisation.name["en"], organisation.summary["en"])


def merge(corpus: Corpus, translations: dict[str, TranslationFile]) -> Corpus:
    """The corpus with every current translation added to its language maps (en/fi/sv win).

    An outdated translation (its English changed since) is left out: English with the
    "details in English" note is better than a text that says something else."""
    organisations: dict[str, Organisation] = {}
    for org_id, organisation in corpus.organisations.items():
        services = [_merged_service(s, translations) for s in organisation.services]
        name, summary, urls = dict(organisation.name), dict(organisation.summary), {}
        stamp = organisation_stamp(organisation)
        for lang, translation in translations.items():
            texts = translation.organisations.get(org_id)
            if texts is None or lang in organisation.name or texts.translated_from != stamp:
                continue
            name[lang], summary[lang] = texts.name, texts.summary
            if texts.url:
                urls[lang] = texts.url
        organisations[org_id] = organisation.model_copy(
            update={"name": name, "summary": summary, "urls": urls, "services": services}
        )
    return corpus.model_copy(update={"organisations": organisations})


def _merged_service(service: Service, translations: dict[str, TranslationFile]) -> Service:
    update: dict[str, dict] = {field: dict(getattr(service, field)) for field in TRANSLATED_FIELDS}
    urls = dict(service.urls)
    stamp = service_stamp(service)
    for lang, translation in translations.items():
        texts = translation.services.get(service.id)
        if texts is None or lang in service.title or texts.translated_from != stamp:
            continue
        for field in TRANSLATED_FIELDS:
            update[field][lang] = getattr(texts, field)
        if texts.url:
            urls[lang] = texts.url
    return service.model_copy(update={**update, "urls": urls})


# ------------------------------------------------------------------ structural checks
# A translation must keep what a reader copies or types: numbers (opening hours, form codes,
# street numbers, years), URLs, e-mail addresses and the proper names below, spelled as in
# the English text. Meaning is checked separately (cross-lingual similarity, tools/).
URL = re.compile(r"https?://\S+|\b[\w.-]+@[\w-]+\.[\w.]+|\b[a-z0-9-]+\.(?:fi|com|eu|org)\b")
DIGITS = re.compile(r"\d+")
PROTECTED_NAMES = re.compile(
    r"International House Helsinki|Enter Finland|Suomi\.fi|OmaKela|MyKela|OmaVero|MyTax|"
    r"Kela\b|Migri\b|DVV\b|Vero\b|Business Helsinki|Helsinki Partners|Startup Refugees|"
    r"Maria 01|InfoFinland|Työmarkkinatori|Job Market Finland|"
    r"[A-ZÄÖÅ][a-zäöå]+(?:katu|tie|kuja|tori|aukio|ranta|väylä|bulevardi|kaari|puistikko)\b"
)
# Names whose English form may be replaced by the organisation's own name in the translation.
EQUIVALENT_NAMES = {"MyTax": ("MyTax", "OmaVero"), "MyKela": ("MyKela", "OmaKela")}


def protected_parts(english: str) -> list[str]:
    """What must reappear unchanged in every translation of `english`."""
    parts = [m.rstrip(".,;:)") for m in URL.findall(english)]
    parts += DIGITS.findall(english)
    parts += PROTECTED_NAMES.findall(english)
    return list(dict.fromkeys(parts))


def lost_parts(english: str, translated: str) -> list[str]:
    """The protected parts of `english` that `translated` does not contain."""
    translated_digits = set(DIGITS.findall(translated))
    lost = []
    for part in protected_parts(english):
        if part.isdigit():
            if part not in translated_digits:
                lost.append(part)
        elif not any(alt in translated for alt in EQUIVALENT_NAMES.get(part, (part,))):
            lost.append(part)
    return lost


# ------------------------------------------------------------------ report
@dataclass(frozen=True)
class LanguageReport:
    language: str
    missing: list[str]  # ids of services/organisations without a text in this language
    lost: list[tuple[str, str, list[str]]]  # (id, field, protected parts not kept)
    outdated: list[str]  # ids whose English changed since the translation (not used)
    unreviewed: int  # entries no native speaker has reviewed
    entries: int


def report(corpus_en: Corpus, translations: dict[str, TranslationFile]) -> list[LanguageReport]:
    """Per language: what is missing, what fails a structural check, what is unreviewed.

    `corpus_en` is the corpus as the organisation files have it (before `merge`): the English
    text each translation is checked against.
    """
    reports = []
    services = corpus_en.services
    for lang, translation in sorted(translations.items()):
        missing = [i for i in corpus_en.organisations if i not in translation.organisations]
        missing += [i for i in services if i not in translation.services]
        lost: list[tuple[str, str, list[str]]] = []
        for org_id, org_texts in translation.organisations.items():
            english = corpus_en.organisations[org_id].summary["en"]
            if parts := lost_parts(english, org_texts.summary):
                lost.append((org_id, "summary", parts))
        for service_id, texts in translation.services.items():
            for field in TRANSLATED_FIELDS:
                english = getattr(services[service_id], field)["en"]
                if parts := lost_parts(english, getattr(texts, field)):
                    lost.append((service_id, field, parts))
        entries: list[OrganisationTexts | ServiceTexts] = [
            *translation.organisations.values(),
            *translation.services.values(),
        ]
        unreviewed = sum(1 for e in entries if e.reviewed_by is None)
        outdated = [
            i for i, t in translation.organisations.items()
            if t.translated_from != organisation_stamp(corpus_en.organisations[i])
        ] + [
            i for i, t in translation.services.items()
            if t.translated_from != service_stamp(services[i])
        ]  # fmt: skip
        reports.append(LanguageReport(lang, missing, lost, outdated, unreviewed, len(entries)))
    return reports
