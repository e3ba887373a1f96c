"""Load and validate the corpus; every error names the file, the line and the field."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from knowledge.schema import Corpus, Organisation
from knowledge.translations import (
    TRANSLATIONS_DIR,
    TranslationFile,
    load_translation,
    merge,
    translation_files,
    unknown_ids,
)
from opastin.yaml_files import SAFE_LOADER

CORPUS_DIR = Path(__file__).resolve().parent / "organisations"
Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    file: Path
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else str(self.file)
        return f"{where}: {self.field or '(file)'}: {self.reason}"


class CorpusError(ValueError):
    """The corpus is invalid; `problems` lists every error found, not only the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"invalid corpus ({len(problems)} problem(s)):\n{lines}")


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    return sorted(directory.glob("*.yaml"))


def translations_dir(directory: Path) -> Path | None:
    """The project's translations go with the project's corpus; another corpus has none."""
    return TRANSLATIONS_DIR if directory.resolve() == CORPUS_DIR else None


def corpus_hash(directory: Path = CORPUS_DIR) -> str:
    """Hash of every corpus file's name and bytes: changes exactly when the corpus does."""
    digest = hashlib.sha256()
    extra = translations_dir(directory)
    for path in corpus_files(directory) + (translation_files(extra) if extra else []):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def line_index(node: yaml.Node, loc: Loc = ()) -> Iterator[tuple[Loc, int]]:
    """Map each path in a composed YAML document to its 1-based line number."""
    yield loc, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield (*loc, key.value), key.start_mark.line + 1
            for sub_loc, line in line_index(value, (*loc, key.value)):
                if sub_loc != (*loc, key.value):
                    yield sub_loc, line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from line_index(item, (*loc, i))


def line_for(lines: dict[Loc, int], loc: Loc) -> int:
    while loc and loc not in lines:
        loc = loc[:-1]
    return lines.get(loc, 1)


def field_name(data: Any, loc: Loc) -> str:
    """Readable field path; list indices of services become their ids."""
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and part < len(node):
            item = node[part]
            label = item.get("id") if isinstance(item, dict) else None
            parts.append(f"[{label}]" if label else f"[{part}]")
            node = item
        else:
            parts.append(f".{part}" if parts else str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return "".join(parts)


def read_mapping(path: Path, expected: str) -> tuple[dict | None, dict[Loc, int], list[Problem]]:
    """A YAML file that must hold a mapping: its data and the line of every field, or the
    problem (bad YAML with its line, or not a mapping: `expected` says what should be there)."""
    text = path.read_text(encoding="utf-8")
    try:
        node = yaml.compose(text, Loader=SAFE_LOADER)
        data = yaml.load(text, Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        return None, {}, [Problem(path, line, "", f"not valid YAML: {error}")]
    if not isinstance(data, dict):
        return None, {}, [Problem(path, 1, "", f"expected a mapping with {expected}")]
    return data, dict(line_index(node)) if node is not None else {}, []


def load_organisation(path: Path) -> tuple[Organisation | None, list[Problem], dict[Loc, int]]:
    data, lines, problems = read_mapping(path, "id, name, services")
    if data is None:
        return None, problems, {}
    if data.get("id") != path.stem:
        problems.append(
            Problem(path, line_for(lines, ("id",)), "id", f"must equal the file name {path.stem!r}")
        )
    try:
        organisation = Organisation.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            loc = tuple(p for p in item["loc"] if p not in ("function-after",))
            # pydantic appends the union member name to the loc of union errors; drop it.
            loc = tuple(
                p for p in loc if not (isinstance(p, str) and p.startswith(("bool", "literal")))
            )
            problems.append(
                Problem(
                    path,
                    line_for(lines, loc),
                    field_name(data, loc),
                    item["msg"].removeprefix("Value error, "),
                )
            )
        return None, problems, lines
    return organisation, problems, lines


def load_corpus(directory: Path = CORPUS_DIR, translations: bool = True) -> Corpus:
    """Load every organisation file (and, for the project's corpus, every translation file);
    raise CorpusError listing all problems."""
    files = corpus_files(directory)
    if not files:
        raise CorpusError([Problem(directory, 0, "", "no *.yaml organisation files found")])
    problems: list[Problem] = []
    organisations: dict[str, tuple[Organisation, Path, dict[Loc, int]]] = {}
    for path in files:
        organisation, file_problems, lines = load_organisation(path)
        problems.extend(file_problems)
        if organisation is not None and not file_problems:
            organisations[organisation.id] = (organisation, path, lines)

    seen: dict[str, Path] = {}
    for organisation, path, lines in organisations.values():
        for i, service in enumerate(organisation.services):
            if service.id in seen:
                line = line_for(lines, ("services", i, "id"))
                reason = f"duplicate service id (also in {seen[service.id].name})"
                problems.append(Problem(path, line, f"services[{service.id}].id", reason))
            seen.setdefault(service.id, path)
    # A file that failed to load would make every reference into it look dead: check
    # references only once every file loaded.
    checkable = organisations.values() if not problems else []
    for organisation, path, lines in checkable:
        for i, service in enumerate(organisation.services):
            for j, ref in enumerate(service.related):
                if ref not in seen:
                    line = line_for(lines, ("services", i, "related", j))
                    field = f"services[{service.id}].related"
                    problems.append(Problem(path, line, field, f"unknown service id {ref!r}"))
    if problems:
        raise CorpusError(problems)
    corpus = Corpus(organisations={k: v[0] for k, v in sorted(organisations.items())})
    extra = translations_dir(directory) if translations else None
    return merge(corpus, load_translations(corpus, extra)) if extra else corpus


def load_translations(corpus: Corpus, directory: Path) -> dict[str, TranslationFile]:
    """Every translation file, checked against the corpus; raise CorpusError on problems."""
    problems: list[Problem] = []
    translations: dict[str, TranslationFile] = {}
    for path in translation_files(directory):
        parsed, lines, found = load_translation(path)
        if parsed is not None:
            found = [Problem(path, *problem) for problem in unknown_ids(parsed, corpus, lines)]
            if not found:
                translations[parsed.language] = parsed
        problems.extend(found)
    if problems:
        raise CorpusError(problems)
    return translations
