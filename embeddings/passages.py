"""What gets embedded: several short passages per service, one per language.

A service becomes one passage per language it has text in: "<organisation>: <title>.
<description> <questions>" for en/fi/sv, and "<organisation>: <English title>. <questions>"
for the other languages, which only have typical questions. A query then meets a passage in its own
language; search keeps each service's best passage. Short, single-language passages embed
better than one long mixed-language text (see knowledge/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.schema import Corpus


@dataclass(frozen=True)
class Passage:
    service_id: str
    language: str
    text: str


def service_passages(corpus: Corpus) -> list[Passage]:
    passages: list[Passage] = []
    for organisation in corpus.organisations.values():
        for service in organisation.services:
            languages = dict.fromkeys([*service.title, *service.questions])
            for lang in languages:
                org_name = organisation.name.get(lang, organisation.name["en"])
                questions = " ".join(q.rstrip("?") + "?" for q in service.questions.get(lang, []))
                if lang in service.title:
                    body = f"{service.title[lang]}. {service.description[lang]} {questions}"
                else:
                    # Questions alone make short passages that match almost anything
                    # ("hub" vectors); the English title anchors them to their service.
                    body = f"{service.title['en']}. {questions}"
                passages.append(Passage(service.id, lang, f"{org_name}: {body}".strip()))
    return passages
