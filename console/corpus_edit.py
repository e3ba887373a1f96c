"""One staff-proposed change to a corpus file, as text: a typical question, an alias, or a text fix.

The change is spliced into the organisation file's YAML text at the node the change names, so
the rest of the file (its comments, quoting, flow lists) stays byte for byte as it was and the
diff a reviewer reads is exactly the change. The result is checked twice: by the knowledge
package's own validator (knowledge.loader.load_organisation, the same errors with field names
and lines as `python -m knowledge validate`), and by comparing the parsed data with the old
data plus the change, so a splice can never alter anything else.
"""

from __future__ import annotations

import copy
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from console.project import normalise
from knowledge.loader import SAFE_LOADER, Problem, load_organisation

KINDS = ("question", "alias", "text")
TEXT_FIELDS = ("title", "description", "how_to", "verify")
MAX_TEXT = {"question": 300, "alias": 60, "text": 2000}


class InvalidChange(ValueError):
    """The changed file fails the corpus validator; `problems` are its errors."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{p.field or '(file)'}: {p.reason}" for p in problems))


@dataclass(frozen=True)
class Change:
    """What a suggestion changes: a question or alias added to `questions.<language>` of a
    service, or the `<field>.<language>` text of a service replaced."""

    service_id: str
    kind: str
    language: str
    text: str
    field: str = ""

    @classmethod
    def from_json(cls, body: Any) -> Change:
        """From a request body; ValueError naming the field that is missing or wrong."""
        if not isinstance(body, dict):
            raise ValueError("expected a JSON object")
        kind = body.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}")
        values = {}
        for name in ("service", "language", "text"):
            value = body.get(name)
            if not isinstance(value, str):
                raise ValueError(f"{name}: expected a string")
            values[name] = value if name == "text" else value.strip()
        if len(values["text"]) > MAX_TEXT[kind]:
            raise ValueError(f"text: at most {MAX_TEXT[kind]} characters for a {kind}")
        field = body.get("field") or ""
        if kind == "text" and field not in TEXT_FIELDS:
            raise ValueError(f"field: expected one of {', '.join(TEXT_FIELDS)}")
        if kind != "text" and field:
            raise ValueError("field: only a text fix names a field")
        return cls(values["service"], kind, values["language"], values["text"], field)

    @property
    def organisation_id(self) -> str:
        return self.service_id.split(".", 1)[0]

    @property
    def where(self) -> str:
        """The field the change writes, as the validator names fields."""
        field = f"{self.field}.{self.language}" if self.kind == "text" else "questions"
        return f"services[{self.service_id}].{field}"


def organisation_file(corpus_dir: Path, service_id: str) -> Path:
    """The file that holds a service; LookupError when there is no such organisation."""
    path = corpus_dir / f"{service_id.split('.', 1)[0]}.yaml"
    if "." not in service_id or "/" in service_id or not path.is_file():
        raise LookupError(f"no service {service_id[:80]!r} in the corpus")
    return path


def _value(mapping: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(mapping, yaml.MappingNode):
        for key_node, value_node in mapping.value:
            if key_node.value == key:
                return value_node
    return None


def _service_node(root: yaml.Node | None, service_id: str) -> yaml.MappingNode:
    services = _value(root, "services") if root is not None else None
    for node in services.value if isinstance(services, yaml.SequenceNode) else []:
        if isinstance(node, yaml.MappingNode) and getattr(_value(node, "id"), "value", None) == (
            service_id
        ):
            return node
    raise LookupError(f"no service {service_id[:80]!r} in the corpus")


def _scalar(text: str) -> str:
    """A double-quoted YAML scalar (a JSON string is one) that fits on the line."""
    return json.dumps(text, ensure_ascii=False)


def _splice(text: str, at: int, end: int, new: str) -> str:
    return text[:at] + new + text[end:]


def _line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


def _insert_line(text: str, after: yaml.Node, line: str) -> str:
    """Insert a line (with its indent) after a node: a block collection's span ends at the
    next token (on a later line), a scalar's at its last character."""
    at = after.end_mark.index
    start = _line_start(text, at)
    if not text[start:at].strip():
        return _splice(text, start, start, f"{line}\n")
    return _splice(text, at, at, f"\n{line}")


def _add_question(text: str, service: yaml.MappingNode, change: Change) -> str:
    questions = _value(service, "questions")
    item = _scalar(change.text)
    if questions is None:  # no questions yet: a block after the service's last field
        indent = " " * service.value[0][0].start_mark.column
        block = f"{indent}questions:\n{indent}  {change.language}: [{item}]"
        return _insert_line(text, service.value[-1][1], block)
    if not isinstance(questions, yaml.MappingNode):
        raise ValueError(f"{change.where}: expected a mapping of languages in the file")
    listed = _value(questions, change.language)
    if listed is None:  # a new language in the questions mapping
        last = questions.value[-1][1] if questions.value else None
        if questions.flow_style or last is None:
            at = questions.end_mark.index - 1  # before the closing brace
            sep = ", " if questions.value else ""
            return _splice(text, at, at, f"{sep}{change.language}: [{item}]")
        indent = " " * questions.value[0][0].start_mark.column
        return _insert_line(text, last, f"{indent}{change.language}: [{item}]")
    if not isinstance(listed, yaml.SequenceNode):
        raise ValueError(f"{change.where}.{change.language}: expected a list in the file")
    known = {normalise(str(node.value)) for node in listed.value}
    if normalise(change.text) in known and change.text.strip():
        raise ValueError(
            f"{change.where}.{change.language}: {change.service_id} already has this question"
        )
    if listed.flow_style or not listed.value:
        at = listed.end_mark.index - 1  # before the closing bracket
        return _splice(text, at, at, (", " if listed.value else "") + item)
    last = listed.value[-1]
    indent = " " * (last.start_mark.column - 2)
    return _insert_line(text, last, f"{indent}- {item}")


def _replace_text(text: str, service: yaml.MappingNode, change: Change) -> tuple[str, str]:
    texts = _value(service, change.field)
    if texts is None:
        raise ValueError(f"{change.where}: {change.service_id} has no {change.field}")
    node = _value(texts, change.language)
    if not isinstance(node, yaml.ScalarNode):
        raise ValueError(
            f"{change.where}: no {change.language!r} text in the organisation file (texts in "
            f"other languages are in knowledge/translations/{change.language}.yaml)"
        )
    if node.value == change.text:
        raise ValueError(f"{change.where}: the new text is the same as the current one")
    block = node.style in ("|", ">")  # a block scalar's span ends with its line break
    replaced = _scalar(change.text) + ("\n" if block else "")
    return _splice(text, node.start_mark.index, node.end_mark.index, replaced), node.value


def _expected(data: dict[str, Any], change: Change) -> dict[str, Any]:
    """The old data with the change made on the parsed structure (the splice's reference)."""
    data = copy.deepcopy(data)
    service = next(s for s in data["services"] if s.get("id") == change.service_id)
    if change.kind == "text":
        service[change.field][change.language] = change.text
    else:
        questions = service.setdefault("questions", {})
        questions.setdefault(change.language, []).append(change.text)
    return data


def apply_change(text: str, change: Change) -> tuple[str, str | None]:
    """The file's new text with the change, and the text it replaces (text fixes); ValueError
    when the change does not fit the file, LookupError for an unknown service."""
    root = yaml.compose(text, Loader=SAFE_LOADER)
    service = _service_node(root, change.service_id)
    old: str | None = None
    if change.kind == "text":
        new_text, old = _replace_text(text, service, change)
    else:
        new_text = _add_question(text, service, change)
    before = yaml.load(text, Loader=SAFE_LOADER)
    try:
        after = yaml.load(new_text, Loader=SAFE_LOADER)
    except yaml.YAMLError:
        after = None
    if after != _expected(before, change):  # a bug here, never a silent wrong edit
        raise RuntimeError(f"{change.where}: the edit would change more than it says")
    return new_text, old


def validate(path: Path, new_text: str) -> list[Problem]:
    """The corpus validator's problems with the file as `new_text` (named as `path`)."""
    with tempfile.TemporaryDirectory(prefix="opastin-suggestion-") as tmp:
        candidate = Path(tmp) / path.name  # the validator checks the id against the name
        candidate.write_text(new_text, encoding="utf-8")
        _, problems, _ = load_organisation(candidate)
    return [Problem(path, p.line, p.field, p.reason) for p in problems]


def changed_file(corpus_dir: Path, change: Change) -> tuple[Path, str, str, str | None]:
    """(file, its current text, its text with the change, the replaced text) for a change
    the validator accepts; InvalidChange with the validator's problems otherwise."""
    path = organisation_file(corpus_dir, change.service_id)
    current = path.read_text(encoding="utf-8")
    new_text, old = apply_change(current, change)
    problems = validate(path, new_text)
    if problems:
        raise InvalidChange(problems)
    return path, current, new_text, old
