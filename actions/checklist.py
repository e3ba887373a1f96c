"""The newcomer checklist: "I just moved here, what do I do?", in order, for one's status.

The steps are data (knowledge/checklists.yaml: service ids per residence status); the text
of each step comes from the corpus, so the checklist never says more than the corpus does.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from actions.answers import Reply, in_language, link_text, organisation_name, phrase
from knowledge.schema import Corpus
from opastin.yaml_files import read_yaml

CHECKLISTS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "checklists.yaml"


@lru_cache(maxsize=1)
def checklists() -> dict[str, list[Any]]:
    return read_yaml(CHECKLISTS_FILE)


def steps_for(status: str, purpose: str | None) -> list[str]:
    """Service ids in order; a step may depend on the purpose of the move (work, study...)."""
    steps = []
    for step in checklists()[status]:
        if isinstance(step, dict):
            step = step.get(purpose or "default") or step["default"]
        steps.append(step)
    return steps


def checklist(
    corpus: Corpus, status: str, purpose: str | None, language: str, markdown: bool = False
) -> Reply:
    services = corpus.services
    lines = [phrase("checklist_intro", language, status=phrase(f"status_{status}", language))]
    organisations = []
    for number, service_id in enumerate(steps_for(status, purpose), start=1):
        service = services[service_id]
        organisation = corpus.organisation_of(service_id)
        name = organisation_name(organisation, language)
        link = link_text(service.url_in(language), markdown)
        lines.append(f"{number}. {in_language(service.title, language)} ({name}): {link}")
        if organisation.id not in organisations:
            organisations.append(organisation.id)
    custom = {
        "type": "checklist",
        "status": status,
        "steps": steps_for(status, purpose),
        "organisations": [
            {
                "id": o,
                "name": organisation_name(corpus.organisations[o], language),
                "url": str(corpus.organisations[o].url),
            }
            for o in organisations
        ],
        "language": language,
    }
    return Reply("\n".join(lines), custom)
