"""The topic map of the newcomer journey (knowledge/topics.yaml) and its coverage.

Why: the corpus is a list of services per organisation; staff need to see which parts of a
newcomer's journey it answers and where it has nothing. The map uses the headings of the
multilingual public guides for immigrants; each leaf names the services that answer it.
Errors name the file, the line and the field, like the corpus loader's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from knowledge.loader import CorpusError, Loc, Problem, field_name, line_for, line_index
from knowledge.schema import REQUIRED_LANGUAGES, Corpus
from opastin.yaml_files import load_yaml

TOPICS_FILE = Path(__file__).resolve().parent / "topics.yaml"


class Topic(BaseModel):
    """A heading of the journey; a leaf (no children) names the services that answer it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: dict[str, str]
    services: list[str] = Field(default_factory=list)
    children: list[Topic] = Field(default_factory=list)

    @field_validator("title")
    @classmethod
    def _title(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in REQUIRED_LANGUAGES if not value.get(lang, "").strip()]
        if missing:
            raise ValueError(f"missing title language(s): {', '.join(missing)}")
        return value

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def walk(self, depth: int = 0) -> Iterator[tuple[int, Topic]]:
        yield depth, self
        for child in self.children:
            yield from child.walk(depth + 1)

    def all_services(self) -> set[str]:
        """Services of this topic and every topic below it."""
        found = set(self.services)
        for child in self.children:
            found |= child.all_services()
        return found


class TopicMap(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    topics: list[Topic] = Field(min_length=1)

    def walk(self) -> Iterator[tuple[int, Topic]]:
        for topic in self.topics:
            yield from topic.walk()

    def leaves(self) -> list[Topic]:
        return [topic for _, topic in self.walk() if topic.is_leaf]


def load_topics(corpus: Corpus, path: Path = TOPICS_FILE) -> TopicMap:
    """Load and check the map against the corpus; raise CorpusError listing every problem."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = load_yaml(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise CorpusError(
            [Problem(path, mark.line + 1 if mark else 0, "", f"not valid YAML: {error}")]
        ) from None
    lines = dict(line_index(node)) if node is not None else {}
    try:
        topic_map = TopicMap.model_validate(data)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            loc: Loc = tuple(item["loc"])
            reason = item["msg"].removeprefix("Value error, ")
            problems.append(Problem(path, line_for(lines, loc), field_name(data, loc), reason))
        raise CorpusError(problems) from None
    problems = list(_reference_problems(topic_map, corpus, path, lines, data))
    if problems:
        raise CorpusError(problems)
    return topic_map


def _reference_problems(
    topic_map: TopicMap, corpus: Corpus, path: Path, lines: dict[Loc, int], data: object
) -> Iterator[Problem]:
    """Unknown service ids, duplicate topic ids, services listed on a heading with children."""
    known = corpus.services
    seen: set[str] = set()

    def visit(topics: list[Topic], loc: Loc) -> Iterator[Problem]:
        for i, topic in enumerate(topics):
            here = (*loc, i)
            if topic.id in seen:
                yield Problem(
                    path, line_for(lines, (*here, "id")), field_name(data, (*here, "id")),
                    f"duplicate topic id {topic.id!r}",
                )  # fmt: skip
            seen.add(topic.id)
            if topic.children and topic.services:
                yield Problem(
                    path, line_for(lines, (*here, "services")),
                    field_name(data, (*here, "services")),
                    "a heading with children lists no services; put them on a leaf",
                )  # fmt: skip
            for j, service_id in enumerate(topic.services):
                if service_id not in known:
                    at = (*here, "services", j)
                    yield Problem(
                        path, line_for(lines, at), field_name(data, (*here, "services")),
                        f"unknown service id {service_id!r}",
                    )  # fmt: skip
            yield from visit(topic.children, (*here, "children"))

    yield from visit(topic_map.topics, ("topics",))


@dataclass(frozen=True)
class Coverage:
    """What the map covers: the printed tree, leaves without services, services in no topic."""

    lines: list[str]
    empty_leaves: list[str]
    unmapped_services: list[str]


def coverage(topic_map: TopicMap, corpus: Corpus) -> Coverage:
    lines = []
    for depth, topic in topic_map.walk():
        count = len(topic.all_services())
        mark = "  <- no service" if topic.is_leaf and not topic.services else ""
        lines.append(f"{'  ' * depth}{topic.title['en']} [{topic.id}]: {count}{mark}")
    mapped = {s for _, topic in topic_map.walk() for s in topic.services}
    return Coverage(
        lines=lines,
        empty_leaves=[t.id for t in topic_map.leaves() if not t.services],
        unmapped_services=sorted(set(corpus.services) - mapped),
    )
