"""Turn a search result into a short answer and its machine-readable payload."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from embeddings.search import SearchResult
from knowledge.schema import Organisation, Service

PHRASES_FILE = Path(__file__).with_name("phrases.yaml")
FALLBACK_LANGUAGE = "en"


@lru_cache(maxsize=1)
def phrases() -> dict[str, dict[str, str]]:
    return yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8"))


def phrase(key: str, language: str, **values: str) -> str:
    table = phrases().get(language, {})
    template = table.get(key) or phrases()[FALLBACK_LANGUAGE][key]
    return template.format(**values)


def in_language(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts[FALLBACK_LANGUAGE]


def organisation_name(organisation: Organisation, language: str) -> str:
    return in_language(organisation.name, language)


def answer_text(result: SearchResult, language: str) -> str:
    """Who handles it, the next step, where (IHH desk), and the official link."""
    responsible = result.responsible
    first = responsible[0]
    service: Service = first.services[0].service
    lines = [
        phrase(
            "responsible",
            language,
            organisation=organisation_name(first.organisation, language),
            service=in_language(service.title, language),
        ),
        in_language(service.how_to, language),
    ]
    if service.at_ihh is True:
        lines.append(phrase("at_ihh", language))
    lines.append(phrase("link", language, url=str(service.url)))
    for other in responsible[1:]:
        other_service = other.services[0].service
        lines.append(
            phrase(
                "also",
                language,
                organisation=organisation_name(other.organisation, language),
                service=in_language(other_service.title, language),
            )
            + f" {other_service.url}"
        )
    return "\n".join(lines)


def service_payload(result: SearchResult, language: str) -> dict[str, Any]:
    """The custom payload: organisations (most responsible first), services with scores."""
    named = [o.organisation for o in result.responsible]
    return {
        "type": "service_answer",
        "organisations": [
            {"id": o.id, "name": organisation_name(o, language), "url": str(o.url)} for o in named
        ],
        "services": [
            {
                "id": hit.service.id,
                "title": in_language(hit.service.title, language),
                "organisation": hit.organisation.id,
                "url": str(hit.service.url),
                "score": round(hit.score, 4),
            }
            for hit in result.services
        ],
        "confidence": round(result.confidence, 4),
        "language": language,
    }


def no_answer_payload(reason: str, language: str, **extra: Any) -> dict[str, Any]:
    return {"type": "no_answer", "reason": reason, "language": language, **extra}
