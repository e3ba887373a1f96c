"""Turn search results into short answers, questions and their machine-readable payloads.

Every builder returns a `Reply` (text, buttons, custom payload) so the action only decides
*which* reply to send; the wording lives in phrases/<language>.yaml and the corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from embeddings.search import SearchResult
from knowledge.schema import Corpus, Organisation, Service
from knowledge.vocabulary import vocabulary
from opastin.yaml_files import read_yaml

PHRASES_DIR = Path(__file__).with_name("phrases")
FALLBACK_LANGUAGE = vocabulary().languages.default
HANDOFF_ORGANISATION = "ihh"
# Other services of the answering organisation that scored this close to the one answered are
# offered as "ask me more precisely about ...": a broad question ("what about taxes here?")
# gets the organisation's best service and the way to the others.
CLOSE_SERVICE_MARGIN = 0.02
MORE_PRECISELY_MAX = 3
STATUS_OPTIONS = vocabulary().residence_statuses
MUNICIPALITY_OPTIONS = vocabulary().slot_municipalities
MUNICIPALITY_NAMES = vocabulary().municipalities


@dataclass
class Reply:
    text: str
    custom: dict[str, Any]
    buttons: list[dict[str, str]] = field(default_factory=list)


@lru_cache(maxsize=1)
def phrases() -> dict[str, dict[str, str]]:
    """Every language's phrases, keyed by language code (the file name)."""
    return {path.stem: read_yaml(path) for path in sorted(PHRASES_DIR.glob("*.yaml"))}


def phrase(key: str, language: str, **values: str) -> str:
    table = phrases().get(language, {})
    template = table.get(key) or phrases()[FALLBACK_LANGUAGE][key]
    return template.format(**values)


def in_language(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts[FALLBACK_LANGUAGE]


def organisation_name(organisation: Organisation, language: str) -> str:
    return in_language(organisation.name, language)


def organisation_ref(organisation: Organisation, language: str) -> dict[str, str]:
    return {
        "id": organisation.id,
        "name": organisation_name(organisation, language),
        "url": organisation.url_in(language),
    }


def link_text(url: str, markdown: bool) -> str:
    """The bare URL, or for the widget (which renders Markdown) a link labelled with the site.

    Why: a 90-character URL wraps over four lines of a phone screen; "vero.fi" does not.
    """
    if not markdown:
        return url
    return f"[{urlparse(url).netloc.removeprefix('www.')}]({url})"


def service_steps(service: Service, language: str) -> list[str]:
    """The next step for a service, with a note when the corpus has it only in English."""
    lines = [in_language(service.how_to, language)]
    if language not in service.how_to:
        lines.append(phrase("details_in_english", language))
    if service.at_ihh is True:
        lines.append(phrase("at_ihh", language))
    return lines


def answer(
    result: SearchResult,
    language: str,
    markdown: bool = False,
    changes: dict[str, str] | None = None,
) -> Reply:
    """Who handles it, the next step, where (IHH desk), and the official link.

    With `markdown` (the widget) the organisation is bold and links carry a short label.
    `changes` (term id -> line) say what changed when the user used an outdated name.
    """
    responsible = result.responsible
    first = responsible[0]
    service = first.services[0].service
    redirect = first.organisation.kind == "redirect"
    name = organisation_name(first.organisation, language)
    lines = [
        phrase(
            "redirect" if redirect else "responsible",
            language,
            organisation=f"**{name}**" if markdown else name,
            service=in_language(service.title, language),
        ),
        *(changes or {}).values(),
        *service_steps(service, language),
        phrase("link", language, url=link_text(service.url_in(language), markdown)),
    ]
    close = [
        hit.service
        for hit in first.services[1:]
        if first.services[0].score - hit.score <= CLOSE_SERVICE_MARGIN
    ][:MORE_PRECISELY_MAX]
    if close:
        topics = ", ".join(in_language(s.title, language) for s in close)
        lines.append(phrase("more_precisely", language, topics=topics))
    for other in responsible[1:]:
        other_service = other.services[0].service
        also = phrase(
            "also",
            language,
            organisation=organisation_name(other.organisation, language),
            service=in_language(other_service.title, language),
        )
        lines.append(f"{also} {link_text(other_service.url_in(language), markdown)}")
    custom = {
        "type": "service_answer",
        "organisations": [organisation_ref(o.organisation, language) for o in responsible],
        "services": services_payload(result, language),
        "confidence": round(result.confidence, 4),
        "language": language,
        "redirect": redirect,  # true: an authority outside the newcomer services (police...)
        "outdated_terms": list(changes or {}),  # knowledge/outdated_terms.yaml ids explained
    }
    return Reply("\n".join(lines), custom)


def services_payload(result: SearchResult, language: str) -> list[dict[str, Any]]:
    return [
        {
            "id": hit.service.id,
            "title": in_language(hit.service.title, language),
            "organisation": hit.organisation.id,
            "url": hit.service.url_in(language),
            "score": round(hit.score, 4),
        }
        for hit in result.services
    ]


def no_answer_payload(reason: str, language: str, **extra: Any) -> dict[str, Any]:
    return {"type": "no_answer", "reason": reason, "language": language, **extra}


def ask_detail(slot: str, result: SearchResult, language: str) -> Reply:
    """A clarifying question with one button per possible value (Rasa intent payloads)."""
    if slot == "residence_status":
        text = phrase("ask_status", language)
        options = [(value, phrase(f"status_{value}", language)) for value in STATUS_OPTIONS]
    else:
        text = phrase("ask_municipality", language)
        options = [
            (value, MUNICIPALITY_NAMES.get(value) or phrase("municipality_other", language))
            for value in MUNICIPALITY_OPTIONS
        ]
    buttons = [
        {"title": title, "payload": f'/inform{{"{slot}": "{value}"}}'} for value, title in options
    ]
    custom = {
        "type": "clarification",
        "slot": slot,
        "options": [value for value, _ in options],
        "services": services_payload(result, language),
        "language": language,
    }
    return Reply(text, custom, buttons)


def rephrase(result: SearchResult, language: str) -> Reply:
    """First miss: ask to rephrase, suggesting the nearest services as buttons."""
    suggestions = result.services[:3]
    lines = [phrase("unsure", language)]
    buttons = []
    if suggestions:
        lines.append(phrase("suggestions", language))
        for hit in suggestions:
            title = in_language(hit.service.title, language)
            label = f"{title} ({organisation_name(hit.organisation, language)})"
            buttons.append({"title": label, "payload": title})
    custom = no_answer_payload(
        "low_confidence",
        language,
        confidence=round(result.confidence, 4),
        suggestions=[hit.service.id for hit in suggestions],
    )
    return Reply("\n".join(lines), custom, buttons)


def handoff(corpus: Corpus, result: SearchResult, language: str, markdown: bool = False) -> Reply:
    """Second miss in a row: offer human help at International House Helsinki."""
    ihh = corpus.organisations[HANDOFF_ORGANISATION]
    custom = no_answer_payload(
        "low_confidence",
        language,
        confidence=round(result.confidence, 4),
        handoff=organisation_ref(ihh, language),
    )
    return Reply(phrase("second_miss", language, url=link_text(str(ihh.url), markdown)), custom)
